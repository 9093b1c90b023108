/**
 * repodata/repomd.xml: the root of one dnf repository. Nothing below it is used before repomd
 * has been read, and, when the repository publishes repomd.xml.asc, verified with the key(s)
 * the OS model pins (or the user gives). Each metadata file (primary, filelists, modules) is then
 * trusted only through the checksum repomd names, and each .rpm through primary's.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { SaxesParser } from 'saxes';
import { FerryError } from '../../base/errors/index.js';
import { discardPartial, downloadToFile } from '../../fetch/download/download-file.js';
import type { HttpClient } from '../../fetch/download/http-client.js';
import { mirrorUrl, type MirrorMap } from '../../fetch/download/mirrors.js';
import { sortSignatures } from '../packages/signatures.js';

export interface RepomdEntry {
  /** primary, filelists, other, modules, primary_db, group, updateinfo… */
  type: string;
  /** `<location href>`, relative to the repository base URL (repodata/<sha>-primary.xml.gz). */
  href: string;
  checksum: { type: string; value: string };
  openChecksum?: { type: string; value: string };
  size?: number;
  openSize?: number;
}

export interface Repomd {
  revision?: string;
  data: Map<string, RepomdEntry>;
}

/** Parses repomd.xml (a few KB). `repo` names the repository in errors. */
export function parseRepomd(text: string, repo: string): Repomd {
  const parser = new SaxesParser({ xmlns: false });
  const data = new Map<string, RepomdEntry>();
  let revision: string | undefined;
  let cur: Partial<RepomdEntry> | undefined;
  let checksumType = '';
  let textBuf = '';
  let sawRoot = false;
  parser.on('opentag', (t) => {
    const name = t.name.replace(/^.*:/, '');
    textBuf = '';
    if (name === 'repomd') sawRoot = true;
    else if (name === 'data') cur = { type: String(t.attributes.type ?? '') };
    else if (cur && name === 'location') cur.href = String(t.attributes.href ?? '');
    else if (name === 'checksum' || name === 'open-checksum') checksumType = String(t.attributes.type ?? '');
  });
  parser.on('text', (x) => {
    textBuf += x;
  });
  parser.on('closetag', (t) => {
    const name = t.name.replace(/^.*:/, '');
    const v = textBuf.trim();
    if (name === 'revision' && !cur) revision = v;
    else if (cur && name === 'checksum') cur.checksum = { type: checksumType, value: v.toLowerCase() };
    else if (cur && name === 'open-checksum')
      cur.openChecksum = { type: checksumType, value: v.toLowerCase() };
    else if (cur && name === 'size') cur.size = Number(v);
    else if (cur && name === 'open-size') cur.openSize = Number(v);
    else if (name === 'data' && cur) {
      if (cur.type && cur.href && cur.checksum) data.set(cur.type, cur as RepomdEntry);
      cur = undefined;
    }
    textBuf = '';
  });
  try {
    parser.write(text).close();
  } catch (e) {
    throw new FerryError('INTEGRITY', `repomd.xml of ${repo} is not valid XML: ${(e as Error).message}`, {
      artifact: `${repo} repodata/repomd.xml`,
      hint: 'check the base URL; a proxy or captive portal may have answered instead of the mirror',
    });
  }
  if (!sawRoot || !data.has('primary')) {
    throw new FerryError('INTEGRITY', `repomd.xml of ${repo} lists no primary metadata.`, {
      artifact: `${repo} repodata/repomd.xml`,
      hint: 'the base URL must be the directory holding repodata/ (…/BaseOS/x86_64/os)',
    });
  }
  return { ...(revision ? { revision } : {}), data };
}

/**
 * Reads the public key(s) of `bytes` (armoured, or binary) and keeps them only if every primary
 * key's fingerprint is one the model pins: a key file that was swapped, or gained a key, is
 * refused as a whole. `pinned` absent: the user's own key (--rpm-key), trusted as given.
 */
export async function readPinnedKeys(
  bytes: Uint8Array,
  what: string,
  pinned?: readonly string[],
): Promise<openpgp.PublicKey[]> {
  let keys: openpgp.PublicKey[];
  try {
    // Armoured files may start with prose (Red Hat's does); binary keys never hold this text.
    if (Buffer.from(bytes).includes('-----BEGIN PGP PUBLIC KEY BLOCK-----')) {
      // openpgp.js reads the first armour block only; Red Hat's key file holds two.
      const blocks =
        Buffer.from(bytes)
          .toString('utf8')
          .match(/-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g) ?? [];
      keys = [];
      for (const b of blocks) keys.push(...(await openpgp.readKeys({ armoredKeys: b })));
      if (!keys.length) throw new Error('no public key block');
    } else {
      keys = await openpgp.readKeys({ binaryKeys: bytes });
    }
  } catch (e) {
    throw new FerryError('SIGNATURE', `${what} is not an OpenPGP public key: ${(e as Error).message}`, {
      artifact: what,
      hint: 'check the key URL or file; a proxy or captive portal may have answered instead',
    });
  }
  if (pinned) {
    const want = new Set(pinned.map((f) => f.toUpperCase()));
    const got = keys.map((k) => k.getFingerprint().toUpperCase());
    const foreign = got.filter((f) => !want.has(f));
    if (foreign.length || !got.some((f) => want.has(f))) {
      throw new FerryError(
        'SIGNATURE',
        `${what} has key fingerprint(s) ${got.join(', ') || 'none'}, not the published ${[...want].join(', ')}.`,
        {
          artifact: what,
          hint: 'the key served is not the distribution’s: do not trust this mirror or proxy; give the key you verified yourself with --rpm-key',
          details: { got, pinned: [...want] },
        },
      );
    }
  }
  return keys;
}

export interface RepoRef {
  /** Ferry's repository id (baseos) and base URL. */
  id: string;
  baseurl: string;
  /** Names the repository in messages: "rocky-9 baseos x86_64". */
  label: string;
}

export interface LoadedRepomd {
  repomd: Repomd;
  sha256: string;
  /** True when repomd.xml.asc was published and verified; false: the repository signs nothing. */
  signed: boolean;
  signers: string[];
}

export interface RepomdContext {
  client: HttpClient;
  cacheDir: string;
  mirrors?: MirrorMap | undefined;
  signal?: AbortSignal | undefined;
  log?: (message: string) => void;
}

/** GETs a small file afresh (repomd changes in place); undefined on 404 when `optional`. */
async function getSmall(
  ctx: RepomdContext,
  url: string,
  what: string,
  optional: boolean,
): Promise<Buffer | undefined> {
  const dest = path.join(ctx.cacheDir, 'tmp', createHash('sha256').update(url).digest('hex').slice(0, 32));
  await fs.mkdir(path.dirname(dest), { recursive: true });
  await discardPartial(dest);
  try {
    await downloadToFile(ctx.client, {
      url: mirrorUrl(url, ctx.mirrors),
      dest,
      label: what,
      segments: false,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
  } catch (e) {
    await discardPartial(dest);
    if (optional && e instanceof FerryError && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
  const b = await fs.readFile(dest);
  await discardPartial(dest);
  return b;
}

/**
 * Fetches repomd.xml and repomd.xml.asc of one repository. A published signature must verify
 * with one of `keys` (a bad one or one by an unknown key is refused, naming the repository); a
 * repository that publishes none is used, and said so (dnf's repo_gpgcheck=0; every package
 * is still checked against primary, and by its own signature on the node).
 */
export async function loadRepomd(
  ctx: RepomdContext,
  repo: RepoRef,
  keys: openpgp.PublicKey[],
): Promise<LoadedRepomd> {
  const base = repo.baseurl.replace(/\/+$/, '');
  const what = `${repo.label} repodata/repomd.xml`;
  const raw = (await getSmall(ctx, `${base}/repodata/repomd.xml`, what, false))!;
  const asc = await getSmall(ctx, `${base}/repodata/repomd.xml.asc`, `${what}.asc`, true);
  let signers: string[] = [];
  if (asc) {
    signers = await verifyRepomd(raw, asc.toString('utf8'), keys, repo.label);
    ctx.log?.(`${repo.label}: repomd.xml signature verified (${signers.join(', ')})`);
  } else {
    ctx.log?.(`${repo.label}: repomd.xml is not signed (no repomd.xml.asc); trusting it by HTTPS only`);
  }
  return {
    repomd: parseRepomd(raw.toString('utf8'), repo.label),
    sha256: createHash('sha256').update(raw).digest('hex'),
    signed: asc !== undefined,
    signers,
  };
}

/** Verifies a detached armoured signature over repomd.xml; returns the good signers' key ids. */
export async function verifyRepomd(
  repomd: Uint8Array,
  armoredSignature: string,
  keys: openpgp.PublicKey[],
  label: string,
): Promise<string[]> {
  const artifact = `${label} repodata/repomd.xml`;
  let signature: openpgp.Signature;
  try {
    signature = await openpgp.readSignature({ armoredSignature });
  } catch (e) {
    throw new FerryError(
      'SIGNATURE',
      `repomd.xml.asc of ${label} is not an OpenPGP signature: ${(e as Error).message}`,
      {
        artifact: `${artifact}.asc`,
        hint: 'check the base URL; a proxy or captive portal may have answered instead of the mirror',
      },
    );
  }
  if (!keys.length) {
    throw new FerryError('SIGNATURE', `${label} signs its repomd.xml, and no key to check it is known.`, {
      artifact,
      hint: 'give the repository’s public key with --rpm-key',
    });
  }
  const message = await openpgp.createMessage({ binary: repomd });
  const result = await openpgp.verify({ message, signature, verificationKeys: keys, format: 'binary' });
  const { good, bad, ids } = await sortSignatures(result.signatures, keys);
  if (bad.length) {
    throw new FerryError(
      'SIGNATURE',
      `repomd.xml of ${label} has a bad signature (${bad.join('; ')}): it was altered after signing.`,
      {
        artifact,
        hint: 'do not use this mirror until it serves intact metadata; try again or use another mirror',
      },
    );
  }
  if (!good.length) {
    throw new FerryError(
      'SIGNATURE',
      `repomd.xml of ${label} is signed by ${ids}, no key Ferry trusts for it.`,
      {
        artifact,
        hint: 'a private mirror signed with its own key: give that public key with --rpm-key OS=FILE',
        details: { keyIds: ids },
      },
    );
  }
  return good;
}
