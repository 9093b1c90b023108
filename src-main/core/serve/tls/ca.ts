import { X509Certificate, createPrivateKey, webcrypto, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { FerryError } from '../../base/errors/index.js';
import { writeFileAtomic } from '../../base/fs/atomic.js';

/**
 * A local certificate authority for the offline segment. Node can parse certificates but not
 * build them, so @peculiar/x509 (on Node's WebCrypto) writes them. The CA is made once and kept
 * in the folder the caller names (by default the config dir), so nodes that trusted it once keep
 * trusting it; server certificates are re-issued from it only when the names change or expiry nears.
 */

// Node's WebCrypto types, by name: core is compiled without the DOM lib (tsconfig.node.json).
// @peculiar/x509 declares its provider with the DOM's Crypto (absent there, so loose; present
// when a DOM-typed test program includes this file, and then Node's type differs in detail).
type X509Crypto = Parameters<typeof x509.cryptoProvider.set>[1]; // set(key, value: Crypto)
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type JsonWebKey = webcrypto.JsonWebKey;

x509.cryptoProvider.set(webcrypto as unknown as X509Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 3600 * 1000;
const CA_DAYS = 3650;
const SERVER_DAYS = 825;
const RENEW_BEFORE_DAYS = 30;

export interface TlsMaterial {
  /** PEM of the server certificate (chain: server then CA, when Ferry's CA issued it). */
  cert: string;
  key: string;
  /** PEM of the CA nodes must trust (absent when the user's certificate has no CA file). */
  ca?: string;
  caFile?: string;
  certFile: string;
  names: string[];
  /** Whether the server certificate was (re)issued now. */
  issued: boolean;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

async function importKey(keyPem: string): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> {
  const ko = createPrivateKey(keyPem);
  const pkcs8 = ko.export({ format: 'der', type: 'pkcs8' });
  const jwk = ko.export({ format: 'jwk' }) as JsonWebKey;
  const s = webcrypto.subtle;
  const privateKey = (await s.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
  ])) as unknown as CryptoKey;
  // A P-256 key's JWK always has all four; the private `d` stays out.
  const pubJwk: JsonWebKey = { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y! };
  const publicKey = (await s.importKey('jwk', pubJwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'verify',
  ])) as unknown as CryptoKey;
  return { privateKey, publicKey };
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as unknown as CryptoKeyPair;
}

async function exportKeyPem(k: CryptoKey): Promise<string> {
  return pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', k as unknown as webcrypto.CryptoKey));
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Load the CA from dir, or create it. */
export async function ensureCa(
  dir: string,
): Promise<{ certPem: string; keyPem: string; certFile: string; created: boolean }> {
  const certFile = path.join(dir, 'ca.crt');
  const keyFile = path.join(dir, 'ca.key');
  const certPem = await readIfExists(certFile);
  const keyPem = await readIfExists(keyFile);
  if (certPem && keyPem) {
    try {
      const c = new X509Certificate(certPem);
      if (!c.checkPrivateKey(createPrivateKey(keyPem)))
        throw new Error('the key does not match the certificate');
      if (!c.ca) throw new Error('it is not a CA certificate');
    } catch (err) {
      throw new FerryError('CONFIG', `The Ferry CA in ${dir} is unusable: ${(err as Error).message}.`, {
        artifact: certFile,
        hint: `Move ${dir} aside to create a new CA (nodes then have to trust the new one), or restore the old files.`,
      });
    }
    return { certPem, keyPem, certFile, created: false };
  }
  const keys = await newKeys();
  const host =
    os
      .hostname()
      .replace(/[^A-Za-z0-9.-]/g, '-')
      .slice(0, 40) || 'host';
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16)
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name: `CN=Ferry local CA (${host} ${new Date().toISOString().slice(0, 10)}), O=Ferry`,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + CA_DAYS * DAY),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const newKeyPem = await exportKeyPem(keys.privateKey);
  const newCertPem = cert.toString('pem') + '\n';
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  // Key first: a crash between the two leaves no certificate without its key.
  await writeFileAtomic(keyFile, newKeyPem, 0o600);
  await writeFileAtomic(certFile, newCertPem);
  return { certPem: newCertPem, keyPem: newKeyPem, certFile, created: true };
}

/** 'DNS:a, IP Address:1.2.3.4' → ['a', '1.2.3.4'] */
function sanNames(c: X509Certificate): string[] {
  return (c.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim())
    .map((s) => s.replace(/^DNS:/, '').replace(/^IP Address:/, ''))
    .filter(Boolean)
    .map((s) => s.toLowerCase());
}

export function normalizeNames(names: string[]): string[] {
  const out = new Set<string>();
  for (const n of names) {
    const v = n
      .trim()
      .toLowerCase()
      .replace(/^\[|\]$/g, '');
    if (!v) continue;
    if (!net.isIP(v) && !/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(v)) {
      throw new FerryError('USAGE', `'${n}' is neither an IP address nor a host name.`, {
        artifact: n,
        hint: 'Pass --hostname with a DNS name or an IP address the nodes use to reach this machine.',
      });
    }
    out.add(v);
  }
  return [...out].sort();
}

/**
 * A server certificate for `names` (DNS names and IP addresses) from Ferry's CA in `dir`: the
 * kept one if it still covers the names and has more than 30 days left, else a new one.
 */
export async function ensureServerCert(dir: string, names: string[]): Promise<TlsMaterial> {
  const wanted = normalizeNames(names);
  if (wanted.length === 0)
    throw new FerryError('USAGE', 'A TLS certificate needs at least one host name or address.', {
      hint: 'Pass --hostname NAME (repeatable).',
    });
  const ca = await ensureCa(dir);
  const caCert = new X509Certificate(ca.certPem);
  const certFile = path.join(dir, 'server.crt');
  const keyFile = path.join(dir, 'server.key');
  const oldCert = await readIfExists(certFile);
  const oldKey = await readIfExists(keyFile);
  if (oldCert && oldKey && !ca.created) {
    try {
      const c = new X509Certificate(oldCert);
      const covers = wanted.every((n) => sanNames(c).includes(n));
      const fresh = Date.parse(c.validTo) - Date.now() > RENEW_BEFORE_DAYS * DAY;
      if (
        covers &&
        fresh &&
        c.checkIssued(caCert) &&
        c.verify(caCert.publicKey) &&
        c.checkPrivateKey(createPrivateKey(oldKey))
      ) {
        return {
          cert: oldCert,
          key: oldKey,
          ca: ca.certPem,
          caFile: ca.certFile,
          certFile,
          names: sanNames(c),
          issued: false,
        };
      }
    } catch {
      // An unreadable old certificate is simply replaced.
    }
  }
  const caKeys = await importKey(ca.keyPem);
  const keys = await newKeys();
  const caX = new x509.X509Certificate(ca.certPem);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(16)
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    subject: `CN=${wanted.find((n) => !net.isIP(n)) ?? wanted[0]}, O=Ferry`,
    issuer: caX.subject,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + SERVER_DAYS * DAY),
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        wanted.map((n) =>
          net.isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n },
        ),
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const keyPem = await exportKeyPem(keys.privateKey);
  const certPem = cert.toString('pem') + '\n';
  await writeFileAtomic(keyFile, keyPem, 0o600);
  await writeFileAtomic(certFile, certPem);
  return {
    cert: certPem,
    key: keyPem,
    ca: ca.certPem,
    caFile: ca.certFile,
    certFile,
    names: wanted,
    issued: true,
  };
}

/** The user's own certificate and key (and optionally the CA that issued it). */
export async function loadUserCert(certFile: string, keyFile: string, caFile?: string): Promise<TlsMaterial> {
  const read = async (f: string, what: string) => {
    try {
      return await fs.readFile(f, 'utf8');
    } catch (err) {
      throw new FerryError('CONFIG', `Cannot read the TLS ${what} ${f}: ${(err as Error).message}`, {
        artifact: f,
      });
    }
  };
  const cert = await read(certFile, 'certificate');
  const key = await read(keyFile, 'key');
  const ca = caFile ? await read(caFile, 'CA certificate') : undefined;
  let c: X509Certificate;
  try {
    c = new X509Certificate(cert);
  } catch (err) {
    throw new FerryError('CONFIG', `${certFile} is not a PEM certificate: ${(err as Error).message}`, {
      artifact: certFile,
    });
  }
  try {
    if (!c.checkPrivateKey(createPrivateKey(key))) throw new Error('it does not belong to the certificate');
  } catch (err) {
    throw new FerryError('CONFIG', `The key ${keyFile} does not fit ${certFile}: ${(err as Error).message}`, {
      artifact: keyFile,
      hint: 'Pass the key that belongs to the certificate.',
    });
  }
  if (Date.parse(c.validTo) < Date.now())
    throw new FerryError('CONFIG', `The certificate ${certFile} expired on ${c.validTo}.`, {
      artifact: certFile,
    });
  return { cert, key, ...(ca && caFile ? { ca, caFile } : {}), certFile, names: sanNames(c), issued: false };
}
