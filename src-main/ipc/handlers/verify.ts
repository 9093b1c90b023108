import { FerryError } from '../../core/base/errors/index.js';
import {
  verifyBundle,
  type ArtifactResult,
  type VerifyReport,
} from '../../core/bundle/verify/verify-bundle.js';
import type { VerifySummary } from '../contract.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { isArchiveDir } from '../../core/media/import/archive-head.js';
function verifySummary(r: VerifyReport): VerifySummary {
  return {
    ok: r.ok,
    verified: r.verified,
    bundleId: r.bundleId,
    signature: { ...r.signature },
    counts: r.counts,
    bytes: r.bytes,
    seconds: r.seconds,
    extras: r.extras,
  };
}

function artifactItem(r: ArtifactResult): Record<string, unknown> {
  return {
    type: 'verify.artifact',
    id: r.id,
    kind: r.kind,
    name: r.name,
    status: r.status,
    bytes: r.bytes,
    problems: r.problems,
    ...(r.hint ? { hint: r.hint } : {}),
  };
}

/** verify.start: every file of a bundle folder hashed against its signed manifest. */
export function verifyHandlers(s: AppServices): Pick<Handlers, 'verify.start'> {
  return {
    'verify.start': async ({ bundle, allowUntrusted, allowUnsigned }) => {
      const dir = s.picks.resolve(bundle.token, 'bundle');
      if (await isArchiveDir(dir)) {
        // Checking an archive in place would read every part twice; import checks it once.
        throw new FerryError('USAGE', 'An archive export is checked while it is imported into the store.', {
          artifact: dir,
          hint: 'Use "Import and check": the signature first, then every part and every file.',
        });
      }
      const job = s.jobs.start('verify', async (ctx) => {
        const report = await verifyBundle(dir, {
          allowUntrusted,
          allowUnsigned,
          keyStore: s.keyStore,
          signal: ctx.signal,
          progress: ctx.progress,
          onProgress: () => ctx.report(),
          onChecking: (id) => ctx.item({ type: 'verify.checking', id }),
          onPlan: (artifacts) => ctx.item({ type: 'verify.plan', artifacts }),
          onArtifact: (r) => ctx.item(artifactItem(r)),
        });
        ctx.progress.setPhase(report.ok ? 'verified' : 'problems found');
        return verifySummary(report);
      });
      return { jobId: job.id };
    },
  };
}
