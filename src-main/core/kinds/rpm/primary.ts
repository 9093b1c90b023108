/**
 * Streaming reader of a repository's primary.xml (already decompressed: decompress.ts): one
 * RpmPackage per `<package>`, emitted as soon as its closing tag is read, so only the current
 * package's fields are held, never the XML. Summaries and descriptions are skipped unread.
 */
import type { Readable } from 'node:stream';
import { FerryError } from '../../base/errors/index.js';
import type { RpmDep, RpmFlag, RpmPackage } from './package.js';
import { decodeEntities, parseAttrs, XmlScanError, XmlScanner, type XmlSink } from './xml-scan.js';

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

/** The value of attribute `key` in a raw attribute string (createrepo_c writes `key="v"`). */
function attr(raw: string, key: string): string | undefined {
  // ' key="' so that 'rel' does not match inside another name; the raw string starts with
  // the whitespace that followed the tag name.
  const at = raw.indexOf(` ${key}="`);
  if (at < 0) return raw.includes(`${key}=`) ? parseAttrs(raw)[key] : undefined;
  const start = at + key.length + 3;
  const end = raw.indexOf('"', start);
  const v = raw.slice(start, end < 0 ? raw.length : end);
  return v.indexOf('&') < 0 ? v : decodeEntities(v);
}

/**
 * One `<rpm:entry>` as RpmDep; rpmlib(…) requires are kept here and ignored by the resolver.
 * The hottest path of the reader (a quarter of a million entries in a 20k primary), so it reads
 * the five attributes by indexOf instead of building a map for each entry.
 */
export function depFromAttrs(raw: string): RpmDep {
  const dep: RpmDep = { name: attr(raw, 'name') ?? '' };
  const flags = attr(raw, 'flags');
  if (flags && FLAGS.has(flags)) {
    dep.flags = flags as RpmFlag;
    const epoch = attr(raw, 'epoch');
    dep.epoch = epoch ? Number(epoch) : 0;
    const ver = attr(raw, 'ver');
    if (ver !== undefined) dep.ver = ver;
    const rel = attr(raw, 'rel');
    if (rel !== undefined) dep.rel = rel;
  }
  const pre = attr(raw, 'pre');
  if (pre === '1' || pre === 'true') dep.pre = true;
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
 * Feeds a decompressed primary.xml stream to `sink`, pausing (yielding) after each chunk so a
 * caller can pass on the packages it completed. Rejects with FerryError (INTEGRITY) naming `repo`
 * when the XML is malformed or a package lacks a field the resolver and fetch need.
 */
async function* scanPrimary(
  xml: Readable | AsyncIterable<Uint8Array>,
  repo: string,
  sink: PrimarySink,
): AsyncGenerator<void> {
  const scanner = new XmlScanner(sink);
  try {
    for await (const chunk of xml as AsyncIterable<Uint8Array>) {
      scanner.push(
        Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      );
      if (sink.problem) throw malformed(repo, sink.problem);
      yield;
    }
    scanner.end();
  } catch (e) {
    if (e instanceof FerryError) throw e;
    if (e instanceof XmlScanError) throw malformed(repo, e.message, e);
    throw e;
  }
  if (sink.problem) throw malformed(repo, sink.problem);
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
  for await (const _ of scanPrimary(xml, repo, sink));
  return sink.count;
}

/** The same as an async iterable, yielding packages as each chunk completes them. */
export async function* readPrimary(
  xml: Readable | AsyncIterable<Uint8Array>,
  repo: string,
): AsyncIterable<RpmPackage> {
  let batch: RpmPackage[] = [];
  const sink = new PrimarySink(repo, (p) => batch.push(p));
  for await (const _ of scanPrimary(xml, repo, sink)) {
    const out = batch;
    batch = [];
    yield* out;
  }
  yield* batch;
}
