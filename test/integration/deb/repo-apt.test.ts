import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/main.js';
import { generateRepoKey, repoSigner, type RepoSigner } from '../../../src-main/core/bundle/keys/repo-key.js';
import { parseManifest, type DebArtifact, type Manifest } from '../../../src-main/core/bundle/manifest.js';
import type { Plan } from '../../../src-main/core/plan/plan.js';
import type { ResolvedDebSet } from '../../../src-main/core/kinds/deb/set.js';
import { OfflineServer } from '../../../src-main/core/serve/server.js';
import { storeSources } from '../../../src-main/core/media/store/sources.js';
import { openVerifiedBundle } from '../../../src-main/core/serve/verified-source.js';
import { DEBIAN_KEYRING } from '../../helpers/apt-oracle.js';
import { aptGet, aptRootWith } from '../../helpers/apt-root.js';
import { archiveDir, bookwormArchive, bookwormUnavailable } from '../../helpers/deb-archive.js';
import { bookwormSet, ensureDeb, poolUnavailable, SMALL_ROOTS } from '../../helpers/deb-pool.js';
import { clearsign, testSigningKey } from '../../helpers/deb-sign.js';
import { startStaticServer, type StaticServer } from '../../helpers/static-server.js';
import { lacks, lacksCondition } from '../../helpers/tools.js';
import { fetchJob, itemsSeen, runFetch } from '../fetch/helpers.js';

/**
 * Ferry's apt repository, end to end with real clients: a ResolvedDebSet (the resolver over the
 * real bookworm indexes: conntrack, socat, ipvsadm, ebtables, their closure and the
 * Essential/required baseline) is fetched through Ferry's download layer from a loopback copy
 * of deb.debian.org (real .debs, via --mirror), written as a signed repository, served by
 * `ferry serve`'s file server from the verified bundle, and used by apt-get in a throw-away root
 * that trusts only Ferry's keyring.
 */

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

function planWith(debs: ResolvedDebSet[]): Plan {
  return {
    kubespray: 'v2.31.0',
    kubeVersion: '1.34.0',
    arches: ['amd64'],
    files: [],
    images: [],
    vars: {},
    debs,
  } as Plan;
}

async function ferry(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (out += c));
  const code = await runCli(args, { stdout, stderr, env, signal: new AbortController().signal });
  return { code, out };
}

const unavailable = (() => {
  try {
    return bookwormUnavailable();
  } catch (err) {
    return String(err);
  }
})();

describe.skipIf(
  lacks('apt-get', 'lz4', 'gpgv', 'dose-debcheck', 'curl') ||
    lacksCondition(!!unavailable, unavailable ?? '') ||
    lacksCondition(!fs.existsSync(DEBIAN_KEYRING), DEBIAN_KEYRING),
)('Ferry’s apt repository against apt-get, gpgv and dose-debcheck', () => {
  let tmp: string;
  let set: ResolvedDebSet;
  let upstream: StaticServer;
  let signer: RepoSigner;
  let bundle: string;
  let manifest: Manifest;
  let server: OfflineServer;
  let repoUrl: string;
  const os12 = 'debian-12';

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-deb-repo-'));
    bookwormArchive();
    ({ set } = await bookwormSet());
    const recs = (await bookwormSet()).records;
    const why = poolUnavailable(recs);
    if (lacksCondition(!!why, why ?? '')) throw new Error(why);
    for (const r of recs) ensureDeb(r);
    upstream = await startStaticServer(archiveDir);
    await generateRepoKey(path.join(tmp, 'keys'), { name: 'ferry test' });
    signer = (await repoSigner(path.join(tmp, 'keys')))!;
    bundle = path.join(tmp, 'bundle');
    await runFetch(planWith([set]), {
      out: bundle,
      mirrors: { 'https://deb.debian.org/': `${upstream.url}/` },
      repoSigner: signer,
    });
    manifest = parseManifest(fs.readFileSync(path.join(bundle, 'manifest.json')));
    const v = await openVerifiedBundle(bundle, { allowUnsigned: true });
    server = await OfflineServer.start({
      sources: [v.source],
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
    });
    repoUrl = `${server.filesUrl.replace(/\/+$/, '')}/repos/${os12}`;
  }, 600_000);

  afterAll(async () => {
    await server?.stop();
    await upstream?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('holds every package of the set as a deb artifact, byte-identical to upstream, and one repo artifact', () => {
    const debs = manifest.artifacts.filter((a): a is DebArtifact => a.kind === 'deb');
    expect(debs.length).toBe(set.packages.length);
    expect(set.packages.length).toBeGreaterThan(100);
    const files = new Map(manifest.files.map((f) => [f.path, f]));
    for (const p of set.packages) {
      const a = debs.find((d) => d.id === `deb:${os12}/${p.package}_${p.version}_${p.arch}`);
      expect(a, p.package).toBeDefined();
      expect(a!.paths).toEqual([`repos/${os12}/${p.filename}`]);
      expect(files.get(a!.paths[0])?.sha256).toBe(p.sha256);
      expect(a!.url).toBe(`${p.uri}/${p.filename}`);
    }
    // Upstream's exact bytes: the bundle's copy equals the cached archive's file.
    const one = set.packages.find((p) => p.package === 'conntrack')!;
    expect(sha256(fs.readFileSync(path.join(bundle, 'repos', os12, one.filename)))).toBe(
      sha256(fs.readFileSync(path.join(archiveDir, 'debian', one.filename))),
    );
    const repo = manifest.artifacts.find((a) => a.id === `repo:apt/${os12}`);
    expect(repo).toMatchObject({ kind: 'repo', format: 'apt', os: os12 });
    expect(repo!.paths).toEqual(
      expect.arrayContaining([
        `repos/${os12}/dists/bookworm/InRelease`,
        `repos/${os12}/dists/bookworm/main/binary-amd64/Packages.gz`,
        `repos/${os12}/ferry.gpg`,
        `repos/${os12}/ferry.asc`,
      ]),
    );
    expect(manifest.version).toBe(2);
  });

  it('signs a Release without Valid-Until that gpgv accepts with Ferry’s keyring only', () => {
    const dists = path.join(bundle, 'repos', os12, 'dists', 'bookworm');
    const release = fs.readFileSync(path.join(dists, 'Release'), 'utf8');
    expect(release).not.toMatch(/Valid-Until/);
    expect(release).toMatch(/^MD5Sum:$/m);
    expect(release).toMatch(/^SHA256:$/m);
    // Every index is listed with its real hash and size.
    for (const rel of ['main/binary-amd64/Packages', 'main/binary-amd64/Packages.gz']) {
      const b = fs.readFileSync(path.join(dists, rel));
      expect(release).toContain(` ${sha256(b)} ${String(b.length).padStart(16)} ${rel}`);
    }
    const r = spawnSync(
      'gpgv',
      ['--keyring', path.join(bundle, 'repos', os12, 'ferry.gpg'), path.join(dists, 'InRelease')],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toMatch(/Good signature/);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(signer.fingerprint.slice(-16));
  });

  it('apt-get update and -s install of the roots succeed against the served repository', async () => {
    const root = path.join(tmp, 'apt1');
    const opts = aptRootWith(root, [
      `deb [signed-by=${path.join(bundle, 'repos', os12, 'ferry.gpg')}] ${repoUrl} bookworm main`,
    ]);
    const up = await aptGet(opts, ['-q', 'update']);
    expect(up.out).not.toMatch(/^(W|E|Err):/m);
    expect(up.code).toBe(0);
    const sim = await aptGet(opts, ['-s', '-q', 'install', ...SMALL_ROOTS]);
    expect(sim.code, sim.out).toBe(0);
    const inst = [...sim.out.matchAll(/^Inst (\S+) \((\S+) /gm)].map((m) => `${m[1]}=${m[2]}`);
    for (const r of SMALL_ROOTS) expect(inst.some((x) => x.startsWith(`${r}=`))).toBe(true);
    const have = new Set(set.packages.map((p) => `${p.package}=${p.version}`));
    expect(inst.filter((x) => !have.has(x))).toEqual([]);
  });

  it('apt-get install --download-only fetches every package of the set, each with its upstream hash', async () => {
    const root = path.join(tmp, 'apt2');
    const opts = aptRootWith(root, [
      `deb [signed-by=${path.join(bundle, 'repos', os12, 'ferry.gpg')}] ${repoUrl} bookworm main`,
    ]);
    expect((await aptGet(opts, ['-q', 'update'])).code).toBe(0);
    const names = [...new Set(set.packages.map((p) => p.package))];
    const dl = await aptGet(opts, ['-q', '-y', '--download-only', 'install', ...names]);
    expect(dl.code, dl.out).toBe(0);
    const archives = path.join(root, 'cache', 'archives');
    const got = new Map(
      fs
        .readdirSync(archives)
        .filter((f) => f.endsWith('.deb'))
        .map((f) => [sha256(fs.readFileSync(path.join(archives, f))), f]),
    );
    for (const p of set.packages) expect(got.has(p.sha256), `${p.package} ${p.version}`).toBe(true);
    expect(got.size).toBe(set.packages.length);
  });

  it('dose-debcheck finds every package of the bundle’s Packages installable', () => {
    const pk = path.join(bundle, 'repos', os12, 'dists', 'bookworm', 'main', 'binary-amd64', 'Packages');
    const r = spawnSync('dose-debcheck', ['--failures', '--explain', '--deb-native-arch=amd64', pk], {
      encoding: 'utf8',
    });
    expect(r.stdout).not.toMatch(/status: broken/);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    // And it would notice: without libc6 nearly everything is broken.
    const cut = fs
      .readFileSync(pk, 'utf8')
      .split('\n\n')
      .filter((s) => !/^Package: libc6$/m.test(s))
      .join('\n\n');
    fs.writeFileSync(path.join(tmp, 'Packages.cut'), cut);
    const bad = spawnSync(
      'dose-debcheck',
      ['--failures', '--explain', '--deb-native-arch=amd64', path.join(tmp, 'Packages.cut')],
      {
        encoding: 'utf8',
      },
    );
    expect(bad.stdout).toMatch(/unsat-dependency: libc6/);
  });

  it('apt refuses the repository when its InRelease is re-signed by another key', async () => {
    const copy = path.join(tmp, 'resigned');
    fs.cpSync(path.join(bundle, 'repos', os12, 'dists'), path.join(copy, 'dists'), { recursive: true });
    const release = fs.readFileSync(path.join(copy, 'dists', 'bookworm', 'Release'), 'utf8');
    const other = await testSigningKey('not Ferry');
    fs.writeFileSync(
      path.join(copy, 'dists', 'bookworm', 'InRelease'),
      await clearsign(release, other.privateKey),
    );
    const s = await startStaticServer(copy);
    try {
      const opts = aptRootWith(path.join(tmp, 'apt3'), [
        `deb [signed-by=${path.join(bundle, 'repos', os12, 'ferry.gpg')}] ${s.url} bookworm main`,
      ]);
      const up = await aptGet(opts, ['-q', 'update']);
      expect(up.out).toMatch(/NO_PUBKEY|not signed|signatures couldn't be verified/);
      const sim = await aptGet(opts, ['-s', '-q', 'install', 'conntrack']);
      expect(sim.code).not.toBe(0);
    } finally {
      await s.close();
    }
  });

  it('refuses, upstream-side, a .deb that does not match its stanza, naming the package', async () => {
    const pick = set.packages.find((p) => p.package === 'socat')!;
    const real = fs.readFileSync(path.join(archiveDir, 'debian', pick.filename));
    const bad = Buffer.from(real);
    bad[bad.length - 100] ^= 0xff;
    upstream.overrides.set(`/debian/${pick.filename}`, bad);
    const small: ResolvedDebSet = {
      ...set,
      packages: set.packages.filter((p) => ['socat', 'libc6'].includes(p.package)),
    };
    const out = path.join(tmp, 'tampered');
    try {
      await expect(
        runFetch(planWith([small]), {
          out,
          mirrors: { 'https://deb.debian.org/': `${upstream.url}/` },
          repoSigner: signer,
        }),
      ).rejects.toMatchObject({ code: 'CHECKSUM', message: expect.stringContaining('socat') });
    } finally {
      upstream.overrides.clear();
    }
    expect(fs.existsSync(path.join(out, 'repos', os12, pick.filename))).toBe(false);
    expect(fs.existsSync(path.join(out, 'manifest.json'))).toBe(false);
  });

  it('stores a file two OSes share once, and serves it in each OS’s repository', async () => {
    const twin: ResolvedDebSet = { ...set, os: 'debian-12-twin' };
    const out = path.join(tmp, 'two-os');
    await runFetch(planWith([set, twin]), {
      out,
      mirrors: { 'https://deb.debian.org/': `${upstream.url}/` },
      repoSigner: signer,
    });
    const m = parseManifest(fs.readFileSync(path.join(out, 'manifest.json')));
    const debs = m.artifacts.filter((a): a is DebArtifact => a.kind === 'deb');
    expect(debs.length).toBe(2 * set.packages.length);
    // Stored once: the twin's packages name the first OS's files, and its pool folder is empty.
    expect(
      debs
        .filter((a) => a.os === 'debian-12-twin')
        .every((a) => a.paths[0].startsWith('repos/debian-12/pool/')),
    ).toBe(true);
    expect(fs.existsSync(path.join(out, 'repos', 'debian-12-twin', 'pool'))).toBe(false);
    expect(m.files.filter((f) => f.path.endsWith('.deb')).length).toBe(set.packages.length);
    const v = await openVerifiedBundle(out, { allowUnsigned: true });
    const s2 = await OfflineServer.start({
      sources: [v.source],
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
    });
    try {
      const opts = aptRootWith(path.join(tmp, 'apt-twin'), [
        `deb [signed-by=${path.join(out, 'repos', 'debian-12-twin', 'ferry.gpg')}] ${s2.filesUrl.replace(/\/+$/, '')}/repos/debian-12-twin bookworm main`,
      ]);
      expect((await aptGet(opts, ['-q', 'update'])).code).toBe(0);
      const dl = await aptGet(opts, ['-q', '-y', '--download-only', 'install', ...SMALL_ROOTS]);
      expect(dl.code, dl.out).toBe(0);
      expect(
        fs.readdirSync(path.join(tmp, 'apt-twin', 'cache', 'archives')).filter((f) => f.endsWith('.deb'))
          .length,
      ).toBeGreaterThan(10);
    } finally {
      await s2.stop();
    }
  });

  it('ferry vars --os-prestep prints the carried playbook; --os-prestep-shell the snippet with the keyring', async () => {
    const env = { HOME: tmp, FERRY_CONFIG_DIR: path.join(tmp, 'cfg') };
    const common = ['vars', '--bundle', bundle, '--allow-unsigned', '--files-url', 'http://10.1.2.3:8080'];
    const pb = await ferry([...common, '--os-prestep'], env);
    expect(pb.code, pb.out).toBe(0);
    expect(pb.out).toContain(fs.readFileSync(path.join(bundle, 'repos', 'ferry-apt-prestep.yml'), 'utf8'));
    const j = JSON.parse((await ferry([...common, '--os-prestep', '--json'], env)).out);
    expect(j.variables.ferry_apt_repo_url).toBe(`http://10.1.2.3:8080/repos/${os12}`);
    expect(j.variables.ferry_apt_keyring_sha256).toBe(
      sha256(fs.readFileSync(path.join(bundle, 'repos', os12, 'ferry.gpg'))),
    );
    expect(j.variables.debian_repo).toBe(`http://10.1.2.3:8080/repos/${os12}`);
    const sh = await ferry([...common, '--os-prestep-shell', os12], env);
    expect(sh.code).toBe(0);
    expect(sh.out).toContain(
      fs.readFileSync(path.join(bundle, 'repos', os12, 'ferry.gpg')).toString('base64'),
    );
    expect(sh.out).toContain(`http://10.1.2.3:8080/repos/${os12} bookworm main`);
    expect((await ferry([...common, '--os-prestep-shell', 'ubuntu-24.04'], env)).code).not.toBe(0);
  });

  it('imported into the store, the repository is served from the store and apt installs from it', async () => {
    const store = path.join(tmp, 'store');
    const env = {
      HOME: tmp,
      FERRY_CONFIG_DIR: path.join(tmp, 'cfg'),
      FERRY_DATA_DIR: path.join(tmp, 'data'),
    };
    const imp = await ferry(['import', bundle, '--store', store, '--allow-unsigned'], env);
    expect(imp.code, imp.out).toBe(0);
    const s2 = await OfflineServer.start({
      sources: await storeSources(store),
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
    });
    try {
      const opts = aptRootWith(path.join(tmp, 'apt-store'), [
        `deb [signed-by=${path.join(bundle, 'repos', os12, 'ferry.gpg')}] ${s2.filesUrl.replace(/\/+$/, '')}/repos/${os12} bookworm main`,
      ]);
      const up = await aptGet(opts, ['-q', 'update']);
      expect(up.code, up.out).toBe(0);
      const dl = await aptGet(opts, ['-q', '-y', '--download-only', 'install', ...SMALL_ROOTS]);
      expect(dl.code, dl.out).toBe(0);
    } finally {
      await s2.stop();
    }
  });

  it('a rerun downloads nothing; a .deb gone from the bundle is fetched again, alone', async () => {
    const opts = {
      out: bundle,
      mirrors: { 'https://deb.debian.org/': `${upstream.url}/` },
      repoSigner: signer,
    };
    const again = await runFetch(planWith([set]), opts);
    expect(again.upToDate).toBe(true);
    expect(again.requests).toBe(0);
    const pick = set.packages.find((p) => p.package === 'ebtables')!;
    fs.rmSync(path.join(bundle, 'repos', os12, pick.filename));
    const before = upstream.requests.length;
    const job = fetchJob(planWith([set]), opts);
    const r = await job.done;
    expect(r.upToDate).toBe(false);
    expect(r.bytesDownloaded).toBe(pick.size);
    expect(upstream.requests.slice(before)).toEqual([`/debian/${pick.filename}`]);
    expect(itemsSeen(job)).toContainEqual(
      expect.objectContaining({
        id: `deb:${os12}/ebtables_${pick.version}_amd64`,
        kind: 'file',
        status: 'done',
      }),
    );
    expect(sha256(fs.readFileSync(path.join(bundle, 'repos', os12, pick.filename)))).toBe(pick.sha256);
  });

  it('ferry verify names a damaged .deb in the bundle', async () => {
    const pick = set.packages.find((p) => p.package === 'ipvsadm')!;
    const f = path.join(bundle, 'repos', os12, pick.filename);
    const b = fs.readFileSync(f);
    b[200] ^= 0x01;
    fs.writeFileSync(f, b);
    const r = await ferry(['verify', bundle, '--allow-unsigned'], {
      HOME: tmp,
      FERRY_CONFIG_DIR: path.join(tmp, 'cfg'),
    });
    expect(r.code).toBe(1);
    expect(r.out).toContain(`ipvsadm ${pick.version} (amd64, ${os12})`);
    expect(r.out).toMatch(/ipvsadm/);
  });
});
