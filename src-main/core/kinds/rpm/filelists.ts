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
import { parseAttrs, XmlScanError, XmlScanner, type XmlSink } from './xml-scan.js';

class FilelistsSink implements XmlSink {
  wantText = false;
  private pkgid: string | undefined;
  private inFile = false;
  readonly found = new Map<string, string[]>();
  problem: string | undefined;

  constructor(private readonly wanted: ReadonlySet<string>) {}

  open(name: string, attrs: string): void {
    if (name === 'file') {
      if (this.pkgid !== undefined) {
        this.inFile = true;
        this.wantText = true;
      }
    } else if (name === 'package') {
      const id = parseAttrs(attrs).pkgid;
      if (!id) this.problem ??= 'a <package> without pkgid';
      this.pkgid = id;
    } else if (name === 'filelists' || name === 'version') {
      // nothing to keep
    }
  }

  text(t: string): void {
    this.wantText = false;
    if (!this.inFile || this.pkgid === undefined) return;
    this.inFile = false;
    if (!this.wanted.has(t)) return;
    const list = this.found.get(this.pkgid);
    if (list) list.push(t);
    else this.found.set(this.pkgid, [t]);
  }

  close(name: string): void {
    if (name === 'file') {
      this.inFile = false;
      this.wantText = false;
    } else if (name === 'package') this.pkgid = undefined;
  }
}

/**
 * Reads a decompressed filelists.xml stream and returns, per pkgid, the wanted paths that package
 * holds. `repo` names the repository in errors (FerryError INTEGRITY on malformed XML).
 */
export async function readFilelists(
  xml: Readable | AsyncIterable<Uint8Array>,
  wanted: ReadonlySet<string>,
  repo = 'repository',
): Promise<Map<string, string[]>> {
  const sink = new FilelistsSink(wanted);
  const scanner = new XmlScanner(sink);
  const fail = (what: string, cause?: unknown): FerryError =>
    new FerryError('INTEGRITY', `${repo}: filelists.xml is malformed: ${what}`, {
      artifact: `${repo} filelists.xml`,
      hint: 'the mirror served damaged metadata; refresh it or use another mirror',
      ...(cause !== undefined ? { cause } : {}),
    });
  try {
    for await (const chunk of xml as AsyncIterable<Uint8Array>) {
      scanner.push(
        Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      );
      if (sink.problem) throw fail(sink.problem);
    }
    scanner.end();
  } catch (e) {
    if (e instanceof XmlScanError) throw fail(e.message, e);
    throw e;
  }
  return sink.found;
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
