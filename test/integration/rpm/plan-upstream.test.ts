import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../../src-main/core/fetch/download/http-client.js';
import { osModel } from '../../../src-main/core/kinds/os.js';
import { planRpmSet, type RpmPlanContext } from '../../../src-main/core/kinds/rpm/plan.js';
import { ResolvedRpmSetSchema, type ResolvedRpmSet } from '../../../src-main/core/kinds/rpm/set.js';
import { dnfDownload, lacksRpmTools, rpmUpstream, type RpmUpstream } from '../../helpers/rpm-upstream.js';

/**
 * Ferry's plan against the synthetic signed "Rocky 9" mirror, with dnf as the oracle: the set
 * `dnf install --downloadonly` fetches into a bare installroot (gpgcheck=1, repo_gpgcheck=1)
 * is exactly the set Ferry plans, on both architectures; tampering is refused by name.
 */
describe.skipIf(lacksRpmTools())('planning Rocky 9 packages from a signed mirror, dnf as oracle', () => {
  let up: RpmUpstream;
  let tmp: string;
  let client: HttpClient;
  let planned: ResolvedRpmSet;
  const rocky = osModel('rocky-9');
  const roots = () => up.roots.map((name) => ({ name, why: 'test root' }));

  const ctx = (extra: Partial<RpmPlanContext> = {}): RpmPlanContext => ({
    client,
    cacheDir: fs.mkdtempSync(path.join(tmp, 'cache-')),
    keys: { 'rocky-9': [fs.readFileSync(up.keyFile)] },
    ...extra,
  });

  beforeAll(async () => {
    up = await rpmUpstream();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpm-plan-upstream-'));
    client = new HttpClient({ retry: { attempts: 1 } });
    planned = (
      await planRpmSet(
        { os: rocky, arches: ['amd64', 'arm64'], roots: roots(), repos: { root: `${up.url}/9` } },
        ctx(),
      )
    ).set;
  }, 240_000);

  afterAll(async () => {
    await client?.close();
    await up?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const [ferryArch, arch] of [
    ['amd64', 'x86_64'],
    ['arm64', 'aarch64'],
  ] as const) {
    it(`equals dnf's --downloadonly set on ${arch}`, async () => {
      const oracle = await dnfDownload({ repos: up.dnfRepos(arch), packages: up.roots, arch });
      const ours = planned.packages
        .filter((p) => p.repoArch === arch)
        .map((p) => path.posix.basename(p.location))
        .sort();
      expect(ours).toEqual(oracle.files);
      expect(ours.length).toBeGreaterThan(5);
      void ferryArch;
    }, 120_000);
  }

  it('records every package with its repository, checksum and why, and the sources as verified', () => {
    expect(ResolvedRpmSetSchema.parse(planned)).toEqual(planned);
    expect(planned.arches).toEqual(['x86_64', 'aarch64']);
    expect(planned.sources.map((s) => `${s.id} ${s.arch} ${s.repomdSigned}`)).toEqual([
      'baseos x86_64 true',
      'appstream x86_64 true',
      'baseos aarch64 true',
      'appstream aarch64 true',
    ]);
    for (const s of planned.sources)
      expect(s.uri).toBe(`${up.url}/9/${s.id === 'baseos' ? 'BaseOS' : 'AppStream'}/${s.arch}/os`);
    for (const p of planned.packages) {
      expect(p.why).not.toBe('');
      expect(
        fs.existsSync(
          path.join(
            up.root,
            '9',
            p.source === 'baseos' ? 'BaseOS' : 'AppStream',
            p.repoArch,
            'os',
            p.location,
          ),
        ),
      ).toBe(true);
    }
    // The modular package is marked, and its stream's modulemd (with its defaults) is carried.
    const mod = planned.packages.filter((p) => p.modular);
    expect(mod.map((p) => p.name)).toContain('ferry-modpkg');
    expect(planned.modules).toMatch(/document: modulemd\n/);
    expect(planned.modules).toMatch(/document: modulemd-defaults/);
    expect(planned.packages.some((p) => p.arch === 'i686')).toBe(false);
    // The key that verified the repositories is carried for the nodes, with what it signs.
    expect(planned.keys).toEqual([
      {
        file: 'RPM-GPG-KEY-rocky-9-given',
        armored: expect.stringMatching(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/),
        fingerprints: [up.keyFingerprint],
        sources: ['baseos', 'appstream'],
      },
    ]);
  });

  it('refuses a tampered repomd.xml, naming the repository and the file', async () => {
    up.tamper('repomd');
    try {
      await expect(
        planRpmSet({ os: rocky, arches: ['amd64'], roots: roots(), repos: { root: `${up.url}/9` } }, ctx()),
      ).rejects.toMatchObject({
        code: 'SIGNATURE',
        artifact: 'rocky-9 baseos x86_64 repodata/repomd.xml',
      });
    } finally {
      up.untamper();
    }
  });

  it('refuses a tampered primary, naming it and the repository', async () => {
    const p = up.tamper('primary');
    try {
      await expect(
        planRpmSet({ os: rocky, arches: ['amd64'], roots: roots(), repos: { root: `${up.url}/9` } }, ctx()),
      ).rejects.toMatchObject({
        code: 'CHECKSUM',
        artifact: expect.stringMatching(
          new RegExp(`^rocky-9 baseos x86_64 repodata/.*${path.posix.basename(p)}$`),
        ),
      });
    } finally {
      up.untamper();
    }
  });

  it('the public default root through a mirror: the pinned Rocky key is fetched and a different one refused', async () => {
    // The mirror stands in for dl.rockylinux.org; it serves the test key where Rocky's is published.
    up.server.overrides.set('/RPM-GPG-KEY-Rocky-9', fs.readFileSync(up.keyFile));
    try {
      await expect(
        planRpmSet(
          { os: rocky, arches: ['amd64'], roots: roots() },
          ctx({ keys: {}, mirrors: { 'https://dl.rockylinux.org/pub/rocky/': `${up.url}/` } }),
        ),
      ).rejects.toMatchObject({
        code: 'SIGNATURE',
        artifact: 'https://dl.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-9',
        message: expect.stringContaining('21CB256AE16FC54C6E652949702D426D350D275D'),
      });
    } finally {
      up.untamper();
    }
  });

  it('a pinned key that cannot be fetched names the key and the --rpm-key to use instead', async () => {
    await expect(
      planRpmSet(
        { os: rocky, arches: ['amd64'], roots: roots() },
        ctx({ keys: {}, mirrors: { 'https://dl.rockylinux.org/pub/rocky/': `${up.url}/` } }),
      ),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
      artifact: 'https://dl.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-9',
      hint: expect.stringContaining(
        '--rpm-key rocky-9=FILE (/etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-9 on a node)',
      ),
    });
  });

  it('a requirement the repositories lack names the package and the requirement', async () => {
    // AppStream replaced by BaseOS: what only AppStream provides is missing.
    type Refusal = {
      code: string;
      message: string;
      details: { problems: { package: string; requirement: string }[] };
    };
    let err: Refusal | undefined;
    try {
      await planRpmSet(
        {
          os: rocky,
          arches: ['amd64'],
          roots: roots(),
          repos: { root: `${up.url}/9`, repos: { appstream: `${up.url}/9/BaseOS/$basearch/os` } },
        },
        ctx(),
      );
    } catch (e) {
      err = e as Refusal;
    }
    if (!err) throw new Error('planning succeeded without AppStream');
    expect(err).toMatchObject({ code: 'NOT_FOUND' });
    expect(err.details.problems.length).toBeGreaterThan(0);
    for (const p of err.details.problems) {
      expect(p.package).not.toBe('');
      expect(p.requirement).not.toBe('');
      expect(err.message).toContain(p.requirement);
    }
  });
});
