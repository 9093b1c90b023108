import os from 'node:os';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { FerryError } from '../../base/errors/index.js';
import { writeFileAtomic } from '../../base/fs/atomic.js';

/**
 * The OpenPGP key Ferry signs its package repositories with (apt's InRelease, rpm's
 * repomd.xml.asc). apt and gpgv verify OpenPGP only, so this is a second key beside the Ed25519
 * bundle-signing key, kept in the same folder:
 *   keys/repo-signing.asc (armored private key, mode 0600), keys/repo-signing.pub.asc.
 * A v4 Ed25519 key: what Debian 12's gpgv and Ubuntu 22.04's apt verify (v6 keys they do not).
 */

export interface RepoKeyInfo {
  /** OpenPGP v4 fingerprint, 40 upper-case hex digits (what apt and gpg print). */
  fingerprint: string;
  name: string;
  armoredPublicKey: string;
  /** The public key as a binary keyring, the form `signed-by=` reads. */
  binaryKeyring: Uint8Array;
}

export interface RepoSigner extends RepoKeyInfo {
  /** Clearsign a Release text: the InRelease apt reads. */
  clearsign(text: string, date?: Date): Promise<string>;
  /**
   * An armored detached signature over bytes: repomd.xml.asc, which dnf (librepo, gpgme)
   * checks with repo_gpgcheck=1.
   */
  detachSign(data: Uint8Array, date?: Date): Promise<string>;
}

const PRIVATE = 'repo-signing.asc';
const PUBLIC = 'repo-signing.pub.asc';

function info(key: openpgp.PublicKey | openpgp.PrivateKey): RepoKeyInfo {
  const pub = key.toPublic();
  const uid = pub.users[0]?.userID;
  return {
    fingerprint: pub.getFingerprint().toUpperCase(),
    name: uid?.name || uid?.userID || 'Ferry repository key',
    armoredPublicKey: pub.armor(),
    binaryKeyring: pub.write(),
  };
}

export async function generateRepoKey(
  dir: string,
  opts: { name?: string; force?: boolean } = {},
): Promise<RepoKeyInfo> {
  const file = path.join(dir, PRIVATE);
  if (!opts.force && (await exists(file)))
    throw new FerryError('USAGE', `A repository signing key already exists in ${dir}.`, {
      hint: 'Nodes trust repositories signed with it. Use --force to replace it anyway.',
    });
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy',
    userIDs: [{ name: `${opts.name ?? `ferry@${os.hostname() || 'this machine'}`} (package repositories)` }],
    format: 'object',
  });
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, privateKey.armor(), 0o600);
  await fs.chmod(file, 0o600);
  await writeFileAtomic(path.join(dir, PUBLIC), privateKey.toPublic().armor(), 0o644);
  return info(privateKey);
}

async function exists(f: string): Promise<boolean> {
  return fs.access(f).then(
    () => true,
    () => false,
  );
}

export async function repoKeyInfo(dir: string): Promise<RepoKeyInfo | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, PUBLIC), 'utf8');
  } catch {
    return undefined;
  }
  return info(await openpgp.readKey({ armoredKey: text }));
}

/** The repository signer, or undefined when this machine has no repository key yet. */
export async function repoSigner(dir: string): Promise<RepoSigner | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, PRIVATE), 'utf8');
  } catch {
    return undefined;
  }
  let key: openpgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: text });
  } catch (err) {
    throw new FerryError(
      'CONFIG',
      `${path.join(dir, PRIVATE)} is not an OpenPGP private key: ${(err as Error).message}`,
      {
        artifact: path.join(dir, PRIVATE),
        hint: "Replace it with 'ferry keys generate --force' (nodes must then be given the new keyring).",
      },
    );
  }
  return {
    ...info(key),
    async clearsign(t: string, date = new Date()): Promise<string> {
      const message = await openpgp.createCleartextMessage({ text: t });
      return openpgp.sign({ message, signingKeys: key, date });
    },
    async detachSign(data: Uint8Array, date = new Date()): Promise<string> {
      const message = await openpgp.createMessage({ binary: data });
      return openpgp.sign({ message, signingKeys: key, date, detached: true, format: 'armored' });
    },
  };
}

/** The signer, made on first use: a fetch of OS packages needs one even before `ferry keys generate`. */
export async function ensureRepoSigner(dir: string): Promise<RepoSigner> {
  const s = await repoSigner(dir);
  if (s) return s;
  await generateRepoKey(dir);
  return (await repoSigner(dir))!;
}
