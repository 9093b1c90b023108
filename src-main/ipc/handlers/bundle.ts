import path from 'node:path';
import { openBundle } from '../../core/bundle/reader.js';
import { FerryError } from '../../core/base/errors/index.js';
import { HashPool } from '../../core/bundle/verify/hash-pool.js';
import {
  verifyBundle,
  type ArtifactResult,
  type VerifyReport,
} from '../../core/bundle/verify/verify-bundle.js';
import type { BundleSummary, VerifySummary } from '../contract.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { isArchiveDir } from '../../core/media/import/archive-head.js';
import { describeBundle, scanForBundles, type FoundBundle } from '../../core/media/scan/index.js';

/** A bundle folder or an archive export, summarised by core's scan, with a token to act on it. */
export async function summarize(s: AppServices, dir: string): Promise<BundleSummary> {
  return summaryView(s, await describeBundle(dir, await s.keyStore.list()));
}

function summaryView(s: AppServices, b: FoundBundle): BundleSummary {
  const picked = s.picks.add(b.dir, 'bundle', 'folder');
  const { dir: _dir, signature, ...rest } = b;
  return { token: picked.token, label: picked.label, ...rest, signature: { ...signature } };
}

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

export function bundleHandlers(
  s: AppServices,
): Pick<Handlers, 'media.scan' | 'bundle.open' | 'verify.start'> {
  return {
    'media.scan': async () => {
      const drives = await s.drives.list();
      const found = await scanForBundles(
        drives.map((d) => ({ label: d.label, dir: d.mountPoint })),
        await s.keyStore.list(),
      );
      return {
        bundles: found.bundles.map((b) => summaryView(s, b)),
        problems: found.problems.map(({ label, error }) => ({ label, error })),
        drivesSearched: drives.length,
      };
    },
    'bundle.open': ({ token }) => summarize(s, s.picks.resolve(token, 'bundle')),
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
        const opened = await openBundle(dir);
        // Which artifacts a file belongs to, so the first bytes hashed turn their tiles to 'checking'.
        const owners = new Map<string, string[]>();
        for (const a of opened.manifest.artifacts)
          for (const p of a.paths) owners.set(p, [...(owners.get(p) ?? []), a.id]);
        const announced = new Set<string>();
        const pool = new HashPool();
        const hash = pool.hash.bind(pool);
        pool.hash = (j, signal) =>
          hash(
            {
              ...j,
              onBytes: (n) => {
                const rel = path.relative(opened.dir, j.file).split(path.sep).join('/');
                for (const id of owners.get(rel) ?? []) {
                  if (announced.has(id)) continue;
                  announced.add(id);
                  ctx.item({ type: 'verify.checking', id });
                }
                j.onBytes?.(n);
              },
            },
            signal,
          );
        try {
          const report = await verifyBundle(dir, {
            allowUntrusted,
            allowUnsigned,
            keyStore: s.keyStore,
            signal: ctx.signal,
            progress: ctx.progress,
            pool,
            onProgress: () => ctx.report(),
            onPlan: (artifacts) => ctx.item({ type: 'verify.plan', artifacts }),
            onArtifact: (r) => ctx.item(artifactItem(r)),
          });
          ctx.progress.setPhase(report.ok ? 'verified' : 'problems found');
          return verifySummary(report);
        } finally {
          await pool.close();
        }
      });
      return { jobId: job.id };
    },
  };
}
