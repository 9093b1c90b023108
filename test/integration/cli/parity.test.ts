import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadKubespray, supportedKubeVersions } from '../../../src-main/core/plan/catalog/index.js';
import { KNOWN_RELEASES } from '../../../src-main/core/plan/releases.js';
import { makeKeyStore, makeSampleBundle, tempDir } from '../../helpers/bundle-fixtures.js';
import { writePlanBundle } from '../../helpers/kubespray-bundle.js';
import { ferryProcess } from '../../helpers/cli-process.js';
import { kubesprayDataDir, lacks } from '../../helpers/tools.js';

/**
 * What the app shows, asked of the `ferry` process: the known Kubespray releases and a release's
 * Kubernetes versions, the room a plan takes, the drive notes, the bundles on media, the listen
 * addresses, containerd's hosts.toml, and untrusting a key.
 * Each answer comes from the same core function the app's IPC handler calls.
 */

const ferry = (args: string[], env: NodeJS.ProcessEnv) => ferryProcess(args, env);

let tmp: string;
let env: NodeJS.ProcessEnv;
let keys: Awaited<ReturnType<typeof makeKeyStore>>['store'];

beforeAll(async () => {
  tmp = await tempDir('ferry-parity-');
  const ks = await makeKeyStore('parity');
  keys = ks.store;
  env = { ...ks.env, HOME: tmp, FERRY_DATA_DIR: path.join(tmp, 'data') };
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('ferry plan --list-releases', () => {
  it('lists the releases the app offers, newest first, and says which are cached', async () => {
    const cache = path.join(tmp, 'data', 'cache', 'kubespray');
    await fs.mkdir(cache, { recursive: true });
    await fs.writeFile(path.join(cache, `kubespray-${KNOWN_RELEASES[2]}.tar.gz`), 'x');
    const j = await ferry(['plan', '--list-releases', '--json'], env);
    expect(j.err).toBe('');
    expect(j.code).toBe(0);
    const { releases } = JSON.parse(j.out);
    expect(releases.map((r: { version: string }) => r.version)).toEqual([...KNOWN_RELEASES]);
    expect(releases[0]).toMatchObject({ newest: true, cached: false });
    expect(releases[2]).toMatchObject({ newest: false, cached: true });
    expect(releases[1].url).toBe(
      `https://github.com/kubernetes-sigs/kubespray/archive/refs/tags/${KNOWN_RELEASES[1]}.tar.gz`,
    );
    const t = await ferry(['plan', '--list-releases'], env);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(new RegExp(`^  ${KNOWN_RELEASES[0]}\\s+newest\\s+downloaded when planned`, 'm'));
    expect(t.out).toMatch(new RegExp(`^  ${KNOWN_RELEASES[2]}\\s+cached`, 'm'));
  });

  it('is in the help', async () => {
    const h = await ferry(['plan', '--help'], env);
    expect(h.out).toContain('--list-releases');
    // The source options fetch takes are plan's too.
    for (const flag of [
      '--mirror FROM=TO',
      '--registry-mirror HOST=URL',
      '--insecure-registry HOST',
      '--proxy URL',
    ])
      expect(h.out).toContain(flag);
  });
});

describe('ferry plan: what takes the room', () => {
  it('prints the per-component bars the app draws, largest first', async () => {
    const r = await ferry(['plan', '--kubespray', path.join(kubesprayDataDir, 'v2.31.0')], env);
    expect(r.code).toBe(0);
    const room = r.out.slice(r.out.indexOf('What takes the room'));
    const rows = room
      .split('\n')
      .slice(1)
      .filter((l) => /^\s+\S+\s+#+\s+\d+ (file|image)s?$/.test(l));
    // v2.31.0's default cluster: 11 files and 12 images in 17 groups (calicoctl and the CRDs
    // are calico's files); kubeadm's 4 images lead.
    expect(rows).toHaveLength(17);
    expect(rows).toContainEqual(expect.stringMatching(/^\s+calico\s+#+\s+2 files$/));
    expect(rows[0]).toMatch(/^\s+kubeadm\s+#{20}\s+4 images$/);
    const counted = rows.reduce((n, l) => n + Number(/(\d+) (file|image)s?$/.exec(l)![1]), 0);
    expect(counted).toBe(23);
  });
});

describe('ferry drives', () => {
  it('marks the system drive and says so under it, as the app does', async () => {
    const r = await ferry(['drives', '--all'], env);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    const root = lines.findIndex((l) => /^\s+\/\s/.test(l));
    expect(root).toBeGreaterThanOrEqual(0);
    expect(lines[root]).toMatch(/SYSTEM$/);
    expect(lines.slice(root + 1, root + 3).map((l) => l.trim())).toContain(
      'This drive holds the system or your home folder.',
    );
    const j = JSON.parse((await ferry(['drives', '--all', '--json'], env)).out);
    const d = j.drives.find((x: { mountPoint: string }) => x.mountPoint === '/');
    expect(d.notes).toContain('This drive holds the system or your home folder.');
  });
});

describe('ferry bundles', () => {
  it('finds a bundle folder and an archive export below a folder, with their signatures', async () => {
    const media = path.join(tmp, 'media');
    const sample = await makeSampleBundle(path.join(tmp, 'src'), { signer: await keys.signer() });
    // A folder export (ferry/<id>) and an archive export beside it, both by the CLI.
    expect(
      (await ferry(['export', sample.dir, '--to', path.join(media, 'ferry', 'one'), '--force'], env)).code,
    ).toBe(0);
    const arch = await ferry(
      [
        'export',
        sample.dir,
        '--to',
        path.join(media, 'ferry', 'two'),
        '--force',
        '--archive',
        '--split',
        '1M',
      ],
      env,
    );
    expect(arch.code).toBe(0);
    // Something that looks like a bundle and is not one.
    await fs.mkdir(path.join(media, 'broken'), { recursive: true });
    await fs.writeFile(path.join(media, 'broken', 'manifest.json'), '{not json');

    const j = await ferry(['bundles', media, '--json'], env);
    expect(j.code).toBe(0);
    const found = JSON.parse(j.out);
    expect(found.searched).toEqual([media]);
    const byDir = Object.fromEntries(
      found.bundles.map((b: { dir: string }) => [path.relative(media, b.dir), b]),
    );
    expect(Object.keys(byDir).sort()).toEqual(['ferry/one', 'ferry/two']);
    expect(byDir['ferry/one']).toMatchObject({
      format: 'folder',
      kubesprayVersion: 'v2.31.0',
      kubeVersion: '1.35.4',
      arches: ['amd64'],
      counts: { files: 3, images: 2 },
      signature: { status: 'trusted', signer: 'parity' },
    });
    expect(byDir['ferry/two'].format).toBe('archive');
    expect(byDir['ferry/two'].parts).toBeGreaterThan(1);
    expect(byDir['ferry/two'].id).toBe(byDir['ferry/one'].id);
    expect(found.problems).toHaveLength(1);
    expect(found.problems[0].label).toBe(`${media}: broken`);

    const t = await ferry(['bundles', media], env);
    expect(t.code).toBe(0);
    expect(t.out).toContain(path.join(media, 'ferry', 'one'));
    expect(t.out).toMatch(/archive export in \d+ parts/);
    expect(t.out).toContain('Signature: signed by parity');
    expect(t.err).toContain(`cannot read ${media}: broken`);

    // Only something unreadable: a failure a script sees.
    const bad = await ferry(['bundles', path.join(media, 'broken')], env);
    expect(bad.code).not.toBe(0);
  });
});

describe('ferry serve --list-interfaces', () => {
  it('lists the addresses the app offers, loopback last, and serves nothing', async () => {
    const j = await ferry(['serve', '--list-interfaces', '--json'], env);
    expect(j.code).toBe(0);
    const { interfaces } = JSON.parse(j.out);
    expect(interfaces).toContainEqual({ name: 'lo', address: '127.0.0.1', family: 'IPv4', internal: true });
    const firstLoopback = interfaces.findIndex((i: { internal: boolean }) => i.internal);
    expect(interfaces.slice(firstLoopback).every((i: { internal: boolean }) => i.internal)).toBe(true);
    expect(interfaces.some((i: { address: string }) => i.address.toLowerCase().startsWith('fe80'))).toBe(
      false,
    );
    const t = await ferry(['serve', '--list-interfaces'], env);
    expect(t.out).toMatch(/^lo\s+127\.0\.0\.1\s+\(loopback/m);
  });
});

/**
 * containerd's hosts.toml, as documented (containerd docs/hosts.md): a top-level `server`, then
 * `[host."<url>"]` tables whose keys are capabilities (pull, resolve, push), skip_verify,
 * override_path, ca, client and header. Parsed by Python's tomllib, a real TOML parser.
 */
const HOST_KEYS = new Set(['capabilities', 'skip_verify', 'override_path', 'ca', 'client', 'header']);

describe.skipIf(lacks('python3'))('ferry vars --containerd DIR', () => {
  it('writes a valid certs.d/<registry>/hosts.toml for every upstream registry of the bundle', async () => {
    const dir = path.join(tmp, 'ks-bundle');
    const plan = await writePlanBundle(dir, 'v2.31.0', {});
    const certs = path.join(tmp, 'certs.d');
    const r = await ferry(
      [
        'vars',
        '--bundle',
        dir,
        '--allow-unsigned',
        '--hostname',
        '10.0.0.5',
        '--style',
        'mirror',
        '--skip-check',
        '-o',
        path.join(tmp, 'offline.yml'),
        '--containerd',
        certs,
      ],
      env,
    );
    expect(r.code, r.err).toBe(0);
    const upstreams = [
      ...new Set(plan.images.filter((i) => i.enabled).map((i) => i.ref.split('/')[0])),
    ].sort();
    // One per containerd_registries_mirrors entry of offline.yml: the bundle's upstreams and the
    // standard ones Kubespray pulls from (gcr.io, ghcr.io…).
    const yml = parseYaml(await fs.readFile(path.join(tmp, 'offline.yml'), 'utf8')) as {
      containerd_registries_mirrors: Array<{ prefix: string }>;
    };
    const written = (await fs.readdir(certs)).sort();
    expect(written).toEqual(yml.containerd_registries_mirrors.map((m) => m.prefix).sort());
    expect(written).toEqual(expect.arrayContaining(upstreams));
    const parsed = await new Promise<Record<string, any>>((resolve, reject) => {
      const py = spawn('python3', [
        '-c',
        'import json,os,sys,tomllib\nd=sys.argv[1]\nprint(json.dumps({h: tomllib.load(open(os.path.join(d,h,"hosts.toml"),"rb")) for h in os.listdir(d)}))',
        certs,
      ]);
      let out = '';
      let err = '';
      py.stdout.on('data', (c) => (out += c));
      py.stderr.on('data', (c) => (err += c));
      py.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(err))));
    });
    for (const host of written) {
      const doc = parsed[host];
      expect(doc.server, host).toBe(`https://${host}`);
      const hosts = Object.entries(doc.host as Record<string, Record<string, unknown>>);
      expect(hosts.map(([url]) => url)).toEqual(['http://10.0.0.5:5000']);
      for (const [, t] of hosts) {
        for (const k of Object.keys(t)) expect(HOST_KEYS.has(k), k).toBe(true);
        expect(t.capabilities).toEqual(['pull', 'resolve']);
        expect(t.skip_verify).toBe(false);
        // Ferry serves original names under ?ns=, so the path is containerd's default /v2.
        expect(t.override_path).toBe(false);
      }
      expect(Object.keys(doc).sort()).toEqual(['host', 'server']);
    }
  });
});

describe('ferry plan --list-kube-versions', () => {
  it("lists the Kubernetes versions the app's picker offers for that Kubespray", async () => {
    const ks = path.join(kubesprayDataDir, 'v2.29.1');
    const j = await ferry(['plan', '--kubespray', ks, '--list-kube-versions', '--json'], env);
    expect(j.code, j.err).toBe(0);
    const r = JSON.parse(j.out);
    expect(r.kubespray).toBe('v2.29.1');
    // The same list plan.prepare gives the app: Kubespray's own kubelet checksum table.
    expect(r.kubeVersions).toEqual(supportedKubeVersions(await loadKubespray({ dir: ks })));
    expect(r.kubeVersions).toContain('1.33.7');
    const none = await ferry(['plan', '--list-kube-versions'], env);
    expect(none.code).toBe(2);
  });
});

describe('ferry keys untrust', () => {
  it('removes a trusted key, as the app’s settings do', async () => {
    const other = await makeKeyStore('other-side');
    const pub = path.join(tmp, 'other.pub');
    const own = (await other.store.list()).find((k) => k.own)!;
    await fs.writeFile(pub, own.publicKeyPem);
    expect((await ferry(['keys', 'trust', pub], env)).code).toBe(0);
    const listed = () => keys.list().then((ks) => ks.map((k) => k.fingerprint));
    expect(await listed()).toContain(own.fingerprint);
    const r = await ferry(['keys', 'untrust', own.fingerprint, '--json'], env);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ fingerprint: own.fingerprint, removed: true });
    expect(await listed()).not.toContain(own.fingerprint);
    const again = await ferry(['keys', 'untrust', own.fingerprint], env);
    expect(again.out).toContain('was not a trusted key');
    expect((await ferry(['keys', 'untrust', 'nonsense'], env)).code).toBe(2);
  });
});
