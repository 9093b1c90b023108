/**
 * Streaming reader of filelists.xml (decompressed). A distribution's filelists lists millions of
 * paths; the resolver only needs the ones some package requires (`Requires: /usr/bin/python3`
 * whose provider lists it only here, not in primary), so only `wanted` paths are kept, keyed by
 * the package's pkgid (primary's checksum), and memory stays proportional to the answer.
 */
import type { Readable } from 'node:stream';
import { FerryError } from '../../base/errors/index.js';
import type { RpmPackage } from './package.js';
import { isRich, parseRich, richAtoms } from './rich.js';
import { decodeEntities } from './xml-scan.js';

const FILE_OPEN = Buffer.from('<file');
const PKG_OPEN = Buffer.from('<package ');
const PKGID = Buffer.from('pkgid=');

/**
 * filelists.xml is the largest metadata file (a million `<file>` lines on a distribution) and
 * the reader wants a few hundred of them, so this scans for just two tags with native
 * Buffer.indexOf and decodes a path only when its byte length, last byte and middle byte match
 * a wanted path's: most paths are never turned into strings. The structure createrepo_c writes
 * is fixed (`<package pkgid=… name=… arch=…>` then `<version/>` and `<file>` elements), so no
 * general XML parsing is needed; entity references in paths are decoded when a path is kept.
 */
class FilelistsScanner {
  private rest: Buffer | undefined;
  private pkgid: string | undefined;
  private readonly keys = new Set<number>();
  readonly found = new Map<string, string[]>();
  problem: string | undefined;

  constructor(private readonly wanted: ReadonlySet<string>) {
    for (const w of wanted) {
      const b = Buffer.from(escapeXml(w));
      this.keys.add(FilelistsScanner.key(b, 0, b.length));
    }
  }

  private static key(b: Buffer, s: number, e: number): number {
    const n = e - s;
    return n === 0 ? 0 : n * 65536 + b[e - 1] * 256 + b[s + (n >> 1)];
  }

  push(chunk: Buffer): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    const n = buf.length;
    let pos = 0;
    let nextPkg = buf.indexOf(PKG_OPEN, pos);
    for (;;) {
      const f = buf.indexOf(FILE_OPEN, pos);
      if (nextPkg >= 0 && nextPkg < pos) nextPkg = buf.indexOf(PKG_OPEN, pos);
      if (nextPkg >= 0 && (f < 0 || nextPkg < f)) {
        const gt = buf.indexOf(62, nextPkg);
        if (gt < 0) {
          pos = nextPkg;
          break;
        }
        const at = buf.indexOf(PKGID, nextPkg);
        if (at < 0 || at > gt) {
          this.problem ??= 'a <package> without pkgid';
          this.pkgid = undefined;
        } else {
          const q = buf[at + 6];
          const end = buf.indexOf(q, at + 7);
          this.pkgid = buf.toString('latin1', at + 7, end);
        }
        pos = gt + 1;
        nextPkg = buf.indexOf(PKG_OPEN, pos);
        continue;
      }
      if (f < 0) {
        // Keep a possible partial '<file' or '<package' at the end for the next chunk.
        pos = Math.max(pos, n - PKG_OPEN.length);
        break;
      }
      const c = buf[f + 5];
      if (c !== 62 && c !== 32) {
        // '<filelists …>' or a tag merely starting with "file".
        if (f + 5 >= n) {
          pos = f;
          break;
        }
        pos = f + 5;
        continue;
      }
      const gt = buf.indexOf(62, f + 5);
      if (gt < 0) {
        pos = f;
        break;
      }
      const lt = buf.indexOf(60, gt + 1);
      if (lt < 0) {
        pos = f;
        break;
      }
      if (this.pkgid !== undefined && this.keys.has(FilelistsScanner.key(buf, gt + 1, lt))) {
        const path = decodeEntities(buf.toString('utf8', gt + 1, lt));
        if (this.wanted.has(path)) {
          const list = this.found.get(this.pkgid);
          if (list) list.push(path);
          else this.found.set(this.pkgid, [path]);
        }
      }
      pos = lt;
    }
    this.rest = pos < n ? Buffer.from(buf.subarray(pos)) : undefined;
  }
}

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Reads a decompressed filelists.xml stream and returns, per pkgid, the wanted paths that package
 * holds. `repo` names the repository in errors (FerryError INTEGRITY on malformed XML).
 */
export async function readFilelists(
  xml: Readable | AsyncIterable<Uint8Array>,
  wanted: ReadonlySet<string>,
  repo = 'repository',
): Promise<Map<string, string[]>> {
  const scanner = new FilelistsScanner(wanted);
  const fail = (what: string): FerryError =>
    new FerryError('INTEGRITY', `${repo}: filelists.xml is malformed: ${what}`, {
      artifact: `${repo} filelists.xml`,
      hint: 'the mirror served damaged metadata; refresh it or use another mirror',
    });
  let head = '';
  for await (const chunk of xml as AsyncIterable<Uint8Array>) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (head.length < 512) {
      head += b.toString('latin1', 0, Math.min(b.length, 512));
      if (head.length >= 512 && !head.includes('<filelists'))
        throw fail('no <filelists> element: not a filelists.xml');
    }
    scanner.push(b);
    if (scanner.problem) throw fail(scanner.problem);
  }
  if (!head.includes('<filelists')) throw fail('no <filelists> element: not a filelists.xml');
  return scanner.found;
}

/**
 * The file paths the packages require (plain and inside rich dependencies, weak ones too): what
 * filelists must be asked for. Paths primary already lists stay wanted, because a second
 * package may own the same path only in filelists and dnf weighs every provider.
 */
export function wantedFiles(packages: Iterable<RpmPackage>): Set<string> {
  const wanted = new Set<string>();
  const add = (name: string): void => {
    if (name.charCodeAt(0) === 47 /* '/' */) wanted.add(name);
    else if (isRich(name)) {
      try {
        for (const a of richAtoms(parseRich(name))) if (a.name.charCodeAt(0) === 47) wanted.add(a.name);
      } catch {
        // A malformed rich dependency is reported by the resolver, with its package.
      }
    }
  };
  for (const p of packages) {
    for (const d of p.requires) add(d.name);
    for (const d of p.recommends) add(d.name);
    for (const d of p.supplements) add(d.name);
    // A Conflicts on a path excludes the packages owning it, so the resolver needs them too.
    for (const d of p.conflicts) add(d.name);
  }
  return wanted;
}

/** Adds filelists' paths to the packages' `files` (matched by checksum = pkgid), once each. */
export function mergeFiles(
  packages: Iterable<RpmPackage>,
  found: ReadonlyMap<string, readonly string[]>,
): void {
  for (const p of packages) {
    const extra = found.get(p.checksum.value);
    if (!extra) continue;
    const have = new Set(p.files);
    for (const f of extra) if (!have.has(f)) p.files.push(f);
  }
}
