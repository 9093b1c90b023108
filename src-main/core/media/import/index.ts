/**
 * `ferry import SOURCE`: signature first, then every file verified on all cores into the local
 * content-addressed store, damaged artifacts quarantined and named, repairs from a second copy.
 * SOURCE is a bundle folder or an archive export (ferry-archive.json plus tar parts).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { importFolder } from './folder.js';
import type { ImportOptions, ImportReport } from './common.js';

export const ARCHIVE_INDEX = 'ferry-archive.json';

export async function importBundle(source: string, opts: ImportOptions): Promise<ImportReport> {
  const isArchive = await fs
    .lstat(path.join(source, ARCHIVE_INDEX))
    .then(() => true)
    .catch(() => false);
  if (isArchive) {
    const { importArchive } = await import('./archive.js');
    return importArchive(source, opts);
  }
  return importFolder(source, opts);
}

export * from './common.js';
export { importFolder } from './folder.js';
