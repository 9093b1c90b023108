import { Header, Pax } from 'tar';
import { z } from 'zod';
import { FerryError } from '../base/errors/index.js';

/**
 * Archive exports (`--archive --split SIZE`): the bundle as one tar stream (manifest.json and its
 * signature first, then every file in manifest order) cut into parts of at most SIZE bytes, plus a
 * small index naming each part with its size and sha256, so a damaged part is named and can be
 * copied again alone. Headers are made by node-tar (ustar, pax for long paths) with fixed
 * metadata (mtime 0, uid/gid 0, mode 0644), so the same bundle always yields the same bytes and an
 * interrupted export resumes part by part.
 */

export const ARCHIVE_INDEX = 'ferry-archive.json';
export const ARCHIVE_INDEX_MAX = 1024 * 1024;

const partName = z.string().regex(/^bundle\.tar\.[0-9]{3,6}$/, "must be 'bundle.tar.NNN'");

export const ArchiveIndexSchema = z
  .object({
    format: z.literal('ferry-archive'),
    version: z.literal(1),
    bundleId: z.string().min(1).max(200),
    /** sha256 of the manifest.json bytes inside the tar (signature covers those bytes). */
    manifestSha256: z.string().regex(/^[0-9a-f]{64}$/),
    tarSize: z.number().int().nonnegative(),
    partSize: z.number().int().positive(),
    parts: z
      .array(
        z.object({
          name: partName,
          size: z.number().int().nonnegative(),
          sha256: z.string().regex(/^[0-9a-f]{64}$/),
        }),
      )
      .min(1)
      .max(100_000),
  })
  .strict();
export type ArchiveIndex = z.infer<typeof ArchiveIndexSchema>;

export function archivePartName(i: number, count: number): string {
  return `bundle.tar.${String(i).padStart(Math.max(3, String(count - 1).length), '0')}`;
}

/** A piece of the virtual tar stream: literal bytes (headers, padding) or a range of a file. */
export type Segment =
  { kind: 'bytes'; buf: Buffer } | { kind: 'file'; src: string; rel: string; size: number };

const BLOCK = 512;
const MTIME = new Date(0);

function header(rel: string, size: number): Buffer {
  const fields = {
    path: rel,
    // Ferry's own executables (the tool kind, under tools/) stay runnable when the archive is
    // unpacked by hand with tar; still fixed per path, so the stream stays deterministic.
    mode: rel.startsWith('tools/') ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    size,
    mtime: MTIME,
    type: 'File' as const,
    uname: '',
    gname: '',
  };
  const h = new Header(fields);
  const block = Buffer.alloc(BLOCK);
  const needPax = h.encode(block, 0);
  if (!needPax) return block;
  // Long paths go in a pax extended header before the entry (node-tar writes both).
  const pax = new Pax({ ...fields, atime: undefined, ctime: undefined } as any).encode();
  return Buffer.concat([pax, block]);
}

/** Lay out the tar stream: every segment in order, with its total size. */
export function tarLayout(entries: Array<{ rel: string; size: number; src?: string; bytes?: Buffer }>): {
  segments: Segment[];
  size: number;
} {
  const segments: Segment[] = [];
  let size = 0;
  const push = (s: Segment) => {
    segments.push(s);
    size += s.kind === 'bytes' ? s.buf.length : s.size;
  };
  for (const e of entries) {
    push({ kind: 'bytes', buf: header(e.rel, e.size) });
    if (e.bytes) push({ kind: 'bytes', buf: e.bytes });
    else if (e.size > 0) push({ kind: 'file', src: e.src!, rel: e.rel, size: e.size });
    const pad = (BLOCK - (e.size % BLOCK)) % BLOCK;
    if (pad) push({ kind: 'bytes', buf: Buffer.alloc(pad) });
  }
  push({ kind: 'bytes', buf: Buffer.alloc(2 * BLOCK) });
  return { segments, size };
}

export function parseArchiveIndex(bytes: Buffer, source: string): ArchiveIndex {
  if (bytes.length > ARCHIVE_INDEX_MAX) {
    throw new FerryError(
      'HOSTILE',
      `${source} is ${bytes.length} bytes; an archive index is far smaller. Ferry refuses it.`,
      { artifact: source },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new FerryError('INTEGRITY', `${source} is not valid JSON: ${(err as Error).message}`, {
      artifact: source,
      hint: 'Copy ferry-archive.json again from the original media.',
    });
  }
  const r = ArchiveIndexSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new FerryError(
      'HOSTILE',
      `${source} is not a Ferry archive index: ${i.path.join('.') || '(top)'}: ${i.message}`,
      {
        artifact: source,
        hint: 'Copy the archive again from the connected side.',
      },
    );
  }
  const idx = r.data;
  const names = new Set(idx.parts.map((p) => p.name));
  if (names.size !== idx.parts.length)
    throw new FerryError('HOSTILE', `${source} names a part twice.`, { artifact: source });
  const sum = idx.parts.reduce((s, p) => s + p.size, 0);
  if (sum !== idx.tarSize) {
    throw new FerryError('INTEGRITY', `${source}: the parts add up to ${sum} bytes, not ${idx.tarSize}.`, {
      artifact: source,
    });
  }
  idx.parts.forEach((p, i) => {
    if (p.name !== archivePartName(i, idx.parts.length)) {
      throw new FerryError(
        'HOSTILE',
        `${source} lists part ${p.name} at position ${i}; parts must be in order.`,
        { artifact: source },
      );
    }
  });
  return idx;
}
