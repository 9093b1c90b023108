import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../../src-main/core/fetch/download/http-client.js';
import { planDebSet, type DebPlanContext } from '../../../src-main/core/kinds/deb/plan.js';
import { osModel } from '../../../src-main/core/kinds/os.js';
import { clearsign, releaseText, testSigningKey } from '../../helpers/deb-sign.js';
import { serveDir, type StaticServer } from '../../helpers/static-server.js';

/**
 * Ubuntu's archives cannot be reached here, so their layout is rebuilt synthetically: the three
 * hosts (archive, security, ports for arm64), the pockets, main + universe, signed by a test key
 * given as the user's keyring. The code paths are the ones a real Ubuntu plan takes: only the
 * mirror map points the default URLs at loopback.
 */
const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');
const NOW = new Date('2026-06-01T12:00:00Z');
const DATE = 'Mon, 01 Jun 2026 10:00:00 UTC';

interface Pkg {
  name: string;
  version: string;
  arch?: string;
  depends?: string;
  extra?: string;
}

function stanza(p: Pkg, arch: string, component: string): string {
  const a = p.arch ?? arch;
  const file = `pool/${component}/${p.name[0]}/${p.name}/${p.name}_${p.version}_${a}.deb`;
  return [
    `Package: ${p.name}`,
    `Version: ${p.version}`,
    `Architecture: ${a}`,
    ...(p.depends ? [`Depends: ${p.depends}`] : []),
    ...(p.extra ? [p.extra] : []),
    `Filename: ${file}`,
    `Size: ${1000 + p.name.length}`,
    `SHA256: ${sha(file)}`,
    '',
  ].join('\n');
}

describe('an Ubuntu 24.04 plan over a synthetic, test-signed archive layout', () => {
  let root: string;
  let server: StaticServer;
  let client: HttpClient;
  let ctx: DebPlanContext;
  let suiteFiles: Map<string, { release: string; signed: string }>;
  let dockerKeyring: Uint8Array;

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'deb-plan-ubuntu-'));
    const key = await testSigningKey('Ferry test Ubuntu archive');
    suiteFiles = new Map();
    // host dir → [suite, component, packages][]; arm64 lives on ports only.
    const layout: Record<string, { arch: string; suites: Record<string, Record<string, Pkg[]>> }> = {
      ubuntu: {
        arch: 'amd64',
        suites: {
          noble: {
            main: [
              { name: 'base-files', version: '13ubuntu10', extra: 'Essential: yes\nPriority: required' },
              { name: 'libc6', version: '2.39-0ubuntu8', extra: 'Priority: optional' },
              { name: 'libmnl0', version: '1.0.5-2', depends: 'libc6 (>= 2.14)' },
              { name: 'conntrack', version: '1:1.4.8-1', depends: 'libc6 (>= 2.38), libmnl0 (>= 1.0.3-4~)' },
              { name: 'tzdata', version: '2024a-2', arch: 'all' },
            ],
            universe: [{ name: 'mergerfs', version: '2.33.5-1', depends: 'libc6 (>= 2.34)' }],
          },
          'noble-updates': {
            main: [{ name: 'libmnl0', version: '1.0.5-2ubuntu1', depends: 'libc6 (>= 2.14)' }],
            universe: [],
          },
        },
      },
      security: {
        arch: 'amd64',
        suites: { 'noble-security': { main: [{ name: 'libc6', version: '2.39-0ubuntu8.3' }], universe: [] } },
      },
    };
    // Ports: every pocket in one tree, arm64.
    layout['ubuntu-ports'] = {
      arch: 'arm64',
      suites: {
        noble: layout.ubuntu.suites.noble,
        'noble-updates': layout.ubuntu.suites['noble-updates'],
        'noble-security': layout.security.suites['noble-security'],
      },
    };
    for (const [host, { arch, suites }] of Object.entries(layout)) {
      for (const [suite, comps] of Object.entries(suites)) {
        const files: Record<string, Uint8Array | string> = {};
        for (const [comp, pkgs] of Object.entries(comps)) {
          const text = pkgs.map((p) => stanza(p, arch, comp)).join('\n');
          files[`${comp}/binary-${arch}/Packages`] = text;
          files[`${comp}/binary-${arch}/Packages.gz`] = gzipSync(text);
        }
        const dir = path.join(root, host, 'dists', suite);
        for (const [rel, bytes] of Object.entries(files)) {
          if (rel.endsWith('Packages')) continue; // only the .gz is served: the plain form is listed, not present
          fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
          fs.writeFileSync(path.join(dir, rel), bytes);
        }
        const release = releaseText(
          {
            Origin: 'Ubuntu',
            Label: 'Ubuntu',
            Suite: suite,
            Codename: 'noble',
            Date: DATE,
            ...(suite.endsWith('-security') ? { 'Valid-Until': 'Mon, 08 Jun 2026 10:00:00 UTC' } : {}),
            Architectures: arch === 'amd64' ? 'amd64 i386' : 'arm64 armhf ppc64el riscv64 s390x',
            Components: 'main restricted universe multiverse',
          },
          files,
          sha,
        );
        const signed = await clearsign(release, key.privateKey, new Date('2026-06-01T10:00:00Z'));
        fs.writeFileSync(path.join(dir, 'InRelease'), signed);
        suiteFiles.set(`/${host}/dists/${suite}`, { release, signed });
      }
    }
    // Docker's repository (container_manager: docker), signed by another key than the distro's.
    const dockerKey = await testSigningKey('Ferry test Docker repository');
    {
      const text = [
        { name: 'containerd.io', version: '1.7.27-1' },
        {
          name: 'docker-ce',
          version: '5:28.3.3-1~ubuntu.24.04~noble',
          depends: 'containerd.io (>= 1.6.24), docker-ce-cli',
        },
        { name: 'docker-ce', version: '5:28.5.0-1~ubuntu.24.04~noble', depends: 'containerd.io (>= 1.7.27)' },
        { name: 'docker-ce-cli', version: '5:28.3.3-1~ubuntu.24.04~noble' },
      ]
        .map((p) => stanza(p, 'amd64', 'stable'))
        .join('\n');
      const files = {
        'stable/binary-amd64/Packages': text,
        'stable/binary-amd64/Packages.gz': gzipSync(text),
      };
      const dir = path.join(root, 'docker', 'dists', 'noble');
      fs.mkdirSync(path.join(dir, 'stable/binary-amd64'), { recursive: true });
      fs.writeFileSync(
        path.join(dir, 'stable/binary-amd64/Packages.gz'),
        files['stable/binary-amd64/Packages.gz'],
      );
      const release = releaseText(
        {
          Origin: 'Docker',
          Label: 'Docker CE',
          Suite: 'noble',
          Codename: 'noble',
          Date: DATE,
          Architectures: 'amd64 arm64',
          Components: 'stable',
        },
        files,
        sha,
      );
      fs.writeFileSync(
        path.join(dir, 'InRelease'),
        await clearsign(release, dockerKey.privateKey, new Date('2026-06-01T10:00:00Z')),
      );
    }
    dockerKeyring = dockerKey.binaryKeyring;
    server = await serveDir(root);
    client = new HttpClient({ retry: { attempts: 1, baseMs: 1 } });
    ctx = {
      client,
      cacheDir: path.join(root, 'cache'),
      now: NOW,
      keyrings: { 'ubuntu-24.04': [key.binaryKeyring] },
      mirrors: {
        'http://archive.ubuntu.com/ubuntu/': `${server.url}/ubuntu/`,
        'http://security.ubuntu.com/ubuntu/': `${server.url}/security/`,
        'http://ports.ubuntu.com/ubuntu-ports/': `${server.url}/ubuntu-ports/`,
        'https://download.docker.com/linux/ubuntu/': `${server.url}/docker/`,
      },
    };
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const roots = [
    { name: 'conntrack', why: 'test root' },
    { name: 'mergerfs', why: 'test root (universe)' },
  ];
  const ubuntu = osModel('ubuntu-24.04');

  it('resolves both arches from their own archives: pockets, universe, security, ports', async () => {
    const r = await planDebSet(
      { os: ubuntu, arches: ['amd64', 'arm64'], roots },
      { ...ctx, cacheDir: path.join(root, 'c1') },
    );
    const got = r.set.packages.map((p) => `${p.package} ${p.version} ${p.arch} ${p.uri}`);
    expect(got.sort()).toEqual(
      [
        'base-files 13ubuntu10 amd64 http://archive.ubuntu.com/ubuntu',
        'base-files 13ubuntu10 arm64 http://ports.ubuntu.com/ubuntu-ports',
        'conntrack 1:1.4.8-1 amd64 http://archive.ubuntu.com/ubuntu',
        'conntrack 1:1.4.8-1 arm64 http://ports.ubuntu.com/ubuntu-ports',
        // The security pocket's libc6 beats the release's; amd64 from security.ubuntu.com.
        'libc6 2.39-0ubuntu8.3 amd64 http://security.ubuntu.com/ubuntu',
        'libc6 2.39-0ubuntu8.3 arm64 http://ports.ubuntu.com/ubuntu-ports',
        // -updates beats the release pocket.
        'libmnl0 1.0.5-2ubuntu1 amd64 http://archive.ubuntu.com/ubuntu',
        'libmnl0 1.0.5-2ubuntu1 arm64 http://ports.ubuntu.com/ubuntu-ports',
        'mergerfs 2.33.5-1 amd64 http://archive.ubuntu.com/ubuntu',
        'mergerfs 2.33.5-1 arm64 http://ports.ubuntu.com/ubuntu-ports',
      ].sort(),
    );
    expect(r.set.sources.map((s) => `${s.uri} ${s.suite} ${s.components.join(',')}`)).toEqual([
      'http://archive.ubuntu.com/ubuntu noble main,universe',
      'http://archive.ubuntu.com/ubuntu noble-updates main,universe',
      'http://security.ubuntu.com/ubuntu noble-security main,universe',
      'http://ports.ubuntu.com/ubuntu-ports noble main,universe',
      'http://ports.ubuntu.com/ubuntu-ports noble-updates main,universe',
      'http://ports.ubuntu.com/ubuntu-ports noble-security main,universe',
    ]);
    expect(r.set.sources[0].date).toBe('2026-06-01T10:00:00.000Z');
    const mergerfs = r.set.packages.find((p) => p.package === 'mergerfs')!;
    expect(mergerfs.filename).toBe('pool/universe/m/mergerfs/mergerfs_2.33.5-1_amd64.deb');
    expect(r.set.packages.find((p) => p.package === 'base-files')?.why).toMatch(/Essential/);
    expect(r.set.packages.find((p) => p.package === 'libmnl0')?.why).toBe('Depends of conntrack');
  });

  it('container_manager docker: Kubespray’s pinned versions from Docker’s repository, its own key', async () => {
    const docker = [
      {
        name: 'docker-ce',
        version: '5:28.3.3-1~ubuntu.24.04~noble',
        why: 'docker',
        source: 'docker' as const,
      },
      {
        name: 'docker-ce-cli',
        version: '5:28.3.3-1~ubuntu.24.04~noble',
        why: 'docker',
        source: 'docker' as const,
      },
    ];
    const c = {
      ...ctx,
      keyrings: { ...ctx.keyrings, docker: [dockerKeyring] },
      cacheDir: path.join(root, 'c7'),
    };
    const r = await planDebSet({ os: ubuntu, arches: ['amd64'], roots: [...roots, ...docker] }, c);
    const got = new Map(r.set.packages.map((p) => [p.package, p]));
    // The pin wins over the newer 28.5.0 in the same index.
    expect(got.get('docker-ce')).toMatchObject({
      version: '5:28.3.3-1~ubuntu.24.04~noble',
      uri: 'https://download.docker.com/linux/ubuntu',
    });
    expect(got.get('containerd.io')?.why).toBe('Depends of docker-ce');
    expect(r.set.roots.map((x) => x.name)).toContain('docker-ce=5:28.3.3-1~ubuntu.24.04~noble');
    expect(r.set.sources.map((x) => x.uri)).toContain('https://download.docker.com/linux/ubuntu');
    // Without Docker's key nothing is fetched from it; a pin the repository lacks is named.
    await expect(
      planDebSet(
        { os: ubuntu, arches: ['amd64'], roots: docker },
        { ...ctx, cacheDir: path.join(root, 'c8') },
      ),
    ).rejects.toMatchObject({ code: 'CONFIG', hint: expect.stringMatching(/--keyring docker=/) });
    await expect(
      planDebSet({ os: ubuntu, arches: ['amd64'], roots: [{ ...docker[0], version: '5:99.0' }] }, c),
    ).rejects.toThrow(/docker-ce=5:99\.0 is in none of the suites \(they have 5:28\.3\.3/);
  });

  it('names a package no suite has, and the arch', async () => {
    await expect(
      planDebSet(
        { os: ubuntu, arches: ['amd64'], roots: [{ name: 'no-such-tool', why: 'extra' }] },
        { ...ctx, cacheDir: path.join(root, 'c2') },
      ),
    ).rejects.toThrow(/ubuntu-24.04 amd64: no-such-tool is in none of the suites/);
  });

  it('refuses without Ubuntu’s keyring, saying how to give it', async () => {
    await expect(
      planDebSet(
        { os: ubuntu, arches: ['amd64'], roots },
        { ...ctx, keyrings: {}, cacheDir: path.join(root, 'c3') },
      ),
    ).rejects.toMatchObject({ code: 'CONFIG', hint: expect.stringMatching(/--keyring ubuntu-24\.04=/) });
  });

  it('refuses a tampered InRelease, naming the suite', async () => {
    const { signed } = suiteFiles.get('/ubuntu/dists/noble-updates')!;
    server.overrides.set(
      '/ubuntu/dists/noble-updates/InRelease',
      signed.replace('Suite: noble-updates', 'Suite: noble-backports'),
    );
    try {
      await expect(
        planDebSet({ os: ubuntu, arches: ['amd64'], roots }, { ...ctx, cacheDir: path.join(root, 'c4') }),
      ).rejects.toMatchObject({
        code: 'SIGNATURE',
        artifact: 'ubuntu-24.04 archive.ubuntu.com/ubuntu noble-updates',
        details: { reason: 'bad-signature' },
      });
    } finally {
      server.overrides.clear();
    }
  });

  it('refuses an index that does not match its Release hash, naming it and both values', async () => {
    const gz = gzipSync(
      'Package: evil\nVersion: 1\nArchitecture: amd64\nFilename: x\nSize: 1\nSHA256: ' +
        '0'.repeat(64) +
        '\n',
    );
    const rel = suiteFiles.get('/ubuntu/dists/noble')!.release;
    const want = /^ ([0-9a-f]{64}) +(\d+) universe\/binary-amd64\/Packages\.gz$/m.exec(rel)!;
    server.overrides.set('/ubuntu/dists/noble/universe/binary-amd64/Packages.gz', gz);
    try {
      const err = await planDebSet(
        { os: ubuntu, arches: ['amd64'], roots },
        { ...ctx, cacheDir: path.join(root, 'c5') },
      ).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string },
      );
      expect(err?.code).toBe('CHECKSUM');
      expect(err?.message).toMatch(/universe\/binary-amd64\/Packages\.gz/);
      // The download layer refuses on size or sha256, whichever it sees first; both name the expectation.
      expect(err?.message).toMatch(new RegExp(`${want[1]}|${want[2]}`));
    } finally {
      server.overrides.clear();
    }
  });

  it('refuses a security Release past its Valid-Until with a message to refresh', async () => {
    await expect(
      planDebSet(
        { os: ubuntu, arches: ['amd64'], roots },
        { ...ctx, now: new Date('2026-06-10T00:00:00Z'), cacheDir: path.join(root, 'c6') },
      ),
    ).rejects.toMatchObject({
      code: 'SIGNATURE',
      artifact: 'ubuntu-24.04 security.ubuntu.com/ubuntu noble-security',
      details: { reason: 'expired' },
      hint: expect.stringMatching(/refresh/),
    });
  });
});
