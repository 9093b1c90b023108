import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import { FerryError } from '../../base/errors/index.js';

/**
 * An apt repository Ferry writes for one target OS, from packages it verified:
 *
 *   repos/<os>/dists/<suite>/Release, InRelease
 *   repos/<os>/dists/<suite>/<component>/binary-<arch>/Packages, Packages.gz
 *   repos/<os>/pool/…            the .debs, byte for byte as upstream served them
 *   repos/<os>/ferry.gpg, ferry.asc   Ferry's repository public key (binary keyring, armored)
 *
 * Each stanza is the package's own control file plus Filename/Size/MD5sum/SHA256, as
 * dpkg-scanpackages writes them. `Architecture: all` packages are inlined into every
 * binary-<arch> index (Debian's practice), and the Release says only the target architectures,
 * so apt never asks for a binary-all index. No Valid-Until: offline clocks drift, and the bundle
 * signature already covers transport. No Acquire-By-Hash: the repository is static.
 */

export interface RepoPackage {
  /** The control file of the .deb (readDebControl). */
  control: string;
  /** Architecture field ('amd64', 'arm64', 'all'). */
  arch: string;
  /** Path relative to the repository root (pool/…), what the stanza's Filename says. */
  filename: string;
  size: number;
  md5: string;
  sha256: string;
  /** Components that list it ('main', plus 'stable' for Docker's packages). */
  components: string[];
}

export interface RepoSink {
  tempPath(hint?: string): string;
  commitFile(tmp: string, relPath: string, hash: { size: number; sha256: string }): Promise<unknown>;
  addBytes(relPath: string, data: Buffer | string): Promise<unknown>;
}

export interface WriteRepoOptions {
  /** Bundle folder of the repository: repos/<os>. */
  root: string;
  os: string;
  suite: string;
  arches: string[];
  packages: RepoPackage[];
  signer: {
    clearsign(text: string, date?: Date): Promise<string>;
    armoredPublicKey: string;
    binaryKeyring: Uint8Array;
  };
  date?: Date;
}

/** Keyring file names in the repository root: `signed-by=` reads the .gpg, Kubespray's gpgkey URL the .asc. */
export const KEYRING_FILE = 'ferry.gpg';
export const ARMORED_KEY_FILE = 'ferry.asc';

const FIELD_ORDER = ['Filename', 'Size', 'MD5sum', 'SHA256'];

/** One Packages stanza: the control fields, minus any Ferry sets, then where and what the file is. */
export function stanzaFor(p: RepoPackage): string {
  const lines = p.control.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
  const kept: string[] = [];
  let skipping = false;
  for (const l of lines) {
    if (/^\s/.test(l)) {
      if (!skipping) kept.push(l);
      continue;
    }
    const name = l.slice(0, l.indexOf(':'));
    skipping = FIELD_ORDER.includes(name) || name === 'SHA1' || name === 'SHA512';
    if (!skipping) kept.push(l);
  }
  if (!/^Package: /.test(kept[0] ?? ''))
    throw new FerryError('INTEGRITY', `${p.filename}: its control file does not start with Package.`, {
      artifact: p.filename,
    });
  kept.push(`Filename: ${p.filename}`, `Size: ${p.size}`, `MD5sum: ${p.md5}`, `SHA256: ${p.sha256}`);
  return kept.join('\n') + '\n';
}

interface Hashed {
  size: number;
  md5: string;
  sha256: string;
}

/** Stream stanzas into a file (optionally gzipped), hashing what lands on disk. */
async function writeIndex(stanzas: string[], tmp: string, gzip: boolean): Promise<Hashed> {
  const md5 = createHash('md5');
  const sha = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      md5.update(chunk);
      sha.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  const src = Readable.from(
    (function* () {
      for (let i = 0; i < stanzas.length; i++) yield Buffer.from(i === 0 ? stanzas[i] : '\n' + stanzas[i]);
    })(),
  );
  const out = fs.createWriteStream(tmp);
  // mtime 0 and no name: the same packages give the same .gz bytes.
  if (gzip) await pipeline(src, createGzip({ level: 9 }), tap, out);
  else await pipeline(src, tap, out);
  return { size, md5: md5.digest('hex'), sha256: sha.digest('hex') };
}

const rfc2822 = (d: Date): string => d.toUTCString().replace('GMT', 'UTC');

/**
 * Write the repository's indexes, Release, InRelease and keyrings into the sink. The .debs are
 * already in place (fetch committed them); this only adds metadata. Returns the bundle paths it
 * wrote, for the `repo` artifact.
 */
export async function writeAptRepo(sink: RepoSink, o: WriteRepoOptions): Promise<string[]> {
  const written: string[] = [];
  const entries: Array<{ rel: string } & Hashed> = [];
  const components = [...new Set(o.packages.flatMap((p) => p.components))].sort();
  const byName = (a: RepoPackage, b: RepoPackage) =>
    a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0;
  for (const component of components) {
    for (const arch of o.arches) {
      const list = o.packages
        .filter((p) => p.components.includes(component) && (p.arch === arch || p.arch === 'all'))
        .sort(byName);
      const stanzas = list.map(stanzaFor);
      for (const gz of [false, true]) {
        const rel = `${component}/binary-${arch}/Packages${gz ? '.gz' : ''}`;
        const tmp = sink.tempPath(gz ? 'Packages.gz' : 'Packages');
        const h = await writeIndex(stanzas, tmp, gz);
        const bundlePath = `${o.root}/dists/${o.suite}/${rel}`;
        await sink.commitFile(tmp, bundlePath, h);
        written.push(bundlePath);
        entries.push({ rel, ...h });
      }
    }
  }
  const date = o.date ?? new Date();
  const sum = (k: 'md5' | 'sha256') =>
    entries.map((e) => ` ${e[k]} ${String(e.size).padStart(16)} ${e.rel}`).join('\n');
  const release =
    [
      'Origin: Ferry',
      `Label: Ferry ${o.os}`,
      `Suite: ${o.suite}`,
      `Codename: ${o.suite}`,
      `Date: ${rfc2822(date)}`,
      `Architectures: ${o.arches.join(' ')}`,
      `Components: ${components.join(' ')}`,
      `Description: Packages for ${o.os} carried by Ferry`,
      'MD5Sum:',
      sum('md5'),
      'SHA256:',
      sum('sha256'),
    ].join('\n') + '\n';
  const dists = `${o.root}/dists/${o.suite}`;
  await sink.addBytes(`${dists}/Release`, release);
  await sink.addBytes(`${dists}/InRelease`, await o.signer.clearsign(release, date));
  await sink.addBytes(`${o.root}/${KEYRING_FILE}`, Buffer.from(o.signer.binaryKeyring));
  await sink.addBytes(`${o.root}/${ARMORED_KEY_FILE}`, o.signer.armoredPublicKey);
  written.push(
    `${dists}/Release`,
    `${dists}/InRelease`,
    `${o.root}/${KEYRING_FILE}`,
    `${o.root}/${ARMORED_KEY_FILE}`,
  );
  return written;
}
