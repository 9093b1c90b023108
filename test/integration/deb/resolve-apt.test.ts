import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DebPackage } from '../../../src-main/core/kinds/deb/packages.js';
import { resolve, Universe } from '../../../src-main/core/kinds/deb/resolve.js';
import {
  aptRoot,
  aptSimulate,
  bookwormRecords,
  DEBIAN_KEYRING,
  kubesprayDebian12Roots,
} from '../../helpers/apt-oracle.js';
import { archiveDir, bookwormUnavailable } from '../../helpers/deb-archive.js';
import { serveDirInChild } from '../../helpers/static-server.js';
import { kubesprayDataDir, lacks, lacksCondition } from '../../helpers/tools.js';

/** Both directions of the difference, so a failure shows exactly what each side has alone. */
function diff(apt: Map<string, string>, ferry: DebPackage[]): { onlyApt: string[]; onlyFerry: string[] } {
  const f = new Map(ferry.map((p) => [p.package, p.version]));
  return {
    onlyApt: [...apt].filter(([n, v]) => f.get(n) !== v).map(([n, v]) => `${n}=${v}`),
    onlyFerry: [...f].filter(([n, v]) => apt.get(n) !== v).map(([n, v]) => `${n}=${v}`),
  };
}

describe.skipIf(
  lacks('apt-get', 'lz4') ||
    lacksCondition(!!bookwormUnavailable(), bookwormUnavailable() ?? '') ||
    lacksCondition(!fs.existsSync(DEBIAN_KEYRING), DEBIAN_KEYRING) ||
    lacksCondition(!fs.existsSync(kubesprayDataDir), kubesprayDataDir),
)('Ferry’s closure against apt-get -s install on the real bookworm indexes', () => {
  let dir: string;
  let apt: string[];
  let u: Universe;
  let roots: string[];
  beforeAll(async () => {
    dir = fs.mkdtempSync('/tmp/deb-resolve-apt-');
    // Over loopback http: apt's file: method does not fall back to the plain index the cache holds.
    const served = await serveDirInChild(archiveDir);
    try {
      apt = aptRoot(dir, served.url);
    } finally {
      served.close();
    }
    u = new Universe(await bookwormRecords(), 'amd64');
    roots = await kubesprayDebian12Roots('v2.31.0');
  }, 180_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('finds Kubespray v2.31.0’s Debian 12 roots in its own data', () => {
    expect(roots).toContain('conntrack');
    expect(roots).toContain('ipvsadm');
    expect(roots).toContain('python3-apt');
    expect(roots).not.toContain('ipset'); // kube_proxy_mode ipvs by default
    expect(roots.length).toBe(22);
  });

  it('equals apt’s closure from a bare root, with and without Recommends', () => {
    for (const recommends of [true, false]) {
      const r = resolve(u, roots, { arch: 'amd64', baseline: false, recommends });
      expect(r.errors).toEqual([]);
      const a = aptSimulate(apt, roots, recommends);
      expect(a.size).toBeGreaterThan(recommends ? 200 : 150);
      expect(diff(a, r.packages)).toEqual({ onlyApt: [], onlyFerry: [] });
    }
  });

  it('with the baseline, equals what apt installs when also given every Essential/required package', () => {
    const baseline = [...u.byName]
      .filter(([, l]) => l.some((p) => p.essential || p.priority === 'required'))
      .map(([n]) => n);
    expect(baseline).toEqual(
      expect.arrayContaining(['bash', 'coreutils', 'dash', 'grep', 'util-linux', 'tzdata']),
    );
    const r = resolve(u, roots, { arch: 'amd64' });
    expect(r.errors).toEqual([]);
    const a = aptSimulate(apt, [...roots, ...baseline]);
    expect(diff(a, r.packages)).toEqual({ onlyApt: [], onlyFerry: [] });
    // It contains apt's closure of the roots alone, except packages whose name a baseline
    // package Provides: apt without the baseline installs lsb-base (a transitional package) for
    // dirmngr, while the Essential sysvinit-utils provides lsb-base (= 11.1.0) on every node.
    const plain = aptSimulate(apt, roots);
    const have = new Set(r.packages.map((p) => `${p.package}=${p.version}`));
    const provided = new Set(r.packages.flatMap((p) => p.provides.map((x) => x.name)));
    const missing = [...plain].filter(([n, v]) => !have.has(`${n}=${v}`)).map(([n]) => n);
    expect(missing.filter((n) => !provided.has(n))).toEqual([]);
    expect(missing.length).toBeLessThan(5);
  });

  it('agrees for kube_proxy_mode: iptables with ntp_enabled', async () => {
    const other = await kubesprayDebian12Roots('v2.31.0', { kube_proxy_mode: 'iptables', ntp_enabled: true });
    expect(other).toContain('ipset');
    expect(other).not.toContain('ipvsadm');
    const r = resolve(u, other, { arch: 'amd64', baseline: false });
    expect(r.errors).toEqual([]);
    expect(diff(aptSimulate(apt, other), r.packages)).toEqual({ onlyApt: [], onlyFerry: [] });
  });

  it('names the package and the relation when the indexes cannot satisfy it', () => {
    // Hide libmnl0, which conntrack depends on: apt would refuse as well.
    const records = [...u.byName.values()].flat().filter((p) => p.package !== 'libmnl0');
    const r = resolve(records, ['conntrack'], { arch: 'amd64', baseline: false });
    expect(r.errors).toEqual([
      expect.objectContaining({ code: 'UNSATISFIABLE', relation: expect.stringMatching(/^libmnl0/) }),
    ]);
  });
});
