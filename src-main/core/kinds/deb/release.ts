/**
 * Release / InRelease: the signed root of trust of one apt suite. Nothing in a suite is used
 * before its InRelease has been verified with the distribution's keyring (OpenPGP, openpgp.js)
 * and its dates checked; the Packages indexes are then trusted only through the SHA256 lines.
 */
import * as openpgp from 'openpgp';
import { FerryError } from '../../base/errors/index.js';
import { sortSignatures } from '../packages/signatures.js';
import { parseStanza } from './deb822.js';

export interface ReleaseEntry {
  sha256: string;
  size: number;
}

/** The optional fields are set by parseRelease either way: undefined where the file has none. */
export interface Release {
  origin?: string | undefined;
  label?: string | undefined;
  suite?: string | undefined;
  codename?: string | undefined;
  version?: string | undefined;
  date?: Date | undefined;
  validUntil?: Date | undefined;
  architectures: string[];
  components: string[];
  acquireByHash: boolean;
  /** SHA256 entries by path relative to the Release file. */
  files: Map<string, ReleaseEntry>;
  /** Every field, lower-cased names. */
  fields: Map<string, string>;
}

/** RFC 2822 dates as Release files write them ("Sat, 11 Jul 2026 10:16:37 UTC"). */
function parseDate(v: string | undefined, field: string, suite: string): Date | undefined {
  if (v === undefined) return undefined;
  const d = new Date(v.replace(/\bUTC$/, 'GMT'));
  if (Number.isNaN(d.getTime())) {
    throw new FerryError('INTEGRITY', `the Release of ${suite} has an unreadable ${field}: ${v}`, {
      artifact: suite,
    });
  }
  return d;
}

/** Parses the (already verified) text of a Release file. `suite` names it in errors. */
export function parseRelease(text: string, suite: string): Release {
  const fields = parseStanza(text);
  const files = new Map<string, ReleaseEntry>();
  for (const line of (fields.get('sha256') ?? '').split('\n')) {
    const m = /^\s*([0-9a-fA-F]{64})\s+(\d+)\s+(\S+)\s*$/.exec(line);
    if (m) files.set(m[3], { sha256: m[1].toLowerCase(), size: Number(m[2]) });
  }
  if (files.size === 0) {
    // apt refuses MD5/SHA1-only Release files as insecure; so do we.
    throw new FerryError('INTEGRITY', `the Release of ${suite} lists no SHA256 hashes`, {
      artifact: suite,
      hint: 'use a mirror that publishes SHA256 in its Release files',
    });
  }
  const words = (k: string): string[] => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
  return {
    origin: fields.get('origin'),
    label: fields.get('label'),
    suite: fields.get('suite'),
    codename: fields.get('codename'),
    version: fields.get('version'),
    date: parseDate(fields.get('date'), 'Date', suite),
    validUntil: parseDate(fields.get('valid-until'), 'Valid-Until', suite),
    architectures: words('architectures'),
    components: words('components'),
    acquireByHash: /^yes$/i.test(fields.get('acquire-by-hash') ?? ''),
    files,
    fields,
  };
}

export type Keyring = openpgp.PublicKey[];

/** Reads a keyring file: binary (.gpg, as /usr/share/keyrings ships them) or ASCII-armoured (.asc). */
export async function readKeyring(...files: Uint8Array[]): Promise<Keyring> {
  const out: Keyring = [];
  for (const bytes of files) {
    const head = Buffer.from(bytes.subarray(0, 64)).toString('latin1');
    const keys = head.includes('-----BEGIN PGP')
      ? await openpgp.readKeys({ armoredKeys: Buffer.from(bytes).toString('utf8') })
      : await openpgp.readKeys({ binaryKeys: bytes });
    out.push(...keys);
  }
  return out;
}

export interface VerifiedRelease {
  release: Release;
  /** The signed text, exactly what the signature covers: parse only this, never the armour. */
  text: string;
  /** Key IDs (hex) of the good signatures. */
  signers: string[];
}

export interface VerifyOptions {
  /** Names the suite in messages, e.g. "debian bookworm-security". */
  suite: string;
  keyring: Keyring;
  now?: Date | undefined;
  /** apt's Acquire::Max-FutureTime defaults to 10 s; a connected machine's clock is trusted. */
  maxFutureSeconds?: number;
}

const refuse = (suite: string, reason: string, message: string, hint: string, details = {}): FerryError =>
  new FerryError('SIGNATURE', message, { artifact: suite, hint, details: { reason, ...details } });

/**
 * Verifies an InRelease clearsignature and its dates. At least one signature must be good and
 * made by a key of the keyring; a signature by a keyring key that does not verify refuses the
 * whole file (apt treats it as BADSIG), while signatures by keys we do not hold are ignored, as
 * apt does (Debian signs with several keys, not all in every keyring).
 */
export async function verifyInRelease(
  inRelease: string | Uint8Array,
  opts: VerifyOptions,
): Promise<VerifiedRelease> {
  const { suite } = opts;
  const now = opts.now ?? new Date();
  const armoured = typeof inRelease === 'string' ? inRelease : Buffer.from(inRelease).toString('utf8');
  let message: openpgp.CleartextMessage;
  try {
    message = await openpgp.readCleartextMessage({ cleartextMessage: armoured });
  } catch (e) {
    throw refuse(
      suite,
      'unsigned',
      `the InRelease of ${suite} is not a clearsigned OpenPGP message (${(e as Error).message})`,
      'check the mirror URL and suite; a proxy or captive portal may have answered instead',
    );
  }
  const result = await openpgp.verify({ message, verificationKeys: opts.keyring, date: now });
  const { good, bad, ids } = await sortSignatures(result.signatures, opts.keyring, async (sig) => {
    // openpgp.js also rejects a signature made after `now`; that is a clock or replay problem,
    // reported as a future-dated Release rather than as tampering.
    const created = (await sig.signature).packets[0]?.created;
    if (created && created.getTime() - now.getTime() > (opts.maxFutureSeconds ?? 10) * 1000) {
      throw refuse(
        suite,
        'future',
        `the InRelease of ${suite} was signed on ${created.toISOString()}, in the future (now ${now.toISOString()})`,
        "check this machine's clock, then fetch again",
        { date: created.toISOString() },
      );
    }
  });
  if (bad.length) {
    throw refuse(
      suite,
      'bad-signature',
      `the InRelease of ${suite} has a bad signature (${bad.join('; ')}): it was altered after signing`,
      'do not use this mirror until it serves an intact InRelease; fetch again or use another mirror',
      { bad },
    );
  }
  if (good.length === 0) {
    throw refuse(
      suite,
      'no-trusted-key',
      `the InRelease of ${suite} is not signed by any key of the keyring (signed by ${ids})`,
      'give the keyring of this distribution or private mirror (--keyring)',
      { keyIds: ids },
    );
  }
  const text = String(result.data);
  const release = parseRelease(text, suite);
  checkReleaseDates(release, suite, now, opts.maxFutureSeconds ?? 10);
  return { release, text, signers: good };
}

/** Refuses a Release from the future or past its Valid-Until, as apt does, naming the fix. */
export function checkReleaseDates(release: Release, suite: string, now: Date, maxFutureSeconds = 10): void {
  if (release.date && release.date.getTime() - now.getTime() > maxFutureSeconds * 1000) {
    throw refuse(
      suite,
      'future',
      `the Release of ${suite} is dated ${release.date.toISOString()}, in the future (now ${now.toISOString()})`,
      "check this machine's clock, then fetch again",
      { date: release.date.toISOString() },
    );
  }
  if (release.validUntil && now.getTime() > release.validUntil.getTime()) {
    throw refuse(
      suite,
      'expired',
      `the Release of ${suite} expired on ${release.validUntil.toISOString()} (Valid-Until); it is stale`,
      'refresh the indexes from the archive (or a mirror that is up to date) and resolve again',
      { validUntil: release.validUntil.toISOString() },
    );
  }
}

export type Compression = 'xz' | 'gz' | 'none';

export interface IndexCandidate extends ReleaseEntry {
  /** Path relative to dists/<suite>/. */
  path: string;
  compression: Compression;
}

/**
 * The Packages index files of a component/arch the Release lists, best first (.xz, .gz, plain):
 * the caller tries them in order, so a mirror without compressed files falls back to the plain
 * one. Debian's security archive announces `Components: updates/main` but keeps its files under
 * `main/`; apt accepts both spellings, and so do we, with either spelling asked for.
 */
export function packagesIndexes(
  release: Release,
  component: string,
  arch: string,
  suite: string,
): IndexCandidate[] {
  const last = component.split('/').pop() ?? component;
  const announced =
    release.components.length === 0 ||
    release.components.some((c) => c === component || c.split('/').pop() === last);
  if (!announced) {
    throw new FerryError(
      'NOT_FOUND',
      `${suite} has no component ${component} (it has ${release.components.join(', ')})`,
      {
        artifact: suite,
        hint: 'check the components configured for this suite',
      },
    );
  }
  if (release.architectures.length && !release.architectures.includes(arch)) {
    throw new FerryError(
      'NOT_FOUND',
      `${suite} has no architecture ${arch} (it has ${release.architectures.join(', ')})`,
      {
        artifact: suite,
        hint: 'check the architectures of the plan and the mirror',
      },
    );
  }
  for (const dir of [
    ...new Set([component, last, ...release.components.filter((c) => c.split('/').pop() === last)]),
  ]) {
    const base = `${dir}/binary-${arch}/Packages`;
    const found: IndexCandidate[] = [];
    for (const [suffix, compression] of [
      ['.xz', 'xz'],
      ['.gz', 'gz'],
      ['', 'none'],
    ] as const) {
      const e = release.files.get(base + suffix);
      if (e) found.push({ path: base + suffix, compression, ...e });
    }
    if (found.length) return found;
  }
  throw new FerryError(
    'NOT_FOUND',
    `the Release of ${suite} lists no Packages index for ${component}/binary-${arch}`,
    {
      artifact: suite,
      hint: 'the mirror may be partial; check that it carries this component and architecture',
    },
  );
}
