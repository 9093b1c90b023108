import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/main.js';
import { HttpClient } from '../../../src-main/core/fetch/download/http-client.js';
import { planDebSet } from '../../../src-main/core/kinds/deb/plan.js';
import { kubesprayOsRoots } from '../../../src-main/core/kinds/deb/roots.js';
import { ResolvedDebSetSchema, type ResolvedDebSet } from '../../../src-main/core/kinds/deb/set.js';
import { osModel } from '../../../src-main/core/kinds/os.js';
import { fromPlain, loadKubespray, PyDict } from '../../../src-main/core/plan/catalog/index.js';
import { aptRoot, aptSimulate, DEBIAN_KEYRING } from '../../helpers/apt-oracle.js';
import { archiveDir, bookwormArchive, bookwormUnavailable } from '../../helpers/deb-archive.js';
import { serveDir, serveDirInChild, type StaticServer } from '../../helpers/static-server.js';
import { kubesprayDataDir, lacks, lacksCondition } from '../../helpers/tools.js';

/** Both directions of the difference, so a failure shows what each side has alone. */
function diff(apt: Map<string, string>, set: ResolvedDebSet): { onlyApt: string[]; onlyFerry: string[] } {
  const f = new Map(set.packages.map((p) => [p.package, p.version]));
  return {
    onlyApt: [...apt].filter(([n, v]) => f.get(n) !== v).map(([n, v]) => `${n}=${v}`),
    onlyFerry: [...f].filter(([n, v]) => apt.get(n) !== v).map(([n, v]) => `${n}=${v}`),
  };
}

describe.skipIf(
  lacks('apt-get', 'lz4', 'dose-debcheck', 'python3') ||
    lacksCondition(!!bookwormUnavailable(), bookwormUnavailable() ?? '') ||
    lacksCondition(!fs.existsSync(DEBIAN_KEYRING), DEBIAN_KEYRING) ||
    lacksCondition(!fs.existsSync(kubesprayDataDir), kubesprayDataDir),
)('ferry plan of Debian 12 packages through a loopback mirror of the real bookworm archive', () => {
  let server: StaticServer;
  let work: string;
  let apt: string[];
  let now: Date;
  let client: HttpClient;
  let baselineNames: string[];

  beforeAll(async () => {
    const suites = bookwormArchive();
    // The cached indexes are one recorded moment: judge them as of an hour after the newest Date.
    now = new Date(
      Math.max(
        ...suites.map((s) =>
          new Date(
            /^Date: (.+)$/m
              .exec(fs.readFileSync(path.join(s.dir, 'InRelease'), 'utf8'))![1]
              .replace('UTC', 'GMT'),
          ).getTime(),
        ),
      ) + 3600e3,
    );
    server = await serveDir(archiveDir);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'deb-plan-loop-'));
    // apt reads the same archive over loopback, from a server in another process (the update
    // runs synchronously and would block this one's).
    const child = await serveDirInChild(archiveDir);
    try {
      apt = aptRoot(path.join(work, 'apt'), child.url);
    } finally {
      child.close();
    }
    client = new HttpClient({ retry: { attempts: 2 } });
  }, 180_000);
  afterAll(async () => {
    await client?.close();
    await server?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const plan = async (vars: Record<string, unknown>) => {
    const data = await loadKubespray({ dir: path.join(kubesprayDataDir, 'v2.31.0') });
    const debian = osModel('debian-12');
    const roots = kubesprayOsRoots(data, debian, { vars: fromPlain(vars) as PyDict });
    const r = await planDebSet(
      { os: debian, arches: ['amd64'], roots },
      {
        client,
        cacheDir: path.join(work, 'cache'),
        // The same --mirror mechanism as files: the plan keeps Debian's URLs.
        mirrors: {
          'https://deb.debian.org/debian/': `${server.url}/debian/`,
          'https://deb.debian.org/debian-security/': `${server.url}/debian-security/`,
        },
        now,
      },
    );
    return { roots, set: ResolvedDebSetSchema.parse(r.set) };
  };

  const baseline = (set: ResolvedDebSet): string[] => {
    // apt assumes the Essential/required packages present; Ferry carries them. The oracle is apt
    // asked for them explicitly, named from the index independently of Ferry's parser.
    if (!baselineNames) {
      const text = fs.readFileSync(path.join(bookwormArchive()[0].dir, 'main/binary-amd64/Packages'), 'utf8');
      baselineNames = [
        ...new Set(
          text
            .split('\n\n')
            .filter((s) => /^(Essential: yes|Priority: required)$/m.test(s))
            .map((s) => /^Package: (\S+)$/m.exec(s)![1]),
        ),
      ];
    }
    expect(set.packages.map((p) => p.package)).toEqual(expect.arrayContaining(['bash', 'dash', 'coreutils']));
    return baselineNames;
  };

  it('resolves Kubespray v2.31.0’s defaults to apt’s closure ∪ Essential/required', async () => {
    const { roots, set } = await plan({});
    expect(roots.map((r) => r.name)).toEqual(expect.arrayContaining(['conntrack', 'ipvsadm', 'python3-apt']));
    expect(set.sources.map((s) => s.suite)).toEqual(['bookworm', 'bookworm-updates', 'bookworm-security']);
    expect(set.sources.every((s) => s.date)).toBe(true);
    expect(set.sources.map((s) => s.uri)).toContain('https://deb.debian.org/debian-security');
    const names = roots.map((r) => r.name);
    const a = aptSimulate(apt, [...names, ...baseline(set)]);
    expect(a.size).toBeGreaterThan(250);
    expect(diff(a, set)).toEqual({ onlyApt: [], onlyFerry: [] });
    // Every file names its archive and the stanza's hash; security fixes come from the security archive.
    const bySuite = new Set(set.packages.map((p) => p.uri));
    expect(bySuite).toEqual(
      new Set(['https://deb.debian.org/debian', 'https://deb.debian.org/debian-security']),
    );
    expect(set.packages.find((p) => p.package === 'conntrack')?.why).toMatch(/Kubespray system_packages/);
    expect(set.packages.find((p) => p.package === 'libmnl0')?.why).toMatch(/Depends of /);
    // And through the mirror only: every request went to the loopback server.
    expect(server.requests.some((p) => p.endsWith('/InRelease'))).toBe(true);
  }, 120_000);

  it('is a closed world: dose-debcheck finds every package of the set installable from the set alone', async () => {
    const { set } = await plan({});
    // The upstream stanzas of exactly the planned files, cut from the real indexes by text.
    const want = new Set(set.packages.map((p) => `${p.package} ${p.version} ${p.arch}`));
    const stanzas: string[] = [];
    for (const s of bookwormArchive()) {
      for (const st of fs
        .readFileSync(path.join(s.dir, 'main/binary-amd64/Packages'), 'utf8')
        .split('\n\n')) {
        const f = (k: string) => new RegExp(`^${k}: (.+)$`, 'm').exec(st)?.[1];
        const key = `${f('Package')} ${f('Version')} ${f('Architecture')}`;
        // A point release and the security archive can hold the same version: one stanza each.
        if (want.delete(key)) stanzas.push(st.trim());
      }
    }
    expect(stanzas).toHaveLength(set.packages.length);
    const check = (text: string) =>
      spawnSync('dose-debcheck', ['--failures', '--explain', '--deb-native-arch=amd64', '-'], {
        input: text,
        encoding: 'utf8',
      });
    const ok = check(stanzas.join('\n\n') + '\n');
    expect(ok.stdout).not.toMatch(/status: broken/);
    expect(ok.status).toBe(0);
    // The same check without libmnl0 names conntrack: it can fail.
    const bad = check(stanzas.filter((t) => !/^Package: libmnl0$/m.test(t)).join('\n\n') + '\n');
    expect(bad.stdout).toMatch(/package: conntrack/);
    expect(bad.status).not.toBe(0);
  }, 120_000);

  it('agrees with apt for kube_proxy_mode: iptables and ntp_enabled: true', async () => {
    const { roots, set } = await plan({ kube_proxy_mode: 'iptables', ntp_enabled: true });
    const names = roots.map((r) => r.name);
    expect(names).toContain('ipset');
    expect(names).not.toContain('ipvsadm');
    expect(names).toContain('ntp'); // ntp_package's default outside RedHat
    const a = aptSimulate(apt, [...names, ...baseline(set)]);
    expect(diff(a, set)).toEqual({ onlyApt: [], onlyFerry: [] });
  }, 120_000);

  it('ferry plan --os debian-12 --mirror … --json carries the same set in the plan', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c) => (out += c));
    stderr.on('data', (c) => (err += c));
    const code = await runCli(
      [
        'plan',
        '--kubespray',
        path.join(kubesprayDataDir, 'v2.31.0'),
        '--os',
        'debian-12',
        '--mirror',
        `https://deb.debian.org/debian/=${server.url}/debian/`,
        '--mirror',
        `https://deb.debian.org/debian-security/=${server.url}/debian-security/`,
        '--json',
      ],
      {
        stdout,
        stderr,
        env: { FERRY_DATA_DIR: path.join(work, 'data') },
        signal: new AbortController().signal,
      },
    );
    expect(err).not.toMatch(/error/i);
    expect(code).toBe(0);
    const json = JSON.parse(out) as { debs: ResolvedDebSet[] };
    expect(json.debs).toHaveLength(1);
    const { set } = await plan({});
    expect(json.debs[0]).toEqual(set);
    // The same plan in text: roots with their reasons, counts and size.
    const text = new PassThrough();
    let t = '';
    text.on('data', (c) => (t += c));
    await runCli(
      [
        'plan',
        '--kubespray',
        path.join(kubesprayDataDir, 'v2.31.0'),
        '--os',
        'debian-12',
        '--mirror',
        `https://deb.debian.org/debian/=${server.url}/debian/`,
        '--mirror',
        `https://deb.debian.org/debian-security/=${server.url}/debian-security/`,
      ],
      {
        stdout: text,
        stderr,
        env: { FERRY_DATA_DIR: path.join(work, 'data') },
        signal: new AbortController().signal,
      },
    );
    expect(t).toMatch(
      new RegExp(
        `OS packages for debian-12 \\(amd64\\): ${set.roots.length} roots → ${set.packages.length} packages, [0-9.]+ MB`,
      ),
    );
    expect(t).toMatch(/^ {2}conntrack +Kubespray system_packages pkgs/m);
  }, 120_000);

  it('reads the indexes from its cache the second time, still verified against the InRelease', async () => {
    const before = server.requests.length;
    await plan({});
    const asked = server.requests.slice(before);
    expect(asked.filter((p) => p.endsWith('/InRelease'))).toHaveLength(3);
    expect(asked.filter((p) => /Packages/.test(p))).toEqual([]);
  }, 120_000);
});
