/**
 * `ferry import SOURCE`: signature first, then every file verified on all cores into the local
 * content-addressed store, damaged artifacts quarantined and named, repairs from a second copy.
 * SOURCE is a bundle folder or an archive export (ferry-archive.json plus tar parts).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { importFolder } from './folder.js';
import type { ImportOptions, ImportReport } from './common.js';
import { Store } from '../store/store.js';
import { makeExecutable, toolArtifacts } from '../../kinds/index.js';
import { ARCHIVE_INDEX } from '../../bundle/archive-format.js';

export async function importBundle(source: string, opts: ImportOptions): Promise<ImportReport> {
  const isArchive = await fs
    .lstat(path.join(source, ARCHIVE_INDEX))
    .then(() => true)
    .catch(() => false);
  let report: ImportReport;
  if (isArchive) {
    const { importArchive } = await import('./archive.js');
    report = await importArchive(source, opts);
  } else report = await importFolder(source, opts);
  return { ...report, ...(await storedTools(report)) };
}

/**
 * Ferry's own executables the bundle carries, runnable straight from the store: a blob's mode is
 * not part of its content, so a tool's blob gets its executable bit back here, and the report
 * names where each one is.
 */
async function storedTools(report: ImportReport): Promise<Pick<ImportReport, 'tools'>> {
  const store = new Store(report.store);
  const stored = await store.get(report.bundleId).catch(() => undefined);
  if (!stored) return {};
  const bad = new Set(report.artifacts.filter((a) => a.state !== 'good').map((a) => a.id));
  const files = new Map(stored.manifest.files.map((f) => [f.path, f]));
  const tools: NonNullable<ImportReport['tools']> = [];
  for (const a of toolArtifacts(stored.manifest)) {
    const f = files.get(a.paths[0]);
    if (!f || bad.has(a.id)) continue;
    const blob = store.blobPath(f.sha256);
    if (
      await fs.lstat(blob).then(
        (s) => s.isFile(),
        () => false,
      )
    ) {
      await makeExecutable(blob);
      tools.push({ platform: a.platform, version: a.version, path: blob });
    }
  }
  return tools.length ? { tools } : {};
}

export * from './common.js';
export { importFolder } from './folder.js';
