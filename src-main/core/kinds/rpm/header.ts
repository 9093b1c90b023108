import fs from 'node:fs';
import { Readable } from 'node:stream';
import { FerryError } from '../../base/errors/index.js';
import type { RpmDep, RpmFlag } from './package.js';

/**
 * Reads an .rpm file's lead, signature header and main header — only those bytes: the payload
 * (the compressed cpio/ustar archive, most of the file) is never read, so a 100 MB package
 * costs a few kilobytes. The result is what a repodata writer needs for primary, filelists and
 * other (the fields createrepo_c takes from the header) plus the signature's issuer key, which
 * is how a carried package is matched to the distribution key that signed it.
 *
 * Layout (rpm's lib/header.c, lib/rpmlead.c):
 *   lead: 96 bytes, magic ed ab ee db;
 *   signature header: header magic 8e ad e8 01, 4 reserved, nindex u32, hsize u32, nindex
 *     16-byte index entries (tag, type, offset, count), hsize bytes of data, padded to 8;
 *   main header: the same structure, unpadded. Its [start, end) is primary's header-range.
 * All numbers big-endian.
 */

/** One relation as the header has it, with the raw RPMSENSE flags beside the parsed form. */
export interface RpmHeaderDep extends RpmDep {
  /** RPMSENSE_* bits as stored (comparison, pre/post, rpmlib, config…). */
  rawFlags: number;
}

export type RpmFileType = 'file' | 'dir' | 'ghost';

export interface RpmHeaderFile {
  /** Absolute path (dirname + basename). */
  path: string;
  /** 'ghost' when %ghost (wins over dir, as createrepo_c writes it), else 'dir' by mode. */
  type: RpmFileType;
  mode: number;
  /** RPMFILE_* flags (config 1, doc 2, ghost 64…). */
  flags: number;
}

export interface RpmChangelogEntry {
  /** "Name <mail> - version-release", as rpm stores it. */
  author: string;
  /** Seconds since the epoch. */
  date: number;
  text: string;
}

export interface RpmSignatureInfo {
  /** Which signature tag held it: rsa/dsa are header-only, pgp/gpg header+payload. */
  tag: 'rsa' | 'dsa' | 'pgp' | 'gpg';
  /** OpenPGP public-key algorithm id (1 RSA, 17 DSA, 22 EdDSA). */
  pubkeyAlgorithm: number;
  /** Issuer key id, 16 upper-case hex digits (what `rpm -qpi` shows lower-case). */
  keyId?: string;
  /** Issuer fingerprint when the signature carries one (v4: 40 hex digits). */
  fingerprint?: string;
}

export interface RpmHeader {
  name: string;
  /** Absent when the package sets no Epoch (createrepo_c writes epoch="0"). */
  epoch?: number;
  version: string;
  release: string;
  /** The header's arch; 'src' for a source package. */
  arch: string;
  sourcePackage: boolean;
  summary: string;
  description: string;
  url?: string;
  license?: string;
  vendor?: string;
  group?: string;
  packager?: string;
  buildhost?: string;
  sourcerpm?: string;
  buildTime: number;
  /** Installed size in bytes (LONGSIZE, else SIZE). */
  installedSize: number;
  /** Uncompressed payload size (signature LONGARCHIVESIZE, else PAYLOADSIZE, else ARCHIVESIZE). */
  archiveSize: number;
  /** Byte range of the main header in the file: primary's <rpm:header-range>. */
  headerRange: { start: number; end: number };
  provides: RpmHeaderDep[];
  requires: RpmHeaderDep[];
  conflicts: RpmHeaderDep[];
  obsoletes: RpmHeaderDep[];
  recommends: RpmHeaderDep[];
  suggests: RpmHeaderDep[];
  supplements: RpmHeaderDep[];
  enhances: RpmHeaderDep[];
  files: RpmHeaderFile[];
  /** Newest first, as the header stores them. */
  changelog: RpmChangelogEntry[];
  /** The first OpenPGP signature found (RSA/DSA header signature preferred), if signed. */
  signature?: RpmSignatureInfo;
  payloadFormat?: string;
  payloadCompressor?: string;
  /** The modularity label (name:stream:version:context) of a modular build. */
  modularityLabel?: string;
}

// rpm's tag numbers (include/rpm/rpmtag.h).
const T = {
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  SUMMARY: 1004,
  DESCRIPTION: 1005,
  BUILDTIME: 1006,
  BUILDHOST: 1007,
  SIZE: 1009,
  VENDOR: 1011,
  LICENSE: 1014,
  PACKAGER: 1015,
  GROUP: 1016,
  URL: 1020,
  ARCH: 1022,
  FILEMODES: 1030,
  FILEFLAGS: 1037,
  SOURCERPM: 1044,
  ARCHIVESIZE: 1046,
  PROVIDENAME: 1047,
  REQUIREFLAGS: 1048,
  REQUIRENAME: 1049,
  REQUIREVERSION: 1050,
  CONFLICTFLAGS: 1053,
  CONFLICTNAME: 1054,
  CONFLICTVERSION: 1055,
  CHANGELOGTIME: 1080,
  CHANGELOGNAME: 1081,
  CHANGELOGTEXT: 1082,
  OBSOLETENAME: 1090,
  PROVIDEFLAGS: 1112,
  PROVIDEVERSION: 1113,
  OBSOLETEFLAGS: 1114,
  OBSOLETEVERSION: 1115,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  PAYLOADFORMAT: 1124,
  PAYLOADCOMPRESSOR: 1125,
  SOURCEPACKAGE: 1106,
  LONGSIZE: 5009,
  RECOMMENDNAME: 5046,
  RECOMMENDVERSION: 5047,
  RECOMMENDFLAGS: 5048,
  SUGGESTNAME: 5049,
  SUGGESTVERSION: 5050,
  SUGGESTFLAGS: 5051,
  SUPPLEMENTNAME: 5052,
  SUPPLEMENTVERSION: 5053,
  SUPPLEMENTFLAGS: 5054,
  ENHANCENAME: 5055,
  ENHANCEVERSION: 5056,
  ENHANCEFLAGS: 5057,
  MODULARITYLABEL: 5096,
} as const;

// Signature header tags (lib/rpmtag.h RPMSIGTAG_*).
const SIG = {
  SIZE: 1000,
  PGP: 1002,
  GPG: 1005,
  PAYLOADSIZE: 1007,
  DSA: 267,
  RSA: 268,
  LONGSIZE: 270,
  LONGARCHIVESIZE: 271,
} as const;

const RPMSENSE = {
  LESS: 1 << 1,
  GREATER: 1 << 2,
  EQUAL: 1 << 3,
  PREREQ: 1 << 6,
  SCRIPT_PRE: 1 << 9,
  SCRIPT_POST: 1 << 10,
  SCRIPT_PREUN: 1 << 11,
  SCRIPT_POSTUN: 1 << 12,
  RPMLIB: 1 << 24,
  PRETRANS: 1 << 7,
  POSTTRANS: 1 << 5,
  KEYRING: 1 << 26,
} as const;

/** What createrepo_c marks pre="1": install-time prerequisites (its isInstallPreReq + legacy PreReq). */
const INSTALL_ONLY =
  RPMSENSE.SCRIPT_PRE |
  RPMSENSE.SCRIPT_POST |
  RPMSENSE.RPMLIB |
  RPMSENSE.KEYRING |
  RPMSENSE.PRETRANS |
  RPMSENSE.POSTTRANS;
const PREREQ_ANY =
  RPMSENSE.PREREQ |
  RPMSENSE.SCRIPT_PRE |
  RPMSENSE.SCRIPT_POST |
  RPMSENSE.SCRIPT_PREUN |
  RPMSENSE.SCRIPT_POSTUN;

export const RPMFILE_CONFIG = 1;
export const RPMFILE_GHOST = 1 << 6;

const LEAD_SIZE = 96;
const HEADER_MAGIC = [0x8e, 0xad, 0xe8, 0x01];
/** rpm refuses headers over 256 MiB (hdrchkData); so does Ferry, before allocating. */
const MAX_HEADER = 256 << 20;
const MAX_INDEX = 0x10000 * 4;

type Value = { type: number; count: number; data: Buffer; at: number };

/** Pulls exact byte counts from a chunk stream, keeping only what it has not handed out. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private offset = 0;
  private readonly it: AsyncIterator<Buffer>;
  constructor(src: AsyncIterable<Buffer>) {
    this.it = src[Symbol.asyncIterator]();
  }
  get position(): number {
    return this.offset;
  }
  async read(n: number, what: string, artifact: string): Promise<Buffer> {
    while (this.buf.length < n) {
      const next = await this.it.next();
      if (next.done) throw bad(artifact, `the file ends inside the ${what}`);
      this.buf = this.buf.length ? Buffer.concat([this.buf, next.value]) : next.value;
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.offset += n;
    return out;
  }
  async close(): Promise<void> {
    await this.it.return?.();
  }
}

function bad(artifact: string, why: string): FerryError {
  return new FerryError('INTEGRITY', `${artifact} is not a readable RPM package: ${why}.`, {
    artifact,
    hint: 'Download it again; if the mirror keeps serving it so, the mirror copy is damaged.',
  });
}

async function readHeaderStruct(
  r: ByteReader,
  what: string,
  artifact: string,
): Promise<{ tags: Map<number, Value>; size: number }> {
  const intro = await r.read(16, what, artifact);
  if (!HEADER_MAGIC.every((b, i) => intro[i] === b)) throw bad(artifact, `no header magic at the ${what}`);
  const nindex = intro.readUInt32BE(8);
  const hsize = intro.readUInt32BE(12);
  if (nindex > MAX_INDEX || hsize > MAX_HEADER)
    throw bad(artifact, `the ${what} claims ${nindex} tags, ${hsize} bytes`);
  const index = await r.read(nindex * 16, what, artifact);
  const data = await r.read(hsize, what, artifact);
  const tags = new Map<number, Value>();
  for (let i = 0; i < nindex; i++) {
    const tag = index.readUInt32BE(i * 16);
    const type = index.readUInt32BE(i * 16 + 4);
    const at = index.readInt32BE(i * 16 + 8);
    const count = index.readUInt32BE(i * 16 + 12);
    if (at < 0 || at > hsize) throw bad(artifact, `tag ${tag} of the ${what} points outside it`);
    tags.set(tag, { type, count, data, at });
  }
  return { tags, size: 16 + nindex * 16 + hsize };
}

// Header value types (rpmTagType).
const INT8 = 2;
const INT16 = 3;
const INT32 = 4;
const INT64 = 5;
const STRING = 6;
const BIN = 7;
const STRING_ARRAY = 8;
const I18NSTRING = 9;

function strings(v: Value | undefined, artifact: string): string[] {
  if (!v) return [];
  if (v.type !== STRING && v.type !== STRING_ARRAY && v.type !== I18NSTRING)
    throw bad(artifact, 'a string tag has another type');
  const out: string[] = [];
  let p = v.at;
  const n = v.type === STRING ? 1 : v.count;
  for (let i = 0; i < n; i++) {
    const end = v.data.indexOf(0, p);
    if (end < 0) throw bad(artifact, 'a string runs past the header');
    out.push(v.data.toString('utf8', p, end));
    p = end + 1;
  }
  return out;
}

function str(v: Value | undefined, artifact: string): string | undefined {
  return strings(v, artifact)[0];
}

function ints(v: Value | undefined, artifact: string): number[] {
  if (!v) return [];
  const w = v.type === INT8 ? 1 : v.type === INT16 ? 2 : v.type === INT32 ? 4 : v.type === INT64 ? 8 : 0;
  if (!w) throw bad(artifact, 'an integer tag has another type');
  if (v.at + w * v.count > v.data.length) throw bad(artifact, 'an integer array runs past the header');
  const out: number[] = [];
  for (let i = 0; i < v.count; i++) {
    const o = v.at + i * w;
    out.push(
      w === 1
        ? v.data.readUInt8(o)
        : w === 2
          ? v.data.readUInt16BE(o)
          : w === 4
            ? v.data.readUInt32BE(o)
            : Number(v.data.readBigUInt64BE(o)),
    );
  }
  return out;
}

function bin(v: Value | undefined): Buffer | undefined {
  if (!v || v.type !== BIN) return undefined;
  return v.data.subarray(v.at, v.at + v.count);
}

/** "1:2.0-3" → epoch/ver/rel, as rpm's rpmdsParseEVR splits it. */
export function splitEvr(evr: string): { epoch?: number; ver: string; rel?: string } {
  let rest = evr;
  let epoch: number | undefined;
  const colon = /^(\d+):/.exec(rest);
  if (colon) {
    epoch = Number(colon[1]);
    rest = rest.slice(colon[0].length);
  }
  const dash = rest.lastIndexOf('-');
  const out: { epoch?: number; ver: string; rel?: string } = { ver: dash >= 0 ? rest.slice(0, dash) : rest };
  if (epoch !== undefined) out.epoch = epoch;
  if (dash >= 0) out.rel = rest.slice(dash + 1);
  return out;
}

function cmpFlag(f: number): RpmFlag | undefined {
  const c = f & (RPMSENSE.LESS | RPMSENSE.GREATER | RPMSENSE.EQUAL);
  switch (c) {
    case RPMSENSE.EQUAL:
      return 'EQ';
    case RPMSENSE.LESS:
      return 'LT';
    case RPMSENSE.LESS | RPMSENSE.EQUAL:
      return 'LE';
    case RPMSENSE.GREATER:
      return 'GT';
    case RPMSENSE.GREATER | RPMSENSE.EQUAL:
      return 'GE';
    default:
      return undefined;
  }
}

/** True for what createrepo_c marks pre="1" on a Requires entry. */
export function isPreRequire(rawFlags: number): boolean {
  return (rawFlags & INSTALL_ONLY) !== 0 || (rawFlags & PREREQ_ANY) === RPMSENSE.PREREQ;
}

/** True for rpmlib(…) requirements rpm itself satisfies. */
export function isRpmlib(dep: RpmHeaderDep): boolean {
  return (dep.rawFlags & RPMSENSE.RPMLIB) !== 0 || dep.name.startsWith('rpmlib(');
}

function deps(
  tags: Map<number, Value>,
  nameTag: number,
  flagsTag: number,
  verTag: number,
  artifact: string,
  withPre: boolean,
): RpmHeaderDep[] {
  const names = strings(tags.get(nameTag), artifact);
  const flags = ints(tags.get(flagsTag), artifact);
  const vers = strings(tags.get(verTag), artifact);
  return names.map((name, i) => {
    const raw = flags[i] ?? 0;
    const d: RpmHeaderDep = { name, rawFlags: raw };
    const f = cmpFlag(raw);
    const evr = vers[i] ?? '';
    if (f && evr) {
      d.flags = f;
      const e = splitEvr(evr);
      if (e.epoch !== undefined) d.epoch = e.epoch;
      d.ver = e.ver;
      if (e.rel !== undefined) d.rel = e.rel;
    }
    if (withPre && isPreRequire(raw)) d.pre = true;
    return d;
  });
}

/**
 * The issuer of an OpenPGP signature packet (RFC 4880 §5.2.3; v3 §5.2.2): key id from the
 * issuer subpacket (16) or the v3 body, fingerprint from subpacket 33.
 */
export function signatureIssuer(
  packet: Buffer,
): { pubkeyAlgorithm: number; keyId?: string; fingerprint?: string } | undefined {
  let p = 0;
  const tagByte = packet[p++];
  if (tagByte === undefined || !(tagByte & 0x80)) return undefined;
  let tag: number;
  let len: number;
  if (tagByte & 0x40) {
    tag = tagByte & 0x3f;
    const b0 = packet[p++];
    if (b0 < 192) len = b0;
    else if (b0 < 224) len = ((b0 - 192) << 8) + packet[p++] + 192;
    else if (b0 === 255) {
      len = packet.readUInt32BE(p);
      p += 4;
    } else return undefined;
  } else {
    tag = (tagByte >> 2) & 0x0f;
    const lt = tagByte & 3;
    if (lt === 0) len = packet[p++];
    else if (lt === 1) {
      len = packet.readUInt16BE(p);
      p += 2;
    } else if (lt === 2) {
      len = packet.readUInt32BE(p);
      p += 4;
    } else len = packet.length - p;
  }
  if (tag !== 2 || p + len > packet.length) return undefined;
  const body = packet.subarray(p, p + len);
  const version = body[0];
  if (version === 3) {
    return { pubkeyAlgorithm: body[15], keyId: body.subarray(7, 15).toString('hex').toUpperCase() };
  }
  if (version !== 4 && version !== 5 && version !== 6) return undefined;
  const out: { pubkeyAlgorithm: number; keyId?: string; fingerprint?: string } = { pubkeyAlgorithm: body[2] };
  const lenBytes = version === 4 ? 2 : 4;
  let q = 4;
  for (let area = 0; area < 2 && q + lenBytes <= body.length; area++) {
    const alen = lenBytes === 2 ? body.readUInt16BE(q) : body.readUInt32BE(q);
    q += lenBytes;
    const end = Math.min(q + alen, body.length);
    while (q < end) {
      let sl = body[q++];
      if (sl >= 192 && sl < 255) sl = ((sl - 192) << 8) + body[q++] + 192;
      else if (sl === 255) {
        sl = body.readUInt32BE(q);
        q += 4;
      }
      const type = body[q] & 0x7f;
      const val = body.subarray(q + 1, q + sl);
      if (type === 16 && val.length === 8) out.keyId = val.toString('hex').toUpperCase();
      if (type === 33 && val.length > 1) out.fingerprint = val.subarray(1).toString('hex').toUpperCase();
      q += sl;
    }
    q = end;
  }
  if (!out.keyId && out.fingerprint && version === 4) out.keyId = out.fingerprint.slice(-16);
  return out;
}

async function* fileChunks(file: string): AsyncIterable<Buffer> {
  // Read in modest pieces: the header is usually a few KiB, and the payload is never wanted.
  const fh = await fs.promises.open(file, 'r');
  try {
    const size = 64 << 10;
    for (;;) {
      const buf = Buffer.allocUnsafe(size);
      const { bytesRead } = await fh.read(buf, 0, size, null);
      if (!bytesRead) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/**
 * Reads the headers of an .rpm: a path, or a stream positioned at its first byte (read only up
 * to the chunk that holds the main header's end; the caller owns the stream and destroys it).
 * `artifact` names the package in errors (defaults to the path).
 */
export async function readRpmHeader(src: string | Readable, artifact?: string): Promise<RpmHeader> {
  const name = artifact ?? (typeof src === 'string' ? src : 'the RPM package');
  const r = new ByteReader(typeof src === 'string' ? fileChunks(src) : (src as AsyncIterable<Buffer>));
  try {
    const lead = await r.read(LEAD_SIZE, 'lead', name);
    if (lead.readUInt32BE(0) !== 0xedabeedb) throw bad(name, 'no RPM lead magic (ed ab ee db)');
    const sig = await readHeaderStruct(r, 'signature header', name);
    const pad = (8 - (sig.size % 8)) % 8;
    if (pad) await r.read(pad, 'signature header padding', name);
    const start = r.position;
    const main = await readHeaderStruct(r, 'main header', name);
    return toHeader(main.tags, sig.tags, { start, end: start + main.size }, name);
  } finally {
    if (typeof src === 'string') await r.close();
  }
}

/**
 * How many bytes from the file's start hold the lead and both headers, as far as `buf` tells:
 * { end } once known, else { need } = the length that tells more.
 */
function headerExtent(buf: Buffer): { end: number } | { need: number } {
  const sigAt = LEAD_SIZE;
  if (buf.length < sigAt + 16) return { need: sigAt + 16 };
  const sigSize = 16 + buf.readUInt32BE(sigAt + 8) * 16 + buf.readUInt32BE(sigAt + 12);
  const mainAt = sigAt + sigSize + ((8 - (sigSize % 8)) % 8);
  if (buf.length < mainAt + 16) return { need: mainAt + 16 };
  return { end: mainAt + 16 + buf.readUInt32BE(mainAt + 8) * 16 + buf.readUInt32BE(mainAt + 12) };
}

export interface RpmHeaderTap {
  /** Feed the file's bytes in order; cheap once the header is complete (they are not kept). */
  push(chunk: Uint8Array): void;
  /** The file ended (a file shorter than its header rejects `header`). */
  end(): void;
  /** Resolves as soon as the main header is in, rejects with the INTEGRITY error otherwise. */
  header: Promise<RpmHeader>;
}

/**
 * The header of an .rpm read from bytes the caller is streaming anyway — a download being
 * hashed and written — so the file is read once: chunks are kept only until the main header
 * is complete (a few KiB to a few MiB), then ignored.
 */
const LIMIT = LEAD_SIZE + 2 * (16 + MAX_INDEX * 16 + MAX_HEADER) + 8;

export function rpmHeaderTap(artifact: string): RpmHeaderTap {
  let chunks: Buffer[] = [];
  let have = 0;
  let need = LEAD_SIZE + 16;
  let settled = false;
  let resolve!: (h: RpmHeader) => void;
  let reject!: (e: unknown) => void;
  const header = new Promise<RpmHeader>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // The caller may never await it (a download that failed for another reason).
  header.catch(() => undefined);
  const finish = (): void => {
    settled = true;
    const buf = Buffer.concat(chunks);
    chunks = [];
    readRpmHeader(Readable.from([buf]), artifact).then(resolve, reject);
  };
  return {
    header,
    push(chunk) {
      if (settled) return;
      // A copy: the caller may reuse its buffer once push returns.
      chunks.push(Buffer.from(chunk));
      have += chunk.byteLength;
      // Join the pieces only when enough has come to learn more: a handful of joins per file.
      if (have < need) return;
      const buf = Buffer.concat(chunks);
      chunks = [buf];
      if (buf.readUInt32BE(0) !== 0xedabeedb) return finish();
      const x = headerExtent(buf);
      const n = 'end' in x ? x.end : x.need;
      // Enough bytes, or sizes no valid header has (the reader refuses them with its message).
      if (('end' in x && have >= x.end) || n > LIMIT) finish();
      else need = n;
    },
    end() {
      if (!settled) finish();
    },
  };
}

function toHeader(
  t: Map<number, Value>,
  s: Map<number, Value>,
  headerRange: { start: number; end: number },
  a: string,
): RpmHeader {
  const need = (tag: number, what: string): string => {
    const v = str(t.get(tag), a);
    if (v === undefined) throw bad(a, `the header has no ${what}`);
    return v;
  };
  const opt = (tag: number): string | undefined => str(t.get(tag), a);
  const first = (v: Value | undefined): number | undefined => ints(v, a)[0];

  const dirnames = strings(t.get(T.DIRNAMES), a);
  const basenames = strings(t.get(T.BASENAMES), a);
  const dirindexes = ints(t.get(T.DIRINDEXES), a);
  const modes = ints(t.get(T.FILEMODES), a);
  const fflags = ints(t.get(T.FILEFLAGS), a);
  const files: RpmHeaderFile[] = basenames.map((b, i) => {
    const dir = dirnames[dirindexes[i] ?? -1];
    if (dir === undefined) throw bad(a, `file ${b} has no directory entry`);
    const mode = modes[i] ?? 0;
    const flags = fflags[i] ?? 0;
    const type: RpmFileType =
      flags & RPMFILE_GHOST ? 'ghost' : (mode & 0o170000) === 0o040000 ? 'dir' : 'file';
    return { path: dir + b, type, mode, flags };
  });

  const times = ints(t.get(T.CHANGELOGTIME), a);
  const authors = strings(t.get(T.CHANGELOGNAME), a);
  const texts = strings(t.get(T.CHANGELOGTEXT), a);
  const changelog = times.map((date, i) => ({ date, author: authors[i] ?? '', text: texts[i] ?? '' }));

  let signature: RpmSignatureInfo | undefined;
  for (const [tag, key] of [
    [SIG.RSA, 'rsa'],
    [SIG.DSA, 'dsa'],
    [SIG.PGP, 'pgp'],
    [SIG.GPG, 'gpg'],
  ] as const) {
    const b = bin(s.get(tag));
    const iss = b && signatureIssuer(b);
    if (iss) {
      signature = { tag: key, ...iss };
      break;
    }
  }

  const epoch = first(t.get(T.EPOCH));
  const h: RpmHeader = {
    name: need(T.NAME, 'name'),
    version: need(T.VERSION, 'version'),
    release: need(T.RELEASE, 'release'),
    arch: opt(T.ARCH) ?? 'noarch',
    sourcePackage: t.has(T.SOURCEPACKAGE),
    summary: opt(T.SUMMARY) ?? '',
    description: opt(T.DESCRIPTION) ?? '',
    buildTime: first(t.get(T.BUILDTIME)) ?? 0,
    installedSize: first(t.get(T.LONGSIZE)) ?? first(t.get(T.SIZE)) ?? 0,
    archiveSize:
      first(s.get(SIG.LONGARCHIVESIZE)) ?? first(s.get(SIG.PAYLOADSIZE)) ?? first(t.get(T.ARCHIVESIZE)) ?? 0,
    headerRange,
    provides: deps(t, T.PROVIDENAME, T.PROVIDEFLAGS, T.PROVIDEVERSION, a, false),
    requires: deps(t, T.REQUIRENAME, T.REQUIREFLAGS, T.REQUIREVERSION, a, true),
    conflicts: deps(t, T.CONFLICTNAME, T.CONFLICTFLAGS, T.CONFLICTVERSION, a, false),
    obsoletes: deps(t, T.OBSOLETENAME, T.OBSOLETEFLAGS, T.OBSOLETEVERSION, a, false),
    recommends: deps(t, T.RECOMMENDNAME, T.RECOMMENDFLAGS, T.RECOMMENDVERSION, a, false),
    suggests: deps(t, T.SUGGESTNAME, T.SUGGESTFLAGS, T.SUGGESTVERSION, a, false),
    supplements: deps(t, T.SUPPLEMENTNAME, T.SUPPLEMENTFLAGS, T.SUPPLEMENTVERSION, a, false),
    enhances: deps(t, T.ENHANCENAME, T.ENHANCEFLAGS, T.ENHANCEVERSION, a, false),
    files,
    changelog,
  };
  if (epoch !== undefined) h.epoch = epoch;
  const optional: Array<[keyof RpmHeader, number]> = [
    ['url', T.URL],
    ['license', T.LICENSE],
    ['vendor', T.VENDOR],
    ['group', T.GROUP],
    ['packager', T.PACKAGER],
    ['buildhost', T.BUILDHOST],
    ['sourcerpm', T.SOURCERPM],
    ['payloadFormat', T.PAYLOADFORMAT],
    ['payloadCompressor', T.PAYLOADCOMPRESSOR],
    ['modularityLabel', T.MODULARITYLABEL],
  ];
  for (const [k, tag] of optional) {
    const v = opt(tag);
    if (v !== undefined) (h as unknown as Record<string, string>)[k] = v;
  }
  if (signature) h.signature = signature;
  return h;
}
