import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * A copy of the real Debian 12 archive indexes laid out at their archive paths, cached under
 * /var/cache/ferry-test/ so repeated runs and the bench read the same moment's indexes. Built
 * from the host's /var/lib/apt/lists (apt keeps the verified InRelease and an lz4 copy of the
 * uncompressed Packages, whose hash the Release lists), so no network is needed. When the
 * archive is reachable and FERRY_TEST_DOWNLOAD=1, the .xz indexes named by the same InRelease
 * are downloaded as well, so the compressed path is tested on real bytes.
 */
export const debCacheDir = process.env.FERRY_TEST_CACHE ?? '/var/cache/ferry-test';
export const archiveDir = path.join(debCacheDir, 'debian-archive');
const listsDir = '/var/lib/apt/lists';

export interface CachedSuite {
  /** Archive root as served: `debian` or `debian-security`. */
  root: string;
  suite: string;
  /** dists/<suite> folder on disk. */
  dir: string;
}

export const BOOKWORM_SUITES = [
  { host: 'deb.debian.org', root: 'debian', suite: 'bookworm' },
  { host: 'deb.debian.org', root: 'debian', suite: 'bookworm-updates' },
  { host: 'deb.debian.org', root: 'debian-security', suite: 'bookworm-security' },
] as const;

const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** The SHA256 line of a Release text for one path, or undefined. */
function releaseEntry(text: string, rel: string): { sha256: string; size: number } | undefined {
  const m = new RegExp(`^ ([0-9a-f]{64}) +(\\d+) ${rel.replace(/[.+]/g, '\\$&')}$`, 'm').exec(
    text.slice(text.indexOf('\nSHA256:')),
  );
  return m ? { sha256: m[1], size: Number(m[2]) } : undefined;
}

/** Why the cache cannot be built here, or undefined when it can (or already is). */
export function bookwormUnavailable(): string | undefined {
  for (const s of BOOKWORM_SUITES) {
    const base = `${s.host}_${s.root}_dists_${s.suite}`;
    const have =
      fs.existsSync(path.join(archiveDir, s.root, 'dists', s.suite, 'InRelease')) ||
      (fs.existsSync(path.join(listsDir, `${base}_InRelease`)) &&
        fs.existsSync(path.join(listsDir, `${base}_main_binary-amd64_Packages.lz4`)));
    if (!have) return `no bookworm indexes for ${s.suite} in ${listsDir} (run apt-get update)`;
  }
  return undefined;
}

/** Builds (once) and returns the cached bookworm archive: one entry per suite. */
export function bookwormArchive(): CachedSuite[] {
  const out: CachedSuite[] = [];
  for (const s of BOOKWORM_SUITES) {
    const dir = path.join(archiveDir, s.root, 'dists', s.suite);
    const inRelease = path.join(dir, 'InRelease');
    const plain = path.join(dir, 'main', 'binary-amd64', 'Packages');
    if (!fs.existsSync(inRelease) || !fs.existsSync(plain)) {
      const base = path.join(listsDir, `${s.host}_${s.root}_dists_${s.suite}`);
      const text = fs.readFileSync(`${base}_InRelease`, 'utf8');
      fs.mkdirSync(path.dirname(plain), { recursive: true });
      const tmp = `${plain}.tmp`;
      execFileSync('sh', ['-c', `lz4 -dc "$0" > "$1"`, `${base}_main_binary-amd64_Packages.lz4`, tmp]);
      const want = releaseEntry(text, 'main/binary-amd64/Packages');
      // The lists may be mid-update; a cache that does not match its own Release is useless.
      if (!want || sha256(tmp) !== want.sha256) {
        fs.rmSync(tmp, { force: true });
        throw new Error(`${base}: Packages does not match its InRelease (re-run apt-get update)`);
      }
      fs.renameSync(tmp, plain);
      fs.writeFileSync(`${inRelease}.tmp`, text);
      fs.renameSync(`${inRelease}.tmp`, inRelease);
    }
    const xz = `${plain}.xz`;
    if (!fs.existsSync(xz) && process.env.FERRY_TEST_DOWNLOAD === '1') {
      const text = fs.readFileSync(inRelease, 'utf8');
      const want = releaseEntry(text, 'main/binary-amd64/Packages.xz');
      if (want) {
        try {
          execFileSync('curl', [
            '-fsS',
            '-o',
            `${xz}.tmp`,
            `http://${s.host}/${s.root}/dists/${s.suite}/main/binary-amd64/Packages.xz`,
          ]);
          if (sha256(`${xz}.tmp`) === want.sha256) fs.renameSync(`${xz}.tmp`, xz);
          else fs.rmSync(`${xz}.tmp`, { force: true }); // the archive moved on since this InRelease
        } catch {
          fs.rmSync(`${xz}.tmp`, { force: true });
        }
      }
    }
    out.push({ root: s.root, suite: s.suite, dir });
  }
  return out;
}

/** Every Version field of a plain Packages file, read with a regex independent of Ferry's parser. */
export function versionsOf(packagesFile: string): string[] {
  const text = fs.readFileSync(packagesFile, 'utf8');
  return [...text.matchAll(/^Version: (.+)$/gm)].map((m) => m[1]);
}
