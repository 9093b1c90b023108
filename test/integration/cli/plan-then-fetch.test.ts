import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planFromRequest } from '../../../src-main/core/plan/catalog/index.js';
import { parseImageRef } from '../../../src-main/core/fetch/oci/reference.js';
import { ferryProcess } from '../../helpers/cli-process.js';
import { kubesprayDataDir, lacks, lacksCondition } from '../../helpers/tools.js';
import { startWorld, TestProxy, type World } from '../../helpers/world/index.js';

/**
 * The README's walk: `ferry plan ARGS` to see what a cluster needs, then `ferry fetch ARGS --out
 * DIR` with the same arguments. Kubespray is asked for by tag on a machine that has never seen
 * it, every download host and registry is mirrored into a local world, and a proxy that refuses
 * everything stands in for the internet. plan must take fetch's arguments, download the release
 * through the mirror (not the proxy), and fetch must then download exactly what plan printed,
 * from the cache plan filled. (Kubespray's real checksums cannot match the world's made-up
 * bytes, so fetch refuses every file by checksum: that is the check that it asked for them.)
 */
const TAG = 'v2.31.0';
const KS = path.join(kubesprayDataDir, TAG);
const ARCHIVE = `/github.com/kubernetes-sigs/kubespray/archive/refs/tags/${TAG}.tar.gz`;

const ferry = (args: string[], env: NodeJS.ProcessEnv) => ferryProcess(args, env);

describe.skipIf(
  lacks('docker-registry', 'skopeo', 'tar') ||
    lacksCondition(!fs.existsSync(KS), `the shared Kubespray data at ${KS}`),
)('ferry plan, then ferry fetch with the same arguments', () => {
  let world: World;
  let proxy: TestProxy;
  let tmp: string;
  let expected: Awaited<ReturnType<typeof planFromRequest>>['plan'];

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-plan-fetch-'));
    expected = (await planFromRequest({ kubespray: KS })).plan;
    world = await startWorld({});
    for (const i of expected.images.filter((x) => x.enabled)) {
      const r = parseImageRef(i.ref);
      await world.addImage(`${r.repository}:${r.tag}`, {
        platforms: ['linux/amd64'],
        layers: 1,
        layerSize: 1024,
      });
    }
    for (const f of expected.files.filter((x) => x.enabled)) {
      const u = new URL(f.url);
      world.files.add(`/${u.host}${u.pathname}`, Buffer.from(`not really ${f.key}`));
    }
    const tgz = path.join(tmp, 'ks.tar.gz');
    execFileSync('tar', ['czf', tgz, '--transform', `s,^,kubespray-${TAG.slice(1)}/,`, '-C', KS, 'roles']);
    world.files.add(ARCHIVE, fs.readFileSync(tgz));
    proxy = await TestProxy.start({ username: 'nobody', password: 'never' });
  }, 120_000);
  afterAll(async () => {
    await proxy?.close();
    await world?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('plan downloads the release through the mirrors; fetch then downloads what plan printed', async () => {
    const reg = world.registry.host;
    const origins = [...new Set(expected.files.map((f) => new URL(f.url).origin)), 'https://github.com'];
    const registries = [...new Set(expected.images.map((i) => parseImageRef(i.ref).registry))];
    const same = [
      '--kubespray',
      TAG,
      '--proxy',
      proxy.url,
      '--insecure-registry',
      reg,
      ...registries.flatMap((h) => ['--registry-mirror', `${h}=http://${reg}`]),
      ...origins.flatMap((o) => ['--mirror', `${o}/=${world.files.url(`/${new URL(o).host}/`)}`]),
    ];
    const env = {
      HOME: tmp,
      PATH: process.env.PATH,
      FERRY_CONFIG_DIR: path.join(tmp, 'cfg'),
      FERRY_DATA_DIR: path.join(tmp, 'data'),
      NO_PROXY: '127.0.0.1',
    };

    const planned = await ferry(['plan', ...same, '--json'], env);
    expect(planned.code, planned.err).toBe(0);
    const plan = JSON.parse(planned.out);
    expect(plan.kubespray).toBe(TAG);
    expect(plan.files).toEqual(expected.files);
    expect(plan.images).toEqual(expected.images);
    expect(world.files.count(ARCHIVE)).toBe(1);
    // The human summary takes the same arguments too.
    const text = await ferry(['plan', ...same], env);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toContain('What takes the room');

    const out = path.join(tmp, 'bundle');
    const fetched = await ferry(['fetch', '--no-tools', ...same, '--out', out, '--json'], env);
    const lines = fetched.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const items = lines.filter((l) => l.type === 'item').map((l) => l.item);
    const ids = (status: string) => new Set(items.filter((i) => i.status === status).map((i) => i.id));
    const wantFiles = plan.files
      .filter((f: { enabled: boolean }) => f.enabled)
      .map((f: { url: string }) => `file:${f.url}`);
    const wantImages = plan.images
      .filter((i: { enabled: boolean }) => i.enabled)
      .map((i: { ref: string }) => `image:${i.ref}`);
    expect([...ids('done')].filter((id) => id.startsWith('image:')).sort()).toEqual([...wantImages].sort());
    expect([...ids('failed')].sort()).toEqual([...wantFiles].sort());
    for (const i of items.filter((x) => x.status === 'failed')) expect(i.error.code).toBe('CHECKSUM');
    expect(ids('done').has(`kubespray:${TAG}`)).toBe(true);
    expect(fetched.code).toBe(1);
    // fetch planned from the tarball plan cached, and nothing went past the mirrors.
    expect(world.files.count(ARCHIVE)).toBe(1);
    expect(proxy.connects.length + proxy.forwards.length + proxy.refused).toBe(0);
  }, 300_000);
});
