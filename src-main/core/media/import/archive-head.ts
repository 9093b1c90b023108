import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Header } from 'tar';
import { MANIFEST_FILE, MAX_MANIFEST_BYTES, SIGNATURE_FILE, parseManifest } from '../../bundle/manifest.js';
import type { Manifest } from '../../bundle/manifest.js';
import { refuseOddControlFile } from '../../bundle/reader.js';
import { FerryError } from '../../base/errors/index.js';
import {
  ARCHIVE_INDEX,
  ARCHIVE_INDEX_MAX,
  parseArchiveIndex,
  type ArchiveIndex,
} from '../../bundle/archive-format.js';

/**
 * The bundle scan (the app's media step, `ferry bundles`) shows a summary of an archive export
 * before anything is imported: its index, and the manifest and signature at the head of the tar
 * stream, without starting the import that reads the same head. A Ferry archive always starts with
 * manifest.json then manifest.json.sig as plain ustar entries (short names, fixed metadata), so
 * reading two headers at known offsets across the parts is enough; anything else is refused
 * with the part named. Nothing here is trusted: import checks the signature and every part again.
 */

const BLOCK = 512;
const MAX_SIG = 64 * 1024;

export interface ArchiveHead {
  dir: string;
  index: ArchiveIndex;
  manifest: Manifest;
  manifestBytes: Buffer;
  signatureBytes?: Buffer;
}

/** Reads byte ranges of the tar stream the parts make together, without joining them on disk. */
class PartsReader {
  private readonly starts: number[] = [];
  constructor(
    private readonly dir: string,
    private readonly index: ArchiveIndex,
  ) {
    let at = 0;
    for (const p of index.parts) {
      this.starts.push(at);
      at += p.size;
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const out = Buffer.alloc(length);
    let filled = 0;
    for (let i = 0; i < this.index.parts.length && filled < length; i++) {
      const p = this.index.parts[i];
      const start = this.starts[i];
      const want = offset + filled;
      if (want >= start + p.size || want < start) continue;
      const abs = path.join(this.dir, p.name);
      const st = await fs.lstat(abs).catch(() => undefined);
      if (!st?.isFile()) {
        throw new FerryError('NOT_FOUND', `Part ${p.name} of the archive is missing.`, {
          artifact: p.name,
          hint: `Copy ${p.name} again from the connected side into ${this.dir}.`,
        });
      }
      const n = Math.min(length - filled, start + p.size - want);
      const fh = await fs.open(abs, 'r');
      try {
        const { bytesRead } = await fh.read(out, filled, n, want - start);
        if (bytesRead !== n) {
          throw new FerryError('INTEGRITY', `Part ${p.name} of the archive is shorter than its index says.`, {
            artifact: p.name,
            hint: `Copy ${p.name} again from the connected side.`,
          });
        }
      } finally {
        await fh.close();
      }
      filled += n;
    }
    if (filled !== length) {
      throw new FerryError('INTEGRITY', 'The archive ends before its manifest does.', {
        artifact: this.index.parts[this.index.parts.length - 1].name,
        hint: 'Copy the archive again from the connected side.',
      });
    }
    return out;
  }

  partAt(offset: number): string {
    for (let i = this.index.parts.length - 1; i >= 0; i--)
      if (offset >= this.starts[i]) return this.index.parts[i].name;
    return this.index.parts[0].name;
  }
}

function entryAt(
  block: Buffer,
  part: string,
): { path: string; size: number; type: string } | { end: true } | undefined {
  if (block.every((b) => b === 0)) return { end: true };
  const h = new Header(block);
  if (!h.cksumValid || h.path === undefined || h.size === undefined || h.type === undefined) {
    throw new FerryError('INTEGRITY', `The archive header in ${part} is damaged.`, {
      artifact: part,
      hint: `Copy ${part} again from the connected side; importing names every damaged part.`,
    });
  }
  return { path: h.path, size: h.size, type: h.type };
}

export async function isArchiveDir(dir: string): Promise<boolean> {
  const st = await fs.lstat(path.join(dir, ARCHIVE_INDEX)).catch(() => undefined);
  return !!st?.isFile();
}

export async function readArchiveHead(dir: string): Promise<ArchiveHead> {
  const root = path.resolve(dir);
  const indexPath = path.join(root, ARCHIVE_INDEX);
  const hint = 'Copy the archive again from the connected side.';
  const st = await fs.lstat(indexPath).catch(() => undefined);
  if (!st)
    throw new FerryError('HOSTILE', `${root} has no ${ARCHIVE_INDEX}.`, { artifact: ARCHIVE_INDEX, hint });
  refuseOddControlFile(st, ARCHIVE_INDEX, ARCHIVE_INDEX_MAX, { where: root, hint });
  const index = parseArchiveIndex(await fs.readFile(indexPath), ARCHIVE_INDEX);
  const reader = new PartsReader(root, index);

  const first = entryAt(await reader.read(0, BLOCK), reader.partAt(0));
  if (!first || 'end' in first || first.path !== MANIFEST_FILE || first.type !== 'File') {
    throw new FerryError('INTEGRITY', `The archive does not start with ${MANIFEST_FILE}.`, {
      artifact: index.parts[0].name,
      hint: `This is not a Ferry archive, or ${index.parts[0].name} is damaged: copy it again.`,
    });
  }
  if (first.size > MAX_MANIFEST_BYTES || first.size > index.tarSize) {
    throw new FerryError('HOSTILE', `The manifest in the archive is ${first.size} bytes; Ferry refuses it.`, {
      artifact: MANIFEST_FILE,
    });
  }
  const manifestBytes = await reader.read(BLOCK, first.size);
  if (createHash('sha256').update(manifestBytes).digest('hex') !== index.manifestSha256) {
    throw new FerryError('INTEGRITY', `The manifest inside the archive does not match ${ARCHIVE_INDEX}.`, {
      artifact: reader.partAt(BLOCK),
      hint: `Copy ${reader.partAt(BLOCK)} again from the connected side.`,
    });
  }
  const manifest = parseManifest(manifestBytes);
  if (manifest.id !== index.bundleId) {
    throw new FerryError(
      'INTEGRITY',
      `${ARCHIVE_INDEX} names bundle ${index.bundleId} but the archive holds ${manifest.id}.`,
      { artifact: ARCHIVE_INDEX, hint: 'The index and the parts come from different exports.' },
    );
  }
  const sigAt = BLOCK + Math.ceil(first.size / BLOCK) * BLOCK;
  let signatureBytes: Buffer | undefined;
  if (sigAt + BLOCK <= index.tarSize) {
    const second = entryAt(await reader.read(sigAt, BLOCK), reader.partAt(sigAt));
    if (second && !('end' in second) && second.path === SIGNATURE_FILE && second.type === 'File') {
      if (second.size > MAX_SIG)
        throw new FerryError('HOSTILE', `The signature in the archive is ${second.size} bytes.`, {
          artifact: SIGNATURE_FILE,
        });
      signatureBytes = await reader.read(sigAt + BLOCK, second.size);
    }
  }
  return { dir: root, index, manifest, manifestBytes, ...(signatureBytes ? { signatureBytes } : {}) };
}
