import { inflateRawSync } from 'node:zlib';
import { FerryError } from '../../base/errors/index.js';

/**
 * Core metadata (the `METADATA` file of a wheel, served alone as PEP 658 `.metadata`) and the
 * few bits of the zip format needed to find it inside a wheel: the end-of-central-directory
 * record, the central directory, one local header. Enough for stored and deflated members,
 * which is what wheels use; zip64 is read for the directory's offset.
 */

export interface CoreMetadata {
  name: string;
  version: string;
  requiresPython?: string;
  requiresDist: string[];
  providesExtra: string[];
}

/** RFC 822-style headers; continuation lines start with whitespace; the body after a blank line is ignored. */
export function parseCoreMetadata(text: string, where: string): CoreMetadata {
  const headers: Array<[string, string]> = [];
  for (const line of text.replace(/\r\n/g, '\n').split('\n')) {
    if (line === '') break;
    if (/^[ \t]/.test(line) && headers.length) {
      headers[headers.length - 1][1] += '\n' + line.trim();
      continue;
    }
    const i = line.indexOf(':');
    if (i <= 0) continue;
    headers.push([line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()]);
  }
  const all = (k: string) => headers.filter(([h]) => h === k).map(([, v]) => v);
  const name = all('name')[0];
  const version = all('version')[0];
  if (!name || !version) {
    throw new FerryError('INTEGRITY', `${where} is not core metadata: it has no Name or Version.`, {
      artifact: where,
    });
  }
  const rp = all('requires-python')[0];
  return {
    name,
    version,
    ...(rp ? { requiresPython: rp } : {}),
    requiresDist: all('requires-dist'),
    providesExtra: all('provides-extra'),
  };
}

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const CEN = 0x02014b50;
const LOC = 0x04034b50;

/**
 * Where the central directory is, from the archive's tail (the last 64 KiB + 22 bytes hold the
 * end record whatever the comment). `tailStart` is the tail's offset in the file.
 */
export function findCentralDirectory(
  tail: Buffer,
  tailStart: number,
  where: string,
): { offset: number; size: number } {
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) !== EOCD) continue;
    let size = tail.readUInt32LE(i + 12);
    let offset = tail.readUInt32LE(i + 16);
    if (offset === 0xffffffff || size === 0xffffffff) {
      // zip64: the locator sits 20 bytes before the end record and points at the zip64 record.
      const loc = i - 20;
      if (loc < 0 || tail.readUInt32LE(loc) !== 0x07064b50) break;
      const rec = Number(tail.readBigUInt64LE(loc + 8)) - tailStart;
      if (rec < 0 || rec + 56 > tail.length) break;
      size = Number(tail.readBigUInt64LE(rec + 40));
      offset = Number(tail.readBigUInt64LE(rec + 48));
    }
    return { offset, size };
  }
  throw new FerryError('INTEGRITY', `${where} is not a zip archive (no end of central directory).`, {
    artifact: where,
  });
}

export function readCentralDirectory(cd: Buffer, where: string): ZipEntry[] {
  const out: ZipEntry[] = [];
  let p = 0;
  while (p + 46 <= cd.length && cd.readUInt32LE(p) === CEN) {
    const method = cd.readUInt16LE(p + 10);
    let compressedSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localHeaderOffset = cd.readUInt32LE(p + 42);
    const name = cd.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    // zip64 extra field: the 0xffffffff values follow in order.
    let e = p + 46 + nameLen;
    const end = e + extraLen;
    while (e + 4 <= end) {
      const id = cd.readUInt16LE(e);
      const len = cd.readUInt16LE(e + 2);
      if (id === 1) {
        let q = e + 4;
        if (size === 0xffffffff) {
          size = Number(cd.readBigUInt64LE(q));
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = Number(cd.readBigUInt64LE(q));
          q += 8;
        }
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = Number(cd.readBigUInt64LE(q));
      }
      e += 4 + len;
    }
    out.push({ name, method, compressedSize, size, localHeaderOffset });
    p = end + commentLen;
  }
  if (!out.length)
    throw new FerryError('INTEGRITY', `${where}: the zip's central directory is empty or damaged.`, {
      artifact: where,
    });
  return out;
}

/** The `{name}-{version}.dist-info/METADATA` member (PEP 427), chosen the way pip does: the one top-level dist-info. */
export function findMetadataEntry(entries: ZipEntry[], where: string): ZipEntry {
  const hits = entries.filter((e) => /^[^/]+\.dist-info\/METADATA$/.test(e.name));
  if (hits.length !== 1) {
    throw new FerryError(
      'INTEGRITY',
      `${where} has ${hits.length} .dist-info/METADATA files; a wheel has exactly one.`,
      {
        artifact: where,
      },
    );
  }
  return hits[0];
}

/** Bytes from the local header on: the 30-byte header, name, extra, then the member's data. */
export function localDataOffset(local: Buffer, where: string): number {
  if (local.readUInt32LE(0) !== LOC)
    throw new FerryError('INTEGRITY', `${where}: bad zip local header.`, { artifact: where });
  return 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
}

export function inflateMember(entry: ZipEntry, data: Buffer, where: string): Buffer {
  const raw = data.subarray(0, entry.compressedSize);
  if (entry.method === 0) return raw;
  if (entry.method === 8) return inflateRawSync(raw, { maxOutputLength: Math.max(entry.size, 1) + 1024 });
  throw new FerryError('UNSUPPORTED', `${where}: zip compression method ${entry.method} is not supported.`, {
    artifact: where,
  });
}

/** METADATA from a whole wheel in memory. */
export function metadataFromWheel(wheel: Buffer, where: string): string {
  const tailStart = Math.max(0, wheel.length - 65_557);
  const { offset, size } = findCentralDirectory(wheel.subarray(tailStart), tailStart, where);
  const entry = findMetadataEntry(readCentralDirectory(wheel.subarray(offset, offset + size), where), where);
  const local = wheel.subarray(entry.localHeaderOffset);
  return inflateMember(entry, local.subarray(localDataOffset(local, where)), where).toString('utf8');
}
