import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../../base/errors/index.js';
import { formatBytes } from '../../base/jobs/progress.js';
import {
  MANIFEST_FILE,
  PARTIAL_DIR,
  parseManifest,
  type FileEntry,
  type Manifest,
} from '../../bundle/manifest.js';
import { driveFor, type Drive, type DriveSource } from '../drives/index.js';
import { FAT32_MAX_FILE, maxFileSize, probeTarget, type TargetInfo } from './target.js';

/** Split parts on FAT32 stay a MiB under the limit so they stay aligned. */
export const DEFAULT_FAT_PART = FAT32_MAX_FILE + 1 - (1 << 20);

/** Name of the n-th part of a split file; stays a portable bundle path. */
export function partPath(rel: string, i: number): string {
  return `${rel}.ferry-part-${String(i).padStart(3, '0')}`;
}

/** Split a file entry into parts of at most `partSize` bytes (their sha256 is filled in once written). */
export function splitEntry(
  f: FileEntry,
  partSize: number,
): Array<{ path: string; offset: number; size: number }> {
  const out: Array<{ path: string; offset: number; size: number }> = [];
  for (let off = 0, i = 0; off < f.size; off += partSize, i++) {
    out.push({ path: partPath(f.path, i), offset: off, size: Math.min(partSize, f.size - off) });
  }
  return out;
}

/** Read an old manifest for --since: a manifest.json file or a bundle folder holding one. */
export async function readOldManifest(p: string): Promise<{ manifest: Manifest; sha256: string }> {
  let file = path.resolve(p);
  try {
    if ((await fs.stat(file)).isDirectory()) file = path.join(file, MANIFEST_FILE);
  } catch {
    throw new FerryError('NOT_FOUND', `No manifest at ${file}.`, {
      artifact: file,
      hint: 'Pass --since the manifest.json of the bundle the offline side already has (or its folder).',
    });
  }
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    throw new FerryError('NOT_FOUND', `Cannot read ${file}: ${(err as Error).message}`, {
      artifact: file,
      cause: err,
    });
  }
  return { manifest: parseManifest(bytes, file), sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * The files of a delta: only what the old bundle does not already hold at the same path with the
 * same content. Everything else the other side resolves through the base.
 */
export function deltaFiles(current: Manifest, old: Manifest): { kept: FileEntry[]; omitted: FileEntry[] } {
  const had = new Set(old.files.map((f) => `${f.path}\0${f.sha256}`));
  const kept: FileEntry[] = [];
  const omitted: FileEntry[] = [];
  for (const f of current.files) (had.has(`${f.path}\0${f.sha256}`) ? omitted : kept).push(f);
  return { kept, omitted };
}

export interface PreflightInput {
  target: TargetInfo;
  /** Files to be written, whole sizes. */
  files: FileEntry[];
  /** Bytes that are already on the target and verified (resume). */
  alreadyThere: number;
  /** Split files over the limit (default) or refuse with a reformat hint. */
  split: boolean;
  /** Part size for split files (default: just under 4 GiB). */
  partSize?: number | undefined;
  /** Free space to keep in reserve. */
  marginBytes?: number | undefined;
}

export interface PreflightResult {
  /** Files that must be split, with their part size. */
  split: Array<{ path: string; size: number; parts: number }>;
  partSize: number;
  bytesNeeded: number;
  free: number;
  limit: number | null;
}

/** The part size preflight will use for split files (it keys the export journal). */
export function partSizeFor(target: TargetInfo, partSize?: number): number {
  const limit = target.maxFileSize !== undefined ? target.maxFileSize : maxFileSize(target.fsType);
  return Math.min(partSize ?? DEFAULT_FAT_PART, limit ?? Infinity);
}

/**
 * Everything that can be known before the first byte: the file system's per-file limit, and
 * free space including per-file slack and a margin. Throws the FerryError the user would
 * otherwise meet halfway through.
 */
export function preflight(input: PreflightInput): PreflightResult {
  const { target } = input;
  const limit = target.maxFileSize !== undefined ? target.maxFileSize : maxFileSize(target.fsType);
  const partSize = partSizeFor(target, input.partSize);
  const tooBig = limit === null ? [] : input.files.filter((f) => f.size > limit);
  if (tooBig.length && !input.split) {
    const list = tooBig.map((f) => `${f.path} (${formatBytes(f.size)})`).join(', ');
    throw new FerryError(
      'UNSUPPORTED',
      `${tooBig.length} file(s) are larger than ${target.fsType.toUpperCase()} allows (${formatBytes(limit!)} per file): ${list}.`,
      {
        artifact: tooBig[0].path,
        hint: 'Reformat the drive as exFAT (it has no such limit), or drop --no-split so Ferry stores these files in parts.',
        details: { files: tooBig.map((f) => f.path), limit },
      },
    );
  }
  const split = tooBig.map((f) => ({ path: f.path, size: f.size, parts: Math.ceil(f.size / partSize) }));
  const bs = Math.max(target.blockSize || 4096, 512);
  const units = input.files.length + split.reduce((s, f) => s + f.parts - 1, 0);
  const payload = input.files.reduce((s, f) => s + f.size, 0) - input.alreadyThere;
  // Each stored file wastes up to one allocation unit; the manifest and journal need a little too.
  const bytesNeeded = Math.max(0, payload) + units * bs + 4 * 1024 * 1024;
  const margin = input.marginBytes ?? 16 * 1024 * 1024;
  if (target.free < bytesNeeded + margin) {
    throw new FerryError(
      'NO_SPACE',
      `The target has ${formatBytes(target.free)} free; the export needs ${formatBytes(bytesNeeded)} plus a ${formatBytes(margin)} margin.`,
      {
        hint: 'Use a larger drive, or export a delta with --since OLD_MANIFEST if the offline side has an earlier bundle. Nothing was written.',
        details: { free: target.free, needed: bytesNeeded, margin },
      },
    );
  }
  return { split, partSize, bytesNeeded, free: target.free, limit };
}

/** Refuse a system drive as target unless forced; returns the drive the target is on, if listed. */
export async function checkDrive(
  to: string,
  drives: DriveSource | undefined,
  force: boolean,
  warn: (m: string) => void = () => undefined,
): Promise<Drive | undefined> {
  if (!drives) return undefined;
  let list: Drive[];
  try {
    list = await drives.list();
  } catch (err) {
    // Listing drives is a safety check, not a reason to refuse a target the user named.
    warn(
      `Could not list drives (${(err as Error).message}); not checking whether ${to} is on a system drive.`,
    );
    return undefined;
  }
  const d = driveFor(list, to);
  if (d?.system && !force) {
    throw new FerryError('USAGE', `${to} is on ${d.label} (${d.mountPoint}), a system drive.`, {
      artifact: to,
      hint: 'Choose a folder on the removable drive, or pass --force to write to the system drive anyway.',
    });
  }
  return d;
}

/**
 * The target's facts: injected, else probed; where the probe cannot name the file system (macOS,
 * Windows, an unknown FUSE driver) the drive listing's file system type fills in.
 */
export async function targetInfo(
  to: string,
  injected: TargetInfo | undefined,
  drive: Drive | undefined,
): Promise<TargetInfo> {
  if (injected) return injected;
  const t = await probeTarget(to);
  if ((t.fsType === 'unknown' || t.fsType === 'fuseblk') && drive?.fsType)
    t.fsType = drive.fsType.toLowerCase();
  return t;
}

/** Prove we can create, write, fsync and delete a file in the target folder. */
export async function checkWritable(dir: string): Promise<void> {
  // Inside the export's own working folder, so a crash cannot leave a stray file in the bundle.
  const probe = path.join(dir, PARTIAL_DIR, `write-probe-${process.pid}`);
  try {
    await fs.mkdir(path.dirname(probe), { recursive: true });
    const fh = await fs.open(probe, 'w');
    try {
      await fh.write(Buffer.from('ferry'));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rm(probe, { force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FerryError('IO', `Cannot write to ${dir} (${code ?? (err as Error).message}).`, {
      artifact: dir,
      hint:
        code === 'EROFS'
          ? 'The drive is read-only: check its write-protect switch.'
          : 'Check that the drive is mounted writable and that you may write to the folder.',
      cause: err,
    });
  }
}
