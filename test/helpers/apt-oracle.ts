import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fromPlain, loadKubespray, type PyDict } from '../../src-main/core/plan/catalog/index.js';
import { kubesprayPkgs } from '../../src-main/core/kinds/deb/roots.js';
import { osModel } from '../../src-main/core/kinds/os.js';
import { readLocalPackages, type DebPackage } from '../../src-main/core/kinds/deb/packages.js';
import { packagesIndexes, readKeyring, verifyInRelease } from '../../src-main/core/kinds/deb/release.js';
import { aptRootWith } from './apt-root.js';
import { archiveDir, bookwormArchive } from './deb-archive.js';
import { kubesprayDataDir } from './tools.js';

export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/**
 * A throw-away apt root over the cached bookworm archive (file: URIs, or `baseUrl` when it is
 * served on loopback — apt's file: method does not fall back from a missing Packages.xz to the
 * plain index, its http method does; Debian's real signatures either way):
 * an empty dpkg status is a bare node, and nothing on the host changes. Valid-Until is not
 * checked because the cache is one recorded moment; Ferry's own check is tested separately.
 */
export function aptRoot(dir: string, baseUrl?: string): string[] {
  const sources = bookwormArchive().map(
    (s) =>
      `deb [signed-by=${DEBIAN_KEYRING}] ${baseUrl ? `${baseUrl}/${s.root}` : `file:${path.join(archiveDir, s.root)}`} ${s.suite} main`,
  );
  // The cached bookworm indexes age past the security suite's Valid-Until; the oracle only
  // resolves from them, so that one check is off here (Ferry's own Release keeps it on).
  const opts = [...aptRootWith(dir, sources), '-o', 'Acquire::Check-Valid-Until=false'];
  execFileSync('apt-get', [...opts, '-q', 'update'], { stdio: 'pipe' });
  return opts;
}

/** `apt-get -s install`: the packages apt would install, as "name version" lines. */
export function aptSimulate(opts: string[], roots: string[], recommends = true): Map<string, string> {
  const out = execFileSync(
    'apt-get',
    [...opts, '-s', '-q', '-o', `APT::Install-Recommends=${recommends}`, 'install', ...roots],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const x = /^Inst (\S+) \((\S+) /.exec(line);
    if (x) m.set(x[1].replace(/:amd64$/, ''), x[2]);
  }
  return m;
}

/**
 * Kubespray's OS package list for a Debian 12 node of k8s_cluster: the tag's `pkgs` as core
 * evaluates them (core/kinds/deb/roots.ts), without the extras Ferry adds outside `pkgs`.
 */
export async function kubesprayDebian12Roots(
  tag = 'v2.31.0',
  vars: Record<string, unknown> = {},
): Promise<string[]> {
  const data = await loadKubespray({ dir: path.join(kubesprayDataDir, tag) });
  return kubesprayPkgs(data, osModel('debian-12'), { vars: fromPlain(vars) as PyDict }).map((r) => r.name);
}

/** Every record of the cached bookworm suites (amd64), each verified against its InRelease. */
export async function bookwormRecords(): Promise<DebPackage[]> {
  const keyring = await readKeyring(fs.readFileSync(DEBIAN_KEYRING));
  const all: DebPackage[] = [];
  for (const s of bookwormArchive()) {
    const raw = fs.readFileSync(path.join(s.dir, 'InRelease'), 'utf8');
    const date = new Date(/^Date: (.+)$/m.exec(raw)![1].replace('UTC', 'GMT'));
    const v = await verifyInRelease(raw, { suite: s.suite, keyring, now: new Date(date.getTime() + 3600e3) });
    const forms = packagesIndexes(v.release, 'main', 'amd64', s.suite).filter(
      (c) => c.compression === 'none',
    );
    all.push(...(await readLocalPackages(s.dir, v.release, forms, `debian ${s.suite}`)));
  }
  return all;
}
