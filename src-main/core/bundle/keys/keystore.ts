import os from 'node:os';
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { configDir } from '../../base/config/dirs.js';
import { FerryError } from '../../base/errors/index.js';
import { writeFileAtomic } from '../../base/fs/atomic.js';
import { fingerprint } from './fingerprint.js';
import { generateRepoKey, repoKeyInfo } from './repo-key.js';

/**
 * Ed25519 keys (node:crypto). The connected side signs bundle manifests with its private key;
 * the offline side trusts public keys explicitly (`ferry keys trust`). A machine trusts the key
 * it generated itself. Layout under the config dir:
 *   keys/signing.key (PKCS#8 PEM, mode 0600), keys/signing.pub (SPKI PEM),
 *   keys/trusted/<FINGERPRINT>.pub (SPKI PEM, first line a '# name' comment).
 */

export interface KeyInfo {
  fingerprint: string;
  name: string;
  /** SPKI PEM */
  publicKeyPem: string;
  own: boolean;
}

/** The detached signature file next to a manifest. */
export const SignatureFileSchema = z
  .object({
    format: z.literal('ferry-signature'),
    version: z.literal(1),
    algorithm: z.literal('ed25519'),
    fingerprint: z.string().max(64),
    /** base64 of the raw 32-byte public key, so an unknown signer can still be named and checked. */
    publicKey: z.string().max(200),
    /** base64 Ed25519 signature over the exact manifest bytes. */
    signature: z.string().max(400),
  })
  .strict();
export type SignatureFile = z.infer<typeof SignatureFileSchema>;

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' }) as { x?: string };
  if (!jwk.x) throw new FerryError('CONFIG', 'Not an Ed25519 public key.');
  return Buffer.from(jwk.x, 'base64url');
}

function publicKeyFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
}

export function parsePublicKeyPem(
  pem: string,
  source = 'public key',
): { key: KeyObject; fingerprint: string } {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new FerryError('CONFIG', `${source} is not a PEM public key: ${(err as Error).message}`, {
      artifact: source,
      hint: "Use the text that 'ferry keys export' prints on the connected side.",
    });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new FerryError('CONFIG', `${source} is a ${key.asymmetricKeyType} key; Ferry uses Ed25519 keys.`, {
      artifact: source,
    });
  }
  return { key, fingerprint: fingerprint(rawPublicKey(key)) };
}

export class KeyStore {
  constructor(readonly dir: string) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): KeyStore {
    return new KeyStore(path.join(configDir(env), 'keys'));
  }

  private get privatePath(): string {
    return path.join(this.dir, 'signing.key');
  }
  private get publicPath(): string {
    return path.join(this.dir, 'signing.pub');
  }
  private get trustedDir(): string {
    return path.join(this.dir, 'trusted');
  }

  async hasOwnKey(): Promise<boolean> {
    return fs
      .access(this.privatePath)
      .then(() => true)
      .catch(() => false);
  }

  async generate(opts: { name?: string | undefined; force?: boolean } = {}): Promise<KeyInfo> {
    if (!opts.force && (await this.hasOwnKey())) {
      throw new FerryError('USAGE', `A signing key already exists in ${this.dir}.`, {
        hint: 'Bundles signed with it would no longer be trusted by machines that trust it. Use --force to replace it anyway.',
      });
    }
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const name = opts.name ?? `ferry@${os.hostname() || 'this machine'}`;
    const pubPem = `# ${name}\n` + (publicKey.export({ format: 'pem', type: 'spki' }) as string);
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(
      this.privatePath,
      privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
      0o600,
    );
    // writeFileAtomic honours the mode on creation; make sure a umask did not widen it.
    await fs.chmod(this.privatePath, 0o600);
    await writeFileAtomic(this.publicPath, pubPem, 0o644);
    // Beside it, the OpenPGP key Ferry signs apt repositories with (nodes trust it by keyring).
    if (opts.force || !(await repoKeyInfo(this.dir))) await generateRepoKey(this.dir, { name, force: true });
    return { fingerprint: fingerprint(rawPublicKey(publicKey)), name, publicKeyPem: pubPem, own: true };
  }

  async ownKey(): Promise<KeyInfo | undefined> {
    let pem: string;
    try {
      pem = await fs.readFile(this.publicPath, 'utf8');
    } catch {
      return undefined;
    }
    const { fingerprint: fp } = parsePublicKeyPem(pem, this.publicPath);
    return { fingerprint: fp, name: nameFromPem(pem) ?? 'this machine', publicKeyPem: pem, own: true };
  }

  async signer(): Promise<{ fingerprint: string; sign(bytes: Buffer): Buffer } | undefined> {
    let pem: string;
    try {
      pem = await fs.readFile(this.privatePath, 'utf8');
    } catch {
      return undefined;
    }
    const key = createPrivateKey(pem);
    const pub = createPublicKey(key);
    const raw = rawPublicKey(pub);
    const fp = fingerprint(raw);
    return {
      fingerprint: fp,
      sign(bytes: Buffer): Buffer {
        const sig: SignatureFile = {
          format: 'ferry-signature',
          version: 1,
          algorithm: 'ed25519',
          fingerprint: fp,
          publicKey: raw.toString('base64'),
          signature: sign(null, bytes, key).toString('base64'),
        };
        return Buffer.from(JSON.stringify(sig, null, 2) + '\n');
      },
    };
  }

  async trust(pem: string, opts: { name?: string | undefined; source?: string } = {}): Promise<KeyInfo> {
    const { fingerprint: fp } = parsePublicKeyPem(pem, opts.source);
    const body = pem.replace(/^#.*\n/gm, '');
    const name = opts.name ?? nameFromPem(pem) ?? fp;
    const text = `# ${name}\n${body.trim()}\n`;
    await fs.mkdir(this.trustedDir, { recursive: true });
    await writeFileAtomic(path.join(this.trustedDir, `${fp}.pub`), text);
    return { fingerprint: fp, name, publicKeyPem: text, own: false };
  }

  async untrust(fp: string): Promise<boolean> {
    if (!/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/.test(fp))
      throw new FerryError('USAGE', `'${fp}' is not a fingerprint.`);
    try {
      await fs.rm(path.join(this.trustedDir, `${fp}.pub`));
      return true;
    } catch {
      return false;
    }
  }

  async list(): Promise<KeyInfo[]> {
    const out: KeyInfo[] = [];
    const own = await this.ownKey();
    if (own) out.push(own);
    let names: string[] = [];
    try {
      names = (await fs.readdir(this.trustedDir)).filter((n) => n.endsWith('.pub')).sort();
    } catch {
      /* none trusted */
    }
    for (const n of names) {
      const pem = await fs.readFile(path.join(this.trustedDir, n), 'utf8');
      try {
        const { fingerprint: fp } = parsePublicKeyPem(pem, n);
        if (own && fp === own.fingerprint) continue;
        out.push({ fingerprint: fp, name: nameFromPem(pem) ?? fp, publicKeyPem: pem, own: false });
      } catch {
        // An unreadable trusted key is ignored rather than trusted.
      }
    }
    return out;
  }
}

function nameFromPem(pem: string): string | undefined {
  const m = /^#\s*(.+)$/m.exec(pem);
  return m?.[1]?.trim();
}

export type SignatureStatus =
  | { status: 'trusted'; fingerprint: string; signer: string }
  | { status: 'unknown-key'; fingerprint: string }
  | { status: 'unsigned' }
  | { status: 'bad-signature'; fingerprint?: string; reason: string };

/** Check a detached signature over the exact manifest bytes against the trusted keys. */
export async function checkSignature(
  manifestBytes: Buffer,
  signatureBytes: Buffer | undefined,
  trusted: KeyInfo[],
): Promise<SignatureStatus> {
  if (!signatureBytes) return { status: 'unsigned' };
  let sig: SignatureFile;
  try {
    sig = SignatureFileSchema.parse(JSON.parse(signatureBytes.toString('utf8')));
  } catch {
    return { status: 'bad-signature', reason: 'the signature file is not a Ferry signature' };
  }
  const raw = Buffer.from(sig.publicKey, 'base64');
  let pub: KeyObject;
  try {
    pub = publicKeyFromRaw(raw);
  } catch {
    return { status: 'bad-signature', reason: 'the signature names an invalid public key' };
  }
  const fp = fingerprint(raw);
  if (fp !== sig.fingerprint)
    return {
      status: 'bad-signature',
      fingerprint: sig.fingerprint,
      reason: 'the fingerprint does not match the key',
    };
  let ok = false;
  try {
    ok = verify(null, manifestBytes, pub, Buffer.from(sig.signature, 'base64'));
  } catch {
    ok = false;
  }
  if (!ok)
    return {
      status: 'bad-signature',
      fingerprint: fp,
      reason: 'the manifest was changed after it was signed',
    };
  const t = trusted.find((k) => k.fingerprint === fp);
  return t
    ? { status: 'trusted', fingerprint: fp, signer: t.name }
    : { status: 'unknown-key', fingerprint: fp };
}
