import fs from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST_FILE } from '../../core/bundle/manifest.js';
import { openBundle } from '../../core/bundle/reader.js';
import { FerryError, toErrorValue } from '../../core/base/errors/index.js';
import { ARCHIVE_INDEX as ARCHIVE_INDEX_FILE } from '../../core/bundle/archive-format.js';
import { checkSignature } from '../../core/bundle/keys/keystore.js';
import { countKinds } from '../../core/kinds/index.js';
import { HashPool } from '../../core/bundle/verify/hash-pool.js';
import {
  verifyBundle,
  type ArtifactResult,
  type VerifyReport,
} from '../../core/bundle/verify/verify-bundle.js';
import type { BundleSummary, VerifySummary } from '../contract.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { isArchiveDir, readArchiveHead } from '../archive-head.js';

/** How deep below a drive's root a bundle folder is looked for (root, ferry/, ferry/<id>/). */
const SCAN_DEPTH = 2;
const SCAN_MAX_DIRS = 200;

/** A bundle folder or an archive export (read from its index and the head of its parts). */
export async function summarize(s: AppServices, dir: string): Promise<BundleSummary> {
  const head = (await isArchiveDir(dir)) ? await readArchiveHead(dir) : undefined;
  const b = head ?? (await openBundle(dir));
  const sig = await checkSignature(b.manifestBytes, b.signatureBytes, await s.keyStore.list());
  const m = b.manifest;
  const kinds = countKinds(m.artifacts);
  const picked = s.picks.add(b.dir, 'bundle', 'folder');
  return {
    token: picked.token,
    label: picked.label,
    format: head ? 'archive' : 'folder',
    ...(head ? { parts: head.index.parts.length } : {}),
    id: m.id,
    kubesprayVersion: m.kubespray?.version ?? null,
    kubeVersion: m.kubespray?.kubeVersion ?? null,
    arches: m.kubespray?.arches ?? [],
    createdAt: m.createdAt,
    bytes: m.files.reduce((n, f) => n + f.size, 0),
    counts: {
      files: kinds.file,
      images: kinds.image,
      artifacts: m.artifacts.length,
    },
    signature: { ...sig },
    tools: m.artifacts
      .flatMap((a) =>
        a.kind === 'tool' ? [{ platform: a.platform, version: a.version, path: a.paths[0] }] : [],
      )
      .sort((x, y) => x.platform.localeCompare(y.platform)),
  };
}

/**
 * Folders under root (to SCAN_DEPTH) that hold a manifest.json (bundle folders) or a
 * ferry-archive.json (archive exports); hidden folders are skipped.
 */
export async function findBundleDirs(root: string, archives: string[] = []): Promise<string[]> {
  const found: string[] = [];
  let visited = 0;
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (visited++ > SCAN_MAX_DIRS) return;
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.isFile() && e.name === MANIFEST_FILE)) {
      found.push(dir);
      return;
    }
    if (entries.some((e) => e.isFile() && e.name === ARCHIVE_INDEX_FILE)) {
      archives.push(dir);
      return;
    }
    if (depth >= SCAN_DEPTH) return;
    for (const e of entries) {
      if (e.isDirectory() && !e.name.startsWith('.') && !e.name.startsWith('$'))
        await walk(path.join(dir, e.name), depth + 1);
    }
  };
  await walk(root, 0);
  return found;
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
      const bundles: BundleSummary[] = [];
      const problems: Array<{ label: string; error: ReturnType<typeof toErrorValue> }> = [];
      for (const d of drives) {
        const archives: string[] = [];
        const dirs = await findBundleDirs(d.mountPoint, archives);
        for (const dir of [...dirs, ...archives]) {
          try {
            bundles.push(await summarize(s, dir));
          } catch (err) {
            problems.push({
              label: `${d.label}: ${path.relative(d.mountPoint, dir) || '/'}`,
              error: toErrorValue(err),
            });
          }
        }
      }
      return { bundles, problems, drivesSearched: drives.length };
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
