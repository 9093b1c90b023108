import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRepoKey, repoSigner, type RepoSigner } from '../../../src-main/core/bundle/keys/repo-key.js';
import { parseManifest } from '../../../src-main/core/bundle/manifest.js';
import { verifyBundle } from '../../../src-main/core/bundle/verify/index.js';
import { aptPrestep } from '../../../src-main/core/kinds/deb/vars.js';
import { rpmArtifactId } from '../../../src-main/core/kinds/rpm/fetch.js';
import { readRpmHeader } from '../../../src-main/core/kinds/rpm/header.js';
import type { ResolvedRpm, ResolvedRpmSet } from '../../../src-main/core/kinds/rpm/set.js';
import { rpmReposOf, rpmVars } from '../../../src-main/core/kinds/rpm/vars.js';
import type { Plan } from '../../../src-main/core/plan/plan.js';
import { OfflineServer } from '../../../src-main/core/serve/server.js';
import { ensureServerCert } from '../../../src-main/core/serve/tls/ca.js';
import { openVerifiedBundle } from '../../../src-main/core/serve/verified-source.js';
import {
  dnfDownload,
  dnfRepoclosure,
  lacksRpmTools,
  realUnresolved,
  rpmUpstream,
  UPSTREAM_ARCHES,
  type DnfRepo,
  type RpmUpstream,
  type UpstreamArch,
} from '../../helpers/rpm-upstream.js';
import { lacks } from '../../helpers/tools.js';
import { runFetch } from '../fetch/helpers.js';

/**
 * RHEL-family packages end to end on loopback: the set dnf itself picks from the synthetic signed
 * "Rocky 9" upstream (both architectures) is fetched by Ferry into a bundle, verified, served by
 * ferry serve's file server, and dnf installs it from there with gpgcheck=1 (the distribution's
 * package signatures, the key Ferry carried) and repo_gpgcheck=1 (Ferry's signed repomd.xml):
 * the same set, repoclosure clean. Then what must fail does: a tampered upstream package, a
 * package signed by a key the plan does not carry, a damaged .rpm in the bundle.
 * (The set is built from the dnf oracle here; plan.ts's own resolution is tested beside it.)
 */

const OS_ID = 'rocky-9';

/** Asynchronous: the servers the command talks to live in this process. */
function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A ResolvedRpmSet for the files dnf chose from the upstream, per architecture. */
async function setFromDnf(up: RpmUpstream, keyArmored: string, fingerprint: string): Promise<ResolvedRpmSet> {
  const packages: ResolvedRpm[] = [];
  const sources: ResolvedRpmSet['sources'] = [];
  for (const arch of UPSTREAM_ARCHES) {
    const chosen = new Set((await dnfDownload({ repos: up.dnfRepos(arch), packages: up.roots, arch })).files);
    for (const repo of ['BaseOS', 'AppStream'] as const) {
      const base = up.repoUrl(repo, arch);
      sources.push({ id: repo.toLowerCase(), uri: base, arch, repomdSigned: true });
      for (const file of up.rpmFiles(repo, arch)) {
        if (!chosen.has(path.basename(file))) continue;
        const h = await readRpmHeader(file);
        const bytes = fs.readFileSync(file);
        packages.push({
          name: h.name,
          epoch: h.epoch ?? 0,
          version: h.version,
          release: h.release,
          arch: h.arch,
          source: repo.toLowerCase(),
          repoArch: arch,
          location: path
            .relative(path.join(up.root, '9', repo, arch, 'os'), file)
            .split(path.sep)
            .join('/'),
          sha256: sha256(bytes),
          size: bytes.length,
          ...(h.modularityLabel ? { modular: true } : {}),
          why: 'dnf oracle',
        });
        chosen.delete(path.basename(file));
      }
    }
    expect([...chosen], `dnf chose files the fixture does not list (${arch})`).toEqual([]);
  }
  return {
    os: OS_ID,
    arches: [...UPSTREAM_ARCHES],
    sources,
    roots: up.roots.map((name) => ({ name, why: 'test' })),
    packages,
    keys: [{ file: 'RPM-GPG-KEY-Rocky-9-test', armored: keyArmored, fingerprints: [fingerprint] }],
  };
}

const planOf = (set: ResolvedRpmSet): Plan =>
  ({
    kubespray: 'v2.31.0',
    kubeVersion: '1.34.0',
    arches: ['amd64', 'arm64'],
    files: [],
    images: [],
    vars: {},
    rpms: [set],
  }) as unknown as Plan;

describe.skipIf(lacksRpmTools())('RPM packages fetched, bundled, served, and installed by dnf', () => {
  let up: RpmUpstream;
  let tmp: string;
  let signer: RepoSigner;
  let set: ResolvedRpmSet;
  let bundle: string;
  let server: OfflineServer;
  let served: string;
  const oracle = new Map<UpstreamArch, string[]>();

  const ferryRepo = (arch: string, o: Partial<DnfRepo> = {}): DnfRepo => ({
    id: 'ferry',
    baseurl: `${served}/${arch}`,
    gpgkey: `${served}/RPM-GPG-KEY-Rocky-9-test ${served}/RPM-GPG-KEY-ferry`,
    gpgcheck: true,
    repo_gpgcheck: true,
    module_hotfixes: true,
    ...o,
  });

  beforeAll(async () => {
    up = await rpmUpstream();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-rpm-carry-'));
    await generateRepoKey(path.join(tmp, 'keys'));
    signer = (await repoSigner(path.join(tmp, 'keys')))!;
    set = await setFromDnf(up, fs.readFileSync(up.keyFile, 'utf8'), up.keyFingerprint);
    for (const arch of UPSTREAM_ARCHES)
      oracle.set(arch, (await dnfDownload({ repos: up.dnfRepos(arch), packages: up.roots, arch })).files);
    bundle = path.join(tmp, 'bundle');
    await runFetch(planOf(set), { out: bundle, repoSigner: signer });
    const v = await openVerifiedBundle(bundle, { allowUnsigned: true });
    server = await OfflineServer.start({
      sources: [v.source],
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
    });
    served = `${server.filesUrl.replace(/\/+$/, '')}/repos/${OS_ID}`;
  }, 600_000);

  afterAll(async () => {
    await server?.stop();
    await up?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('lays the bundle out as one repository per architecture, the .rpm files byte-identical to upstream', async () => {
    const m = parseManifest(fs.readFileSync(path.join(bundle, 'manifest.json')));
    const rpms = m.artifacts.filter((a) => a.kind === 'rpm');
    expect(rpms).toHaveLength(set.packages.length);
    for (const p of set.packages) {
      const a = rpms.find((x) => x.id === rpmArtifactId(OS_ID, p));
      expect(a, `${p.name} ${p.repoArch}`).toBeDefined();
      const file = path.join(bundle, ...a!.paths[0].split('/'));
      expect(sha256(fs.readFileSync(file))).toBe(p.sha256);
      expect(a!.paths[0]).toMatch(
        new RegExp(`^repos/${OS_ID}/(x86_64|aarch64)/Packages/[a-z0-9]/[^/]+\\.rpm$`),
      );
    }
    // A noarch package both architectures list is stored once.
    const noarch = rpms.filter(
      (a) => a.kind === 'rpm' && a.arch === 'noarch' && a.package === 'ferry-provider',
    );
    expect(noarch).toHaveLength(2);
    expect(new Set(noarch.map((a) => a.paths[0])).size).toBe(1);
    const repo = m.artifacts.find((a) => a.kind === 'repo' && a.format === 'rpm');
    expect(repo?.paths).toEqual(
      expect.arrayContaining([
        `repos/${OS_ID}/x86_64/repodata/repomd.xml`,
        `repos/${OS_ID}/x86_64/repodata/repomd.xml.asc`,
        `repos/${OS_ID}/aarch64/repodata/repomd.xml`,
        `repos/${OS_ID}/RPM-GPG-KEY-Rocky-9-test`,
        `repos/${OS_ID}/RPM-GPG-KEY-ferry`,
        'repos/ferry-apt-prestep.yml',
      ]),
    );
    const r = await verifyBundle(bundle, { allowUnsigned: true });
    expect(r.ok, JSON.stringify(r.artifacts.filter((a) => a.status !== 'ok'))).toBe(true);
  });

  for (const arch of UPSTREAM_ARCHES) {
    it(`dnf resolves the same set from Ferry’s served repository with gpgcheck=1 and repo_gpgcheck=1 (${arch})`, async () => {
      const r = await dnfDownload({ repos: [ferryRepo(arch)], packages: up.roots, arch });
      expect(r.files).toEqual(oracle.get(arch));
    });

    it(`dnf repoclosure over Ferry’s repository is clean (${arch})`, async () => {
      const r = await dnfRepoclosure({ repos: [ferryRepo(arch)], arch });
      expect([...realUnresolved(r.unresolved)], r.stdout + r.stderr).toEqual([]);
    });
  }

  it('dnf installs for real from Ferry’s repository, checking every package signature', async () => {
    const r = await dnfDownload({
      repos: [ferryRepo('x86_64')],
      packages: up.roots,
      arch: 'x86_64',
      install: true,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.files).toEqual(oracle.get('x86_64'));
  });

  it('dnf refuses Ferry’s repository without Ferry’s key: repo_gpgcheck really checks repomd.xml.asc', async () => {
    const r = await dnfDownload({
      repos: [ferryRepo('x86_64', { gpgkey: `${served}/RPM-GPG-KEY-Rocky-9-test` })],
      packages: up.roots,
      arch: 'x86_64',
      allowFailure: true,
    });
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/repomd|signature|GPG|key/i);
  });

  it('ferry vars point yum_repo and the pre-step at the served repository and its keys', async () => {
    const v = await openVerifiedBundle(bundle, { allowUnsigned: true });
    const vars = rpmVars(server.filesUrl, rpmReposOf(v.source));
    expect(vars.yum_repo).toBe(served);
    expect((vars.ferry_rpm_keys as Array<{ file: string }>).map((k) => k.file)).toEqual([
      'RPM-GPG-KEY-Rocky-9-test',
      'RPM-GPG-KEY-ferry',
    ]);
    // `ferry vars --os-prestep` / `--os-prestep-shell rocky-9` (and the app) on an RPM-only bundle.
    const pre = await aptPrestep(v.source, server.filesUrl);
    expect(pre?.playbook).toBe(fs.readFileSync(path.join(bundle, 'repos/ferry-apt-prestep.yml'), 'utf8'));
    expect(pre?.command).toMatch(/ferry_rpm_\*/);
    expect(pre?.shell.map((x) => x.os)).toEqual([OS_ID]);
    expect(pre?.shell[0].text).toContain(`baseurl=${served}/$basearch`);
    expect(pre?.shell[0].text).toContain(
      `echo '${fs.readFileSync(path.join(bundle, 'repos', OS_ID, 'RPM-GPG-KEY-ferry')).toString('base64')}' | base64 -d`,
    );
  });

  it.skipIf(lacks('ansible-playbook'))(
    'the bundle’s pre-step playbook points a node’s dnf at Ferry, and dnf installs from there with both checks on',
    async () => {
      // A "node": an installroot whose distribution .repo points at a mirror that is unreachable offline.
      const node = path.join(tmp, 'node');
      fs.mkdirSync(path.join(node, 'etc/yum.repos.d'), { recursive: true });
      fs.writeFileSync(
        path.join(node, 'etc/yum.repos.d/rocky.repo'),
        '[baseos]\nname=Rocky Linux 9 - BaseOS\nbaseurl=http://127.0.0.1:9/pub/rocky/9/BaseOS/$basearch/os/\ngpgcheck=1\nenabled=1\nskip_if_unavailable=0\n',
      );
      const dnfArgs = [
        `--installroot=${node}`,
        '--releasever=9',
        '--forcearch=x86_64',
        `--setopt=reposdir=${node}/etc/yum.repos.d`,
        `--setopt=cachedir=${path.join(tmp, 'node-cache')}`,
        `--setopt=logdir=${path.join(tmp, 'node-log')}`,
        '--setopt=module_platform_id=platform:el9',
        '--noplugins',
      ];
      fs.mkdirSync(path.join(tmp, 'node-log'), { recursive: true });
      const offline = await run('dnf', ['-y', ...dnfArgs, 'makecache']);
      expect(offline.code, 'offline, the distribution repo fails').not.toBe(0);
      expect(offline.out).toMatch(/baseos/i);
      const v = await openVerifiedBundle(bundle, { allowUnsigned: true });
      const varsFile = path.join(tmp, 'node-vars.json');
      // The bundle's own pre-step playbook, as a technician runs it, against the installroot node.
      const playPrestep = () =>
        run(
          'ansible-playbook',
          [
            '-i',
            'localhost,',
            '-c',
            'local',
            '-e',
            `@${varsFile}`,
            path.join(bundle, 'repos/ferry-apt-prestep.yml'),
          ],
          { ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCAL_TEMP: path.join(tmp, 'ansible-tmp') },
        );
      fs.writeFileSync(
        varsFile,
        JSON.stringify({
          ...rpmVars(server.filesUrl, rpmReposOf(v.source)),
          ferry_rpm_hosts: 'all',
          ferry_rpm_root: node,
          ferry_dnf: `dnf ${dnfArgs.join(' ')}`,
          ansible_python_interpreter: '/usr/bin/python3',
        }),
      );
      const pb = await playPrestep();
      expect(pb.code, pb.out).toBe(0);
      expect(fs.readdirSync(path.join(node, 'etc/yum.repos.d')).sort()).toEqual([
        'ferry.repo',
        'rocky.repo.ferry.disabled',
      ]);
      const inst = await run('dnf', ['-y', ...dnfArgs, 'install', ...up.roots]);
      expect(inst.code, inst.out).toBe(0);
      const q = await run('rpm', [
        '--root',
        node,
        '-qa',
        '--qf',
        '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}.rpm\n',
      ]);
      expect(
        q.out
          .split('\n')
          .filter((l) => l && !l.startsWith('gpg-pubkey-'))
          .sort(),
      ).toEqual(oracle.get('x86_64'));

      // Over TLS: the playbook gives dnf Ferry's CA (sslcacert) and fetches the keys over https.
      const tls = await ensureServerCert(path.join(tmp, 'tls'), ['127.0.0.1']);
      const https = await OfflineServer.start({
        sources: [v.source],
        listen: '127.0.0.1',
        filesPort: 0,
        registryPort: 0,
        tls,
      });
      try {
        expect(https.filesUrl).toMatch(/^https:/);
        fs.rmSync(path.join(node, 'etc/pki/rpm-gpg/ferry'), { recursive: true });
        fs.writeFileSync(
          varsFile,
          JSON.stringify({
            ...JSON.parse(fs.readFileSync(varsFile, 'utf8')),
            ...rpmVars(https.filesUrl, rpmReposOf(v.source)),
            ferry_ca_certificate: tls.ca,
          }),
        );
        const pbTls = await playPrestep();
        expect(pbTls.code, pbTls.out).toBe(0);
        const repoFile = fs.readFileSync(path.join(node, 'etc/yum.repos.d/ferry.repo'), 'utf8');
        expect(repoFile).toContain(`baseurl=${https.filesUrl.replace(/\/+$/, '')}/repos/${OS_ID}/$basearch`);
        expect(repoFile).toContain(`sslcacert=${node}/etc/pki/ferry/ferry-ca.crt`);
        fs.rmSync(path.join(tmp, 'node-cache'), { recursive: true, force: true });
        const re = await run('dnf', ['-y', ...dnfArgs, 'reinstall', 'ferry-core']);
        expect(re.code, re.out).toBe(0);
        expect(re.out).toMatch(/Reinstalled|Complete/);
      } finally {
        await https.stop();
      }
    },
    300_000,
  );

  it('carries the modular streams’ modules.yaml: dnf without module_hotfixes still installs the modular package', async () => {
    const repodata = path.join(up.root, '9', 'AppStream', 'x86_64', 'os', 'repodata');
    const xz = fs.readdirSync(repodata).find((f) => /-modules\.yaml\.xz$/.test(f))!;
    const yaml = execFileSync('xz', ['-dc', path.join(repodata, xz)], { encoding: 'utf8' });
    expect(yaml).toMatch(/document: modulemd\b/);
    const out = path.join(tmp, 'modules');
    await runFetch(planOf({ ...set, modules: yaml }), { out, repoSigner: signer });
    const m = parseManifest(fs.readFileSync(path.join(out, 'manifest.json')));
    const repo = m.artifacts.find((a) => a.kind === 'repo' && a.format === 'rpm')!;
    expect(repo.paths.filter((p) => /\/repodata\/[0-9a-f]{64}-modules\.yaml\.gz$/.test(p))).toHaveLength(2);
    const v = await openVerifiedBundle(out, { allowUnsigned: true });
    const s2 = await OfflineServer.start({
      sources: [v.source],
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
    });
    try {
      const base = `${s2.filesUrl.replace(/\/+$/, '')}/repos/${OS_ID}`;
      const r = await dnfDownload({
        repos: [
          {
            id: 'ferry',
            baseurl: `${base}/x86_64`,
            gpgkey: `${base}/RPM-GPG-KEY-Rocky-9-test ${base}/RPM-GPG-KEY-ferry`,
            gpgcheck: true,
            repo_gpgcheck: true,
          },
        ],
        packages: up.roots,
        arch: 'x86_64',
      });
      expect(r.files).toEqual(oracle.get('x86_64'));
      expect(r.files.some((f) => f.startsWith('ferry-modpkg-1.4-'))).toBe(true);
      // dnf read the carried module metadata: the module and its default stream are there.
      const w = path.join(tmp, 'modlist');
      fs.mkdirSync(path.join(w, 'repos.d'), { recursive: true });
      fs.mkdirSync(path.join(w, 'log'), { recursive: true });
      fs.writeFileSync(
        path.join(w, 'repos.d', 'ferry.repo'),
        `[ferry]\nname=ferry\nbaseurl=${base}/x86_64\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=${base}/RPM-GPG-KEY-ferry\nenabled=1\n`,
      );
      const list = await run('dnf', [
        '-y',
        `--installroot=${path.join(w, 'root')}`,
        '--releasever=9',
        '--forcearch=x86_64',
        `--setopt=reposdir=${path.join(w, 'repos.d')}`,
        `--setopt=cachedir=${path.join(w, 'cache')}`,
        `--setopt=logdir=${path.join(w, 'log')}`,
        '--setopt=module_platform_id=platform:el9',
        '--noplugins',
        'module',
        'list',
      ]);
      expect(list.code, list.out).toBe(0);
      expect(list.out).toMatch(/ferry-mod\s+1 \[d\]/);
    } finally {
      await s2.stop();
    }
  });

  it('downloads through a mirror, recording upstream’s URLs; a replan without a package drops it', async () => {
    const upstream = 'https://dl.rockylinux.org/pub/rocky';
    const viaMirror: ResolvedRpmSet = {
      ...set,
      sources: set.sources.map((s) => ({ ...s, uri: s.uri.replace(up.url, upstream) })),
    };
    const out = path.join(tmp, 'mirror');
    await runFetch(planOf(viaMirror), {
      out,
      repoSigner: signer,
      mirrors: { [`${upstream}/`]: `${up.url}/` },
    });
    let m = parseManifest(fs.readFileSync(path.join(out, 'manifest.json')));
    const core = m.artifacts.find(
      (a) => a.kind === 'rpm' && a.package === 'ferry-core' && a.repoArch === 'x86_64',
    );
    expect(core?.kind === 'rpm' && core.url).toBe(
      `${upstream}/9/BaseOS/x86_64/os/Packages/f/ferry-core-1.0-1.el9.x86_64.rpm`,
    );
    const fewer = { ...viaMirror, packages: viaMirror.packages.filter((p) => p.name !== 'ferry-docs') };
    await runFetch(planOf(fewer), { out, repoSigner: signer, mirrors: { [`${upstream}/`]: `${up.url}/` } });
    m = parseManifest(fs.readFileSync(path.join(out, 'manifest.json')));
    expect(m.artifacts.filter((a) => a.kind === 'rpm' && a.package === 'ferry-docs')).toEqual([]);
    expect(m.files.filter((f) => f.path.includes('ferry-docs'))).toEqual([]);
    expect(m.artifacts.filter((a) => a.kind === 'rpm')).toHaveLength(fewer.packages.length);
    expect((await verifyBundle(out, { allowUnsigned: true })).ok).toBe(true);
  });

  it('a second fetch finds every package present and downloads nothing', async () => {
    const before = up.server.requests.length;
    await runFetch(planOf(set), { out: bundle, repoSigner: signer });
    expect(up.server.requests.slice(before).filter((p) => p.endsWith('.rpm'))).toEqual([]);
    const r = await verifyBundle(bundle, { allowUnsigned: true });
    expect(r.ok).toBe(true);
  });

  it('a package gone from a copy of the bundle is fetched again, alone', async () => {
    const copy = path.join(tmp, 'resume');
    fs.cpSync(bundle, copy, { recursive: true });
    const m = parseManifest(fs.readFileSync(path.join(copy, 'manifest.json')));
    const gone = m.artifacts.find(
      (a) => a.kind === 'rpm' && a.package === 'ferry-tool' && a.repoArch === 'aarch64',
    )!;
    fs.rmSync(path.join(copy, ...gone.paths[0].split('/')));
    const before = up.server.requests.length;
    await runFetch(planOf(set), { out: copy, repoSigner: signer });
    expect(up.server.requests.slice(before).filter((p) => p.endsWith('.rpm'))).toEqual([
      '/9/BaseOS/aarch64/os/Packages/f/ferry-tool-1.0-1.el9.aarch64.rpm',
    ]);
    expect((await verifyBundle(copy, { allowUnsigned: true })).ok).toBe(true);
  });

  it('refuses a tampered upstream package, naming it', async () => {
    const p = up.tamper('package');
    try {
      const out = path.join(tmp, 'tampered');
      const err = await runFetch(planOf(set), { out, repoSigner: signer }).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string; artifact?: string },
      );
      expect(err, 'the fetch must fail').toBeDefined();
      expect(err!.message).toMatch(/ferry-core-1\.0-1\.el9\.x86_64/);
      expect(err!.message).toMatch(/SHA256|sha256|checksum/i);
      expect(`${err!.artifact}`).toContain(path.basename(p));
    } finally {
      up.untamper();
    }
  });

  it('refuses a package signed by a key the plan does not carry, naming the package and the key', async () => {
    const { publicKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'ed25519Legacy',
      userIDs: [{ name: 'other distribution' }],
      format: 'object',
    });
    const other = { ...set, keys: [{ file: 'RPM-GPG-KEY-other', armored: publicKey.armor() }] };
    const err = await runFetch(planOf(other), { out: path.join(tmp, 'other-key'), repoSigner: signer }).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(err, 'the fetch must fail').toBeDefined();
    expect(err!.code).toBe('INTEGRITY');
    expect(err!.message).toMatch(
      /ferry-[a-z-]+-[\d.^~]+-[^ ]+\.(x86_64|aarch64|noarch) \(rocky-9\) is signed by key [0-9A-F]{16,40}, which is not among the keys carried for rocky-9 \(RPM-GPG-KEY-other\)/,
    );
  });

  it('refuses a package whose signed header was altered, though primary’s sha256 matches it', async () => {
    // A mirror that rewrote a package and the checksum beside it: only the signature can tell.
    const file = up.rpmFiles('BaseOS', 'x86_64').find((f) => /ferry-core-/.test(f))!;
    const h = await readRpmHeader(file);
    const bytes = Buffer.from(fs.readFileSync(file));
    const at = bytes.indexOf(Buffer.from(h.summary), h.headerRange.start);
    expect(at).toBeGreaterThan(h.headerRange.start);
    bytes[at] ^= 0x20; // the summary's first letter, other case: still a well-formed header
    expect((await readRpmHeader(Readable.from([bytes]))).summary).not.toBe(h.summary);
    const urlPath = `/${path.relative(up.root, file).split(path.sep).join('/')}`;
    up.server.overrides.set(urlPath, bytes);
    try {
      const altered = {
        ...set,
        packages: set.packages.map((p) =>
          p.name === 'ferry-core' && p.repoArch === 'x86_64'
            ? { ...p, sha256: sha256(bytes), size: bytes.length }
            : p,
        ),
      };
      const err = await runFetch(planOf(altered), {
        out: path.join(tmp, 'altered'),
        repoSigner: signer,
      }).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string },
      );
      expect(err, 'the fetch must fail').toBeDefined();
      expect(err!.code).toBe('INTEGRITY');
      expect(err!.message).toMatch(
        /ferry-core-1\.0-1\.el9\.x86_64 \(rocky-9\): its header signature by RPM-GPG-KEY-Rocky-9-test does not verify/,
      );
    } finally {
      up.untamper();
    }
  });

  it('refuses a package signed by a key the plan carries for another repository only', async () => {
    const scoped = { ...set, keys: set.keys!.map((k) => ({ ...k, sources: ['appstream'] })) };
    const err = await runFetch(planOf(scoped), {
      out: path.join(tmp, 'scoped-key'),
      repoSigner: signer,
    }).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(err, 'the fetch must fail').toBeDefined();
    expect(err!.code).toBe('INTEGRITY');
    expect(err!.message).toMatch(
      /\(rocky-9\) comes from baseos but is signed by RPM-GPG-KEY-Rocky-9-test, which the plan carries for appstream only/,
    );
  });

  it('ferry verify finds a damaged .rpm in the bundle and names the package', async () => {
    const copy = path.join(tmp, 'damaged');
    fs.cpSync(bundle, copy, { recursive: true });
    const m = parseManifest(fs.readFileSync(path.join(copy, 'manifest.json')));
    const victim = m.artifacts.find(
      (a) => a.kind === 'rpm' && a.package === 'ferry-core' && a.arch === 'x86_64',
    )!;
    const file = path.join(copy, ...victim.paths[0].split('/'));
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 8] ^= 0xff;
    fs.writeFileSync(file, bytes);
    const r = await verifyBundle(copy, { allowUnsigned: true });
    expect(r.ok).toBe(false);
    const bad = r.artifacts.filter((a) => a.status !== 'ok');
    expect(bad.map((a) => [a.kind, a.name, a.status])).toEqual([
      ['rpm', 'ferry-core-1.0-1.el9.x86_64 (rocky-9)', 'damaged'],
    ]);
    expect(bad[0].problems[0]).toMatchObject({ path: victim.paths[0], status: 'wrong-digest' });
    expect(bad[0].hint).toMatch(/ferry export --only/);
  });
});
