/**
 * Packages indexes: one stanza per binary package. A Debian main index is ~60k stanzas and 50 MB
 * uncompressed, so it is streamed: bytes are hashed as they arrive (the Release's SHA256 is the
 * only thing that makes them trustworthy), decompressed on the fly and cut into stanzas; only the
 * fields resolution and fetching need are kept. Records are handed out only once the whole
 * index has matched its Release entry, so nothing unverified reaches the resolver.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import xz from 'xz-decompress';
import { FerryError } from '../../base/errors/index.js';
import type { IndexCandidate, Release } from './release.js';
import type { RelationOp } from './version.js';

/** One atom of a relationship field: `name[:arch] [(op version)]`. */
export interface Relation {
  name: string;
  /** `any`, `native` or an architecture name; absent means the depender's own architecture. */
  arch?: string;
  op?: RelationOp;
  version?: string;
}

/** An OR-group (`a | b | c`): satisfied by any one of its alternatives, tried in order. */
export type Alternatives = Relation[];

export type MultiArch = 'no' | 'same' | 'foreign' | 'allowed';

export interface DebPackage {
  readonly package: string;
  version: string;
  architecture: string;
  multiArch: MultiArch;
  essential: boolean;
  // Undefined rather than absent on parsed records: every record has the same fields (one
  // object shape over ~60k stanzas), the missing ones set to undefined.
  priority?: string | undefined;
  source?: string | undefined;
  section?: string | undefined;
  readonly preDepends: Alternatives[];
  readonly depends: Alternatives[];
  readonly recommends: Alternatives[];
  readonly conflicts: Relation[];
  readonly breaks: Relation[];
  /** Provided virtual names; a version is present only for `name (= v)` (Policy §7.5). */
  provides: Relation[];
  filename: string;
  size: number;
  sha256: string;
  /** Where the stanza came from, e.g. "debian bookworm-security"; set by the caller. */
  origin?: string;
}

const OPS: Record<string, RelationOp> = {
  '<<': '<<',
  '<=': '<=',
  '=': '=',
  '>=': '>=',
  '>>': '>>',
  // dpkg still accepts the obsolete one-character forms and reads them as the inclusive ones.
  '<': '<=',
  '>': '>=',
};

const isNameEnd = (c: number): boolean =>
  c === 32 || c === 9 || c === 10 || c === 40 || c === 58 || c === 91 || c === 60;
const isWs = (c: number): boolean => c === 32 || c === 9 || c === 10;

/**
 * One alternative, `name[:arch] [(op version)] [arch restrictions] [<profiles>]`, scanned by hand:
 * resolution parses about a million of them per run, and a regex per atom was most of the time.
 */
function parseAtom(a: string, where: string): Relation {
  const n = a.length;
  const fail = (): FerryError =>
    new FerryError('INTEGRITY', `${where}: unreadable relation "${a.trim()}"`, { artifact: where });
  let i = 0;
  while (i < n && isWs(a.charCodeAt(i))) i++;
  let j = i;
  while (j < n && !isNameEnd(a.charCodeAt(j))) j++;
  if (j === i) throw fail();
  const r: Relation = { name: a.slice(i, j) };
  if (a.charCodeAt(j) === 58) {
    const k = ++j;
    while (j < n && /[A-Za-z0-9-]/.test(a[j])) j++;
    if (j === k) throw fail();
    r.arch = a.slice(k, j);
  }
  while (j < n && isWs(a.charCodeAt(j))) j++;
  if (a.charCodeAt(j) === 40) {
    const close = a.indexOf(')', j);
    if (close < 0) throw fail();
    const inner = a.slice(j + 1, close).trim();
    let k = 0;
    while (k < inner.length && (inner[k] === '<' || inner[k] === '>' || inner[k] === '=')) k++;
    const op = OPS[inner.slice(0, k)];
    const version = inner.slice(k).trim();
    if (!op || version === '' || /\s/.test(version)) throw fail();
    r.op = op;
    r.version = version;
    j = close + 1;
  }
  // Architecture restrictions and build profiles only occur in source stanzas; skip them.
  for (;;) {
    while (j < n && isWs(a.charCodeAt(j))) j++;
    if (j >= n) break;
    const c = a[j];
    const close = c === '[' ? a.indexOf(']', j) : c === '<' ? a.indexOf('>', j) : -1;
    if (close < 0) throw fail();
    j = close + 1;
  }
  return r;
}

/** Parses one relationship field into AND-ed OR-groups; `where` names the stanza in errors. */
export function parseRelations(text: string | undefined, where: string): Alternatives[] {
  if (!text) return [];
  const out: Alternatives[] = [];
  for (const group of text.split(',')) {
    if (group.trim() === '') continue;
    const alts: Alternatives = [];
    for (const alt of group.split('|')) alts.push(parseAtom(alt, where));
    out.push(alts);
  }
  return out;
}

/** Provides, Conflicts, Breaks: no OR-groups allowed; read as a flat list. */
function flatRelations(text: string | undefined, where: string): Relation[] {
  return parseRelations(text, where).flat();
}

function multiArchOf(v: string | undefined): MultiArch {
  return v === 'same' || v === 'foreign' || v === 'allowed' ? v : 'no';
}

/**
 * A few fields take a handful of values over ~60k stanzas (architecture, priority, section): one
 * shared string each instead of one copy per record keeps an index's records smaller.
 */
const NO_RELATIONS: Relation[] = [];
const interned = new Map<string, string>();
function intern(v: string): string {
  const have = interned.get(v);
  if (have !== undefined) return have;
  if (interned.size < 4096) interned.set(v, v);
  return v;
}
const internOpt = (v: string | undefined): string | undefined => (v === undefined ? v : intern(v));

/**
 * One stanza's record. The relationship fields are kept as text and parsed on first use: a run
 * resolves a few hundred of ~60k stanzas, and parsing all of them up front was most of the time
 * and memory. A malformed field still fails loudly (INTEGRITY, naming the stanza) when read.
 */
class DebRecord implements DebPackage {
  package: string;
  version: string;
  architecture: string;
  multiArch: MultiArch;
  essential: boolean;
  priority: string | undefined;
  source: string | undefined;
  section: string | undefined;
  provides: Relation[];
  filename: string;
  size: number;
  sha256: string;
  origin?: string;
  #raw: (string | undefined)[];
  #where: string;
  #parsed: (Alternatives[] | undefined)[] | undefined;

  constructor(f: Map<string, string>, where: string) {
    const at = `${where}: ${f.get('package') ?? '(no Package field)'}`;
    const need = (k: string): string => {
      const v = f.get(k);
      if (v === undefined || v === '') {
        throw new FerryError('INTEGRITY', `${at} has no ${k} field`, { artifact: where });
      }
      return v;
    };
    this.package = need('package');
    this.version = need('version');
    this.architecture = intern(need('architecture'));
    this.size = Number(need('size'));
    this.sha256 = need('sha256').toLowerCase();
    if (!Number.isSafeInteger(this.size) || !/^[0-9a-f]{64}$/.test(this.sha256)) {
      throw new FerryError('INTEGRITY', `${at} has an unreadable Size or SHA256`, { artifact: where });
    }
    this.filename = need('filename');
    this.multiArch = multiArchOf(f.get('multi-arch'));
    this.essential = f.get('essential') === 'yes';
    this.priority = internOpt(f.get('priority'));
    this.source = f.get('source');
    this.section = internOpt(f.get('section'));
    // Provides is read eagerly: the resolver indexes every provider up front.
    const provides = f.get('provides');
    // Most stanzas provide nothing: they share one empty list.
    this.provides = provides ? flatRelations(provides, at) : NO_RELATIONS;
    this.#raw = [
      f.get('pre-depends'),
      f.get('depends'),
      f.get('recommends'),
      f.get('conflicts'),
      f.get('breaks'),
    ];
    this.#where = where;
  }

  #field(i: number): Alternatives[] {
    const parsed = (this.#parsed ??= []);
    let v = parsed[i];
    if (!v) {
      v = parseRelations(this.#raw[i], `${this.#where}: ${this.package}`);
      parsed[i] = v;
    }
    return v;
  }
  get preDepends(): Alternatives[] {
    return this.#field(0);
  }
  get depends(): Alternatives[] {
    return this.#field(1);
  }
  get recommends(): Alternatives[] {
    return this.#field(2);
  }
  get conflicts(): Relation[] {
    return this.#field(3).flat();
  }
  get breaks(): Relation[] {
    return this.#field(4).flat();
  }
}

/** Builds a record from one stanza's fields (lower-cased names). */
export function packageFromFields(f: Map<string, string>, where: string): DebPackage {
  return new DebRecord(f, where);
}

// Only these fields are kept; Description and the other hashes are most of the bytes.
const KEEP = new Set([
  'package',
  'version',
  'architecture',
  'multi-arch',
  'essential',
  'priority',
  'source',
  'section',
  'pre-depends',
  'depends',
  'recommends',
  'conflicts',
  'breaks',
  'provides',
  'filename',
  'size',
  'sha256',
]);

/**
 * Cuts a Packages byte stream into stanzas incrementally. It works on bytes, not decoded text:
 * slicing field values out of a large decoded string would keep every chunk alive through V8's
 * sliced strings (hundreds of MB for one index), while Buffer.toString copies just the value.
 */
export class StanzaSplitter {
  private carry: Buffer | undefined;
  private fields = new Map<string, string>();
  private last = '';
  constructor(private readonly onStanza: (fields: Map<string, string>) => void) {}

  push(chunk: Uint8Array): void {
    let b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.carry) {
      b = Buffer.concat([this.carry, b]);
      this.carry = undefined;
    }
    let i = 0;
    for (;;) {
      const nl = b.indexOf(10, i);
      if (nl < 0) break;
      this.line(b, i, nl);
      i = nl + 1;
    }
    if (i < b.length) this.carry = Buffer.from(b.subarray(i));
  }

  end(): void {
    if (this.carry) this.line(this.carry, 0, this.carry.length);
    this.carry = undefined;
    this.flush();
  }

  private flush(): void {
    if (this.fields.size) this.onStanza(this.fields);
    this.fields = new Map();
    this.last = '';
  }

  private line(b: Buffer, from: number, to: number): void {
    let end = to;
    if (end > from && b[end - 1] === 13) end--;
    if (end === from) {
      this.flush();
      return;
    }
    const c = b[from];
    if (c === 32 || c === 9) {
      // Continuation line: appended to a kept field (a long Depends may be folded).
      if (this.last) {
        this.fields.set(
          this.last,
          `${this.fields.get(this.last)} ${b.toString('utf8', from + 1, end).trim()}`,
        );
      }
      return;
    }
    if (c === 35) return; // '#' comment
    const colon = b.indexOf(58, from);
    // Field names are short; a long one (or none) cannot be one we keep.
    if (colon < 0 || colon >= end || colon - from > 16) {
      this.last = '';
      return;
    }
    const name = b.toString('latin1', from, colon).toLowerCase();
    if (!KEEP.has(name)) {
      this.last = '';
      return;
    }
    this.last = name;
    this.fields.set(name, b.toString('utf8', colon + 1, end).trim());
  }
}

/** Parses already-trusted Packages text (tests, small fixtures). */
export function parsePackagesText(text: string, where: string): DebPackage[] {
  const out: DebPackage[] = [];
  const sp = new StanzaSplitter((f) => out.push(packageFromFields(f, where)));
  sp.push(Buffer.from(text, 'utf8'));
  sp.end();
  return out;
}

const hex = (h: Hash): string => h.digest('hex');

/** Counts and hashes bytes as they pass; refuses as soon as more arrive than the Release said. */
async function* tap(
  src: AsyncIterable<Uint8Array>,
  hash: Hash,
  limit: number,
  what: () => string,
  counter: { n: number },
): AsyncGenerator<Uint8Array> {
  for await (const chunk of src) {
    counter.n += chunk.length;
    if (counter.n > limit) {
      throw new FerryError('CHECKSUM', `${what()} is longer than the ${limit} bytes its Release lists`, {
        artifact: what(),
        hint: 'the mirror serves a different index than its InRelease names; refresh or use another mirror',
        details: { expectedSize: limit },
      });
    }
    hash.update(chunk);
    yield chunk;
  }
}

export interface ReadIndexOptions {
  /** The Release entry of the file being read (its compression says how to decode it). */
  index: IndexCandidate;
  /** The Release entry of the uncompressed form, when listed: the decoded text is checked too. */
  plain?: { sha256: string; size: number } | undefined;
  /** Names the index in messages, e.g. "debian bookworm main/binary-amd64/Packages.xz". */
  name: string;
  /** Set on every record. */
  origin?: string;
}

function mismatch(name: string, what: string, expected: string, actual: string): FerryError {
  return new FerryError('CHECKSUM', `${name}: ${what} is ${actual}, its Release says ${expected}`, {
    artifact: name,
    hint: 'the mirror is inconsistent or was tampered with; refresh the indexes or use another mirror',
    details: { expected, actual },
  });
}

/**
 * Streams one Packages index from `source` (its raw, possibly compressed bytes), verifying it
 * against its Release entry while it is parsed. Resolves to the records only when every byte
 * matched; otherwise rejects with a CHECKSUM error naming the index and both values.
 */
export async function readPackagesIndex(
  source: AsyncIterable<Uint8Array>,
  opts: ReadIndexOptions,
): Promise<DebPackage[]> {
  const { index, name } = opts;
  const rawHash = createHash('sha256');
  const rawCount = { n: 0 };
  const raw = tap(source, rawHash, index.size, () => name, rawCount);
  let decoded: AsyncIterable<Uint8Array>;
  if (index.compression === 'gz') {
    const gunzip = createGunzip();
    decoded = pipeline(Readable.from(raw), gunzip, () => {});
  } else if (index.compression === 'xz') {
    // xz-decompress (WASM xz-embedded) takes and returns web streams; Node's are async-iterable.
    decoded = new xz.XzReadableStream(
      WebReadableStream.from(raw) as never,
    ) as unknown as AsyncIterable<Uint8Array>;
  } else {
    decoded = raw;
  }
  const plainHash = opts.plain && index.compression !== 'none' ? createHash('sha256') : undefined;
  const plainCount = { n: 0 };
  if (plainHash && opts.plain) {
    decoded = tap(decoded, plainHash, opts.plain.size, () => `${name} (decompressed)`, plainCount);
  }
  const out: DebPackage[] = [];
  const where = opts.origin ?? name;
  // A stanza that does not parse is reported only after the hash matched: in a damaged or
  // tampered file the mismatch is the finding, not the garbage it produced.
  let bad: unknown;
  const splitter = new StanzaSplitter((f) => {
    if (bad) return;
    try {
      const p = packageFromFields(f, where);
      if (opts.origin) p.origin = opts.origin;
      out.push(p);
    } catch (e) {
      bad = e;
    }
  });
  try {
    for await (const chunk of decoded) splitter.push(chunk);
  } catch (e) {
    if (e instanceof FerryError) throw e;
    throw new FerryError('INTEGRITY', `${name}: cannot decompress (${(e as Error).message})`, {
      artifact: name,
      hint: 'the file is damaged or not what its name says; refresh the indexes',
      cause: e,
    });
  }
  if (rawCount.n !== index.size) {
    throw mismatch(name, 'the size', String(index.size), String(rawCount.n));
  }
  const got = hex(rawHash);
  if (got !== index.sha256) throw mismatch(name, 'the SHA256', index.sha256, got);
  if (plainHash && opts.plain) {
    const p = hex(plainHash);
    if (plainCount.n !== opts.plain.size || p !== opts.plain.sha256) {
      throw mismatch(`${name} (decompressed)`, 'the SHA256', opts.plain.sha256, p);
    }
  }
  splitter.end();
  if (bad) throw bad;
  return out;
}

/**
 * Reads the Packages index of one component/arch from a local copy of a suite (dists/<suite>/),
 * taking the first listed form that exists (.xz, .gz, then plain), as apt does when a mirror
 * lacks the compressed files.
 */
export async function readLocalPackages(
  suiteDir: string,
  release: Release,
  candidates: IndexCandidate[],
  label: string,
): Promise<DebPackage[]> {
  for (const c of candidates) {
    const file = path.join(suiteDir, c.path);
    if (!fs.existsSync(file)) continue;
    const plainPath = c.path.replace(/\.(xz|gz)$/, '');
    return readPackagesIndex(fs.createReadStream(file, { highWaterMark: 1 << 20 }), {
      index: c,
      plain: release.files.get(plainPath),
      name: `${label} ${c.path}`,
      origin: label,
    });
  }
  throw new FerryError(
    'NOT_FOUND',
    `${label}: none of ${candidates.map((c) => c.path).join(', ')} is present`,
    {
      artifact: label,
      hint: 'the mirror lacks the indexes its Release lists; use a complete mirror',
    },
  );
}
