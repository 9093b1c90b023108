/**
 * Export a bundle to removable media (folder or tar-archive parts), verified by reading it back.
 * See folder.ts (bundle folder on the drive) and archive.ts (--archive --split SIZE).
 */
import { exportArchive } from './archive.js';
import { exportFolder } from './folder.js';
import type { ExportOptions, ExportResult } from './options.js';

export async function exportBundle(bundleDir: string, opts: ExportOptions): Promise<ExportResult> {
  if (opts.archive) return exportArchive(bundleDir, opts);
  return exportFolder(bundleDir, opts);
}

export * from './options.js';
export { exportFolder } from './folder.js';
export { exportArchive, parseSize } from './archive.js';
export {
  ARCHIVE_INDEX,
  ArchiveIndexSchema,
  parseArchiveIndex,
  type ArchiveIndex,
} from '../../bundle/archive-format.js';
export { probeTarget, maxFileSize, FAT32_MAX_FILE, type TargetInfo } from './target.js';
export { preflight, partPath, deltaFiles, readOldManifest, DEFAULT_FAT_PART } from './preflight.js';
export { ReadBackPool, type ReadBackMode } from './readback.js';
export { realIo, type MediaIo } from './media-io.js';
