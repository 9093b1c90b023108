import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../base/errors/index.js';
import {
  MANIFEST_FILE,
  MAX_MANIFEST_BYTES,
  PARTIAL_DIR,
  SIGNATURE_FILE,
  parseManifest,
  type Manifest,
} from './manifest.js';
import { printable } from './paths.js';

export interface OpenedBundle {
  dir: string;
  manifest: Manifest;
  /** The exact bytes the signature covers. */
  manifestBytes: Buffer;
  /** The detached signature, if present. */
  signatureBytes?: Buffer;
}

/** Read a bundle's manifest and signature without trusting anything in them yet. */
export async function openBundle(dir: string): Promise<OpenedBundle> {
  const root = path.resolve(dir);
  let st;
  try {
    st = await fs.lstat(root);
  } catch {
    // A path the user gave that is not there is a usage error, like a path that is a file.
    throw new FerryError('USAGE', `No bundle at ${root}.`, {
      artifact: root,
      hint: 'Check the path to the bundle folder.',
    });
  }
  if (!st.isDirectory()) throw new FerryError('USAGE', `${root} is not a folder.`, { artifact: root });
  const mPath = path.join(root, MANIFEST_FILE);
  let mst;
  try {
    mst = await fs.lstat(mPath);
  } catch {
    const partial = await fs
      .lstat(path.join(root, PARTIAL_DIR))
      .then(() => true)
      .catch(() => false);
    throw new FerryError(
      'INTEGRITY',
      partial
        ? `${root} is an unfinished bundle: it has no ${MANIFEST_FILE} yet.`
        : `${root} is not a Ferry bundle: it has no ${MANIFEST_FILE}.`,
      {
        artifact: MANIFEST_FILE,
        hint: partial
          ? 'A fetch or export into this folder was interrupted. Run the same command again to resume it.'
          : 'Choose the folder that holds manifest.json.',
      },
    );
  }
  refuseOddControlFile(mst, MANIFEST_FILE, MAX_MANIFEST_BYTES, { where: root });
  const manifestBytes = await fs.readFile(mPath);
  const manifest = parseManifest(manifestBytes);
  let signatureBytes: Buffer | undefined;
  const sPath = path.join(root, SIGNATURE_FILE);
  try {
    refuseOddControlFile(await fs.lstat(sPath), SIGNATURE_FILE, 64 * 1024, { where: root });
    signatureBytes = await fs.readFile(sPath);
  } catch (err) {
    if (err instanceof FerryError) throw err;
  }
  return { dir: root, manifest, manifestBytes, ...(signatureBytes ? { signatureBytes } : {}) };
}

/**
 * A control file (manifest, signature, archive index) is read whole before anything in it is
 * trusted, so it must be a regular file (a link is never followed) of bounded size: anything else
 * is hostile, and refused before a byte of it is read.
 */
export function refuseOddControlFile(
  st: Stats,
  name: string,
  max: number,
  more: { where?: string; hint?: string } = {},
): void {
  const fields = { artifact: name, ...(more.hint ? { hint: more.hint } : {}) };
  const where = more.where ? ` in ${more.where}` : '';
  if (!st.isFile())
    throw new FerryError('HOSTILE', `${name}${where} is not a regular file; Ferry refuses it.`, fields);
  if (st.size > max)
    throw new FerryError(
      'HOSTILE',
      `${name}${where} is ${st.size} bytes, over the ${max}-byte limit; Ferry refuses it.`,
      fields,
    );
}

export type TreeEntry = { path: string; size: number };

/**
 * Walk the bundle folder without following anything. Links, devices, FIFOs and sockets are
 * hostile: a bundle is plain folders and regular files. Returns every regular file.
 */
export async function walkBundleTree(root: string, signal?: AbortSignal): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const stack: string[] = [''];
  while (stack.length) {
    if (signal?.aborted) throw new FerryError('CANCELLED', 'Cancelled.');
    const rel = stack.pop()!;
    const abs = rel ? path.join(root, ...rel.split('/')) : root;
    const entries = await fs.readdir(abs, { withFileTypes: true });
    for (const e of entries) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) stack.push(childRel);
      else if (e.isFile()) {
        const st = await fs.lstat(path.join(abs, e.name));
        out.push({ path: childRel, size: st.size });
      } else {
        const what = e.isSymbolicLink()
          ? 'a symbolic link'
          : e.isFIFO()
            ? 'a FIFO'
            : e.isSocket()
              ? 'a socket'
              : e.isBlockDevice() || e.isCharacterDevice()
                ? 'a device node'
                : 'not a regular file';
        throw new FerryError(
          'HOSTILE',
          `'${printable(childRel)}' in the bundle is ${what}; Ferry refuses bundles that contain one.`,
          {
            artifact: childRel,
            hint: 'Bundles hold only plain files and folders. Get a fresh copy from the connected side.',
          },
        );
      }
    }
  }
  return out;
}
