/**
 * Streaming reader of a repository's primary.xml (already decompressed: decompress.ts): one
 * RpmPackage per `<package>`, emitted as soon as its closing tag is read, so only the current
 * package's fields are held, never the XML. Summaries and descriptions are skipped unread.
 */
import type { Readable } from 'node:stream';
import { FerryError } from '../../base/errors/index.js';
import type { RpmDep, RpmFlag, RpmPackage } from './package.js';
import { parseAttrs, XmlScanError, XmlScanner, type XmlSink } from './xml-scan.js';

type DepList =
  | 'provides'
  | 'requires'
  | 'conflicts'
  | 'obsoletes'
  | 'recommends'
  | 'suggests'
  | 'supplements'
  | 'enhances';
const DEP_LISTS = new Set<string>([
  'provides',
  'requires',
  'conflicts',
  'obsoletes',
  'recommends',
  'suggests',
  'supplements',
  'enhances',
]);
const FLAGS = new Set<string>(['EQ', 'LT', 'LE', 'GT', 'GE']);
type TextField = 'name' | 'arch' | 'checksum' | 'sourcerpm' | 'file';

function emptyPackage(repo: string): RpmPackage {
  return {
    name: '',
    arch: '',
    epoch: 0,
    version: '',
    release: '',
    checksum: { type: '', value: '' },
    location: '',
    size: 0,
    provides: [],
    requires: [],
    conflicts: [],
    obsoletes: [],
    recommends: [],
    suggests: [],
    supplements: [],
    enhances: [],
    files: [],
    repo,
  };
}

/** One `<rpm:entry>` as RpmDep; rpmlib(…) requires are kept here and ignored by the resolver. */
export function depFromAttrs(raw: string): RpmDep {
  const a = parseAttrs(raw);
  const dep: RpmDep = { name: a.name ?? '' };
  if (a.flags && FLAGS.has(a.flags)) {
    dep.flags = a.flags as RpmFlag;
    dep.epoch = a.epoch ? Number(a.epoch) : 0;
    if (a.ver !== undefined) dep.ver = a.ver;
    if (a.rel !== undefined) dep.rel = a.rel;
  }
  if (a.pre === '1' || a.pre === 'true') dep.pre = true;
  return dep;
}

class PrimarySink implements XmlSink {
  wantText = false;
  private pkg: RpmPackage | undefined;
  private field: TextField | undefined;
  private list: DepList | undefined;
  private seenRoot = false;
  count = 0;
  problem: string | undefined;

  constructor(
    private readonly repo: string,
    private readonly emit: (p: RpmPackage) => void,
  ) {}

  open(name: string, attrs: string): void {
    const pkg = this.pkg;
    if (!pkg) {
      if (name === 'metadata') this.seenRoot = true;
      else if (name === 'package') {
        if (!this.seenRoot) this.problem ??= 'a <package> outside <metadata>: not a primary.xml';
        this.pkg = emptyPackage(this.repo);
      }
      return;
    }
    switch (name) {
      case 'entry':
        if (this.list) pkg[this.list].push(depFromAttrs(attrs));
        return;
      case 'name':
      case 'arch':
      case 'sourcerpm':
      case 'file':
        this.field = name;
        this.wantText = true;
        return;
      case 'checksum': {
        pkg.checksum.type = parseAttrs(attrs).type ?? '';
        this.field = 'checksum';
        this.wantText = true;
        return;
      }
      case 'version': {
        const a = parseAttrs(attrs);
        pkg.epoch = a.epoch ? Number(a.epoch) : 0;
        pkg.version = a.ver ?? '';
        pkg.release = a.rel ?? '';
        return;
      }
      case 'size':
        pkg.size = Number(parseAttrs(attrs).package ?? 0);
        return;
      case 'location':
        pkg.location = parseAttrs(attrs).href ?? '';
        return;
      default:
        if (DEP_LISTS.has(name)) this.list = name as DepList;
    }
  }

  text(t: string): void {
    const pkg = this.pkg;
    const f = this.field;
    this.wantText = false;
    this.field = undefined;
    if (!pkg || !f) return;
    if (f === 'file') pkg.files.push(t);
    else if (f === 'checksum') pkg.checksum.value = t.trim();
    else if (f === 'sourcerpm') pkg.sourcerpm = t;
    else pkg[f] = t.trim();
  }

  close(name: string): void {
    // An empty element (<sourcerpm></sourcerpm>) gets no text call.
    if (this.field === name) {
      this.field = undefined;
      this.wantText = false;
    }
    if (this.list === name) this.list = undefined;
    else if (name === 'package' && this.pkg) {
      const p = this.pkg;
      this.pkg = undefined;
      this.count++;
      const missing = !p.name
        ? 'name'
        : !p.arch
          ? 'arch'
          : !p.version
            ? 'version'
            : !p.checksum.value
              ? 'checksum'
              : !p.location
                ? 'location'
                : '';
      if (missing) this.problem ??= `package #${this.count} (${p.name || 'unnamed'}) has no ${missing}`;
      else this.emit(p);
    }
  }
}

function malformed(repo: string, what: string, cause?: unknown): FerryError {
  return new FerryError('INTEGRITY', `${repo}: primary.xml is malformed: ${what}`, {
    artifact: `${repo} primary.xml`,
    hint: 'the mirror served damaged metadata; refresh it or use another mirror',
    ...(cause !== undefined ? { cause } : {}),
  });
}

/**
 * Calls `onPackage` for every package of a decompressed primary.xml stream; resolves to the
 * count. Rejects with FerryError (INTEGRITY) naming `repo` when the XML is malformed or a
 * package lacks a field the resolver and fetch need (name, arch, version, checksum, location).
 */
export async function readPrimaryInto(
  xml: Readable | AsyncIterable<Uint8Array>,
  repo: string,
  onPackage: (p: RpmPackage) => void,
): Promise<number> {
  const sink = new PrimarySink(repo, onPackage);
  const scanner = new XmlScanner(sink);
  try {
    for await (const chunk of xml as AsyncIterable<Uint8Array>) {
      scanner.push(
        Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      );
      if (sink.problem) throw malformed(repo, sink.problem);
    }
    scanner.end();
  } catch (e) {
    if (e instanceof FerryError) throw e;
    if (e instanceof XmlScanError) throw malformed(repo, e.message, e);
    throw e;
  }
  if (sink.problem) throw malformed(repo, sink.problem);
  return sink.count;
}

/** The same as an async iterable, yielding packages as each chunk completes them. */
export async function* readPrimary(
  xml: Readable | AsyncIterable<Uint8Array>,
  repo: string,
): AsyncIterable<RpmPackage> {
  let batch: RpmPackage[] = [];
  const sink = new PrimarySink(repo, (p) => batch.push(p));
  const scanner = new XmlScanner(sink);
  try {
    for await (const chunk of xml as AsyncIterable<Uint8Array>) {
      scanner.push(
        Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      );
      if (sink.problem) throw malformed(repo, sink.problem);
      const out = batch;
      batch = [];
      yield* out;
    }
    scanner.end();
  } catch (e) {
    if (e instanceof FerryError) throw e;
    if (e instanceof XmlScanError) throw malformed(repo, e.message, e);
    throw e;
  }
  if (sink.problem) throw malformed(repo, sink.problem);
  yield* batch;
}
