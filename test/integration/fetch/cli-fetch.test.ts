import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/main.js';
import { openBundle } from '../../../src-main/core/bundle/index.js';
import { KeyStore } from '../../../src-main/core/bundle/keys/index.js';
import { lacks } from '../../helpers/tools.js';
import { makePlan, startWorld, type World } from '../../helpers/world/index.js';

async function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await runCli(args, { stdout, stderr, env, signal: new AbortController().signal });
  return { code, stdout: out, stderr: err };
}

describe.skipIf(lacks('docker-registry', 'skopeo'))('ferry fetch', () => {
  let world: World;
  let tmp: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-cli-fetch-'));
    world = await startWorld({ images: { 'library/app:1': { platforms: ['linux/amd64', 'linux/arm64'] } } });
    env = {
      HOME: tmp,
      FERRY_CONFIG_DIR: path.join(tmp, 'config'),
      FERRY_DATA_DIR: path.join(tmp, 'data'),
      PATH: process.env.PATH,
    };
    await KeyStore.fromEnv(env).generate({ name: 'test' });
  });
  afterAll(async () => {
    await world?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('writes a signed bundle, streams JSON lines, and a rerun reports up to date without network', async () => {
    const a = world.files.add('/k8s/kubeadm', randomBytes(100_000));
    const tar = world.files.add('/gh/kubespray.tar.gz', randomBytes(20_000));
    const plan = makePlan({
      files: [{ key: 'kubeadm', url: a.url, checksum: a.checksum }],
      images: [{ key: 'app', ref: world.ref('library/app:1'), platforms: ['linux/amd64'] }],
      kubesprayTarball: { url: tar.url },
    });
    const planFile = path.join(tmp, 'plan.json');
    fs.writeFileSync(planFile, JSON.stringify(plan));
    const out = path.join(tmp, 'bundle');
    const args = [
      'fetch',
      '--no-tools',
      '--plan',
      planFile,
      '--out',
      out,
      '--insecure-registry',
      world.registry.host,
      '--concurrency',
      '2',
      '--json',
    ];
    const r = await cli(args, env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.some((l) => l.type === 'progress' && l.progress.phase === 'downloading')).toBe(true);
    const done = lines.filter((l) => l.type === 'item' && l.item.status === 'done').map((l) => l.item.id);
    expect(done.sort()).toEqual(
      [`file:${a.url}`, `image:${world.ref('library/app:1')}`, `kubespray:${plan.kubespray}`].sort(),
    );
    expect(lines.at(-1)).toMatchObject({ type: 'result', ok: true });
    expect(fs.existsSync(path.join(out, 'manifest.json.sig'))).toBe(true);
    const { manifest } = await openBundle(out);
    expect(manifest.artifacts.find((x) => x.kind === 'kubespray')).toMatchObject({
      version: plan.kubespray,
      url: tar.url,
      paths: [`kubespray/kubespray-${plan.kubespray}.tar.gz`],
    });
    const v = await cli(['verify', out, '--json'], env);
    expect(v.code, v.stdout).toBe(0);

    const before = world.files.count();
    const again = await cli(args, env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout.trim().split('\n').at(-1)!).result.upToDate).toBe(true);
    expect(world.files.count()).toBe(before);
  });

  it("ends with what the download took, per component with real sizes, as the app's download step", async () => {
    const k = world.files.add('/k8s/room/kubeadm', randomBytes(300_000));
    const plan = makePlan({
      files: [{ key: 'kubeadm', url: k.url, checksum: k.checksum }],
      images: [{ key: 'app', ref: world.ref('library/app:1'), platforms: ['linux/amd64'] }],
    });
    const planFile = path.join(tmp, 'plan-room.json');
    fs.writeFileSync(planFile, JSON.stringify(plan));
    const out = path.join(tmp, 'room-bundle');
    const r = await cli(
      ['fetch', '--no-tools', '--plan', planFile, '--out', out, '--insecure-registry', world.registry.host],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const room = r.stdout.slice(r.stdout.indexOf('What the download took:'));
    // The file is 300 000 bytes (293 KiB) and leads; the image's blobs are smaller.
    expect(room).toMatch(
      /^What the download took:\n {2}kubeadm\s+#{20}\s+293 KiB\n {2}library\/app\s+#+\s+[\d.]+ (B|KiB)\n/,
    );
    // A rerun downloads nothing, so there is nothing to picture.
    const again = await cli(
      ['fetch', '--no-tools', '--plan', planFile, '--out', out, '--insecure-registry', world.registry.host],
      env,
    );
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('What the download took');
  });

  it('exits 1 on a checksum mismatch and lists the failure with its reason', async () => {
    const bad = world.files.add('/k8s/bad', randomBytes(1000));
    const plan = makePlan({ files: [{ key: 'bad', url: bad.url, checksum: 'sha256:' + '0'.repeat(64) }] });
    const planFile = path.join(tmp, 'plan-bad.json');
    fs.writeFileSync(planFile, JSON.stringify(plan));
    const r = await cli(
      ['fetch', '--no-tools', '--plan', planFile, '--out', path.join(tmp, 'bad-bundle')],
      env,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(bad.url);
    expect(r.stderr).toContain('sha256:' + '0'.repeat(64));
    expect(r.stderr).toContain(bad.checksum);
  });

  it('refuses bad flags with exit 2', async () => {
    expect((await cli(['fetch', '--no-tools', '--plan', 'x.json'], env)).code).toBe(2);
    expect(
      (await cli(['fetch', '--out', path.join(tmp, 'x'), '--plan', 'x.json', '--concurrency', '0'], env))
        .code,
    ).toBe(2);
    expect(
      (await cli(['fetch', '--out', path.join(tmp, 'x'), '--plan', 'x.json', '--mirror', 'nonsense'], env))
        .code,
    ).toBe(2);
  });
});
