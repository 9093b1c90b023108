import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { BundleSource } from '../../bundle/source.js';

/** Where a verified bundle file's bytes are: one file, or (on FAT32 media) its parts in order. */
export interface FileLocation {
  file: string;
  size: number;
  sha256: string;
  parts?: Array<{ file: string; size: number }>;
}

/**
 * Locate a bundle path through a source. A file stored split has no bytes at its own path, only
 * at its parts' paths, which sit in the same bundle folder: they are resolved against the folder
 * the source maps the file's own path into.
 */
export function locateFile(src: BundleSource, rel: string): FileLocation | undefined {
  const e = src.entry(rel);
  const file = src.filePath(rel);
  if (!e || !file) return undefined;
  if (!e.parts) return { file, size: e.size, sha256: e.sha256 };
  const tail = path.join(...rel.split('/'));
  if (!file.endsWith(tail)) return undefined;
  const base = file.slice(0, file.length - tail.length);
  return {
    file,
    size: e.size,
    sha256: e.sha256,
    parts: e.parts.map((p) => ({ file: path.join(base, ...p.path.split('/')), size: p.size })),
  };
}

/** A stream of bytes [start, end] of a located file, whole or split into parts. */
export function readLocated(
  loc: { file: string; size: number; parts?: Array<{ file: string; size: number }> },
  start = 0,
  end = loc.size - 1,
): Readable {
  if (!loc.parts) return fs.createReadStream(loc.file, { start, end, highWaterMark: 1 << 20 });
  const parts = loc.parts;
  return Readable.from(
    (async function* () {
      let offset = 0;
      for (const p of parts) {
        const pStart = offset;
        const pEnd = offset + p.size - 1;
        offset += p.size;
        if (pEnd < start || pStart > end || p.size === 0) continue;
        yield* fs.createReadStream(p.file, {
          start: Math.max(start, pStart) - pStart,
          end: Math.min(end, pEnd) - pStart,
          highWaterMark: 1 << 20,
        });
      }
    })(),
    { objectMode: false },
  );
}
