import fs from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../base/errors/index.js';

/**
 * Bundle paths are relative, forward-slash, normalised, and portable to every file system a USB
 * stick may carry (FAT32/exFAT/NTFS): a manifest that names anything else is hostile or broken
 * and is refused before a single byte is read or written.
 */

const MAX_PATH = 1024;
const MAX_SEGMENT = 255;
// Characters Windows and FAT refuse, plus control characters.
const BAD_CHARS = /[\\:*?"<>|\x00-\x1f]/;

export function checkBundlePath(p: string): string | null {
  if (typeof p !== 'string' || p.length === 0) return 'is empty';
  if (p.length > MAX_PATH) return `is longer than ${MAX_PATH} characters`;
  if (p.startsWith('/')) return 'is absolute';
  if (/^[A-Za-z]:/.test(p)) return 'names a drive';
  if (p.includes('\\')) return 'contains a backslash';
  for (const seg of p.split('/')) {
    if (seg === '') return 'has an empty segment';
    if (seg === '.' || seg === '..') return `contains '${seg}'`;
    if (seg.length > MAX_SEGMENT) return `has a segment longer than ${MAX_SEGMENT} characters`;
    if (BAD_CHARS.test(seg))
      return 'contains a character that is not portable (\\ : * ? " < > | or a control character)';
    if (/[. ]$/.test(seg)) return 'has a segment ending in a dot or space (not portable)';
  }
  return null;
}

export function assertBundlePath(p: string, what = 'path'): void {
  const why = checkBundlePath(p);
  if (why) {
    throw new FerryError('HOSTILE', `The bundle ${what} '${printable(p)}' ${why}; Ferry refuses it.`, {
      artifact: printable(p),
      hint: 'This bundle was not written by Ferry or was tampered with. Get a fresh copy from the connected side.',
    });
  }
}

export function printable(p: string): string {
  return String(p)
    .replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .slice(0, 300);
}

/** Join a checked bundle path onto its root. */
export function resolveInside(root: string, rel: string): string {
  assertBundlePath(rel);
  const full = path.resolve(root, ...rel.split('/'));
  const base = path.resolve(root);
  if (full !== base && !full.startsWith(base + path.sep)) {
    throw new FerryError('HOSTILE', `The bundle path '${printable(rel)}' leaves the bundle folder.`, {
      artifact: rel,
    });
  }
  return full;
}

/**
 * Resolve a bundle path and make sure no existing component on the way is a symlink, so a
 * symlink planted in the bundle (or the target folder) cannot redirect a read or a write.
 */
export async function resolveNoSymlinks(root: string, rel: string): Promise<string> {
  const full = resolveInside(root, rel);
  let cur = path.resolve(root);
  for (const seg of rel.split('/')) {
    cur = path.join(cur, seg);
    let st;
    try {
      st = await fs.lstat(cur);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return full;
      throw err;
    }
    if (st.isSymbolicLink()) {
      throw new FerryError(
        'HOSTILE',
        `The bundle path '${printable(rel)}' goes through a symbolic link; Ferry refuses it.`,
        {
          artifact: rel,
          hint: 'Bundles never contain links. Get a fresh copy of the bundle.',
        },
      );
    }
  }
  return full;
}

/**
 * The file path a download URL takes in the bundle: files/<host>/<path>, the files_repo layout
 * Kubespray's offline docs use. A non-default port becomes '<host>_<port>', since ':' is not
 * portable to FAT/exFAT/NTFS.
 */
export function filePathForUrl(url: string): string {
  const u = new URL(url);
  const host = u.port ? `${u.hostname}_${u.port}` : u.hostname;
  const segs = decodeURIComponent(u.pathname)
    .split('/')
    .filter((s) => s.length > 0);
  const rel = ['files', host, ...segs].join('/');
  assertBundlePath(rel, `file path for ${url}`);
  return rel;
}
