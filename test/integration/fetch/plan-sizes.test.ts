import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../../src-main/core/fetch/download/http-client.js';
import { RegistryClient } from '../../../src-main/core/fetch/oci/registry-client.js';
import { roomCheck, sizePlan, sizesBy } from '../../../src-main/core/fetch/sizes.js';
import { lacks } from '../../helpers/tools.js';
import {
  FileHost,
  makeLayer,
  makePlan,
  startWorld,
  type BuiltImage,
  type World,
} from '../../helpers/world/index.js';
import { FAST } from './helpers.js';

/** What one image brings for these platforms: top manifest, platform manifests, configs, layers. */
function expectedBlobs(img: BuiltImage, platforms: string[]): Map<string, number> {
  const size = (d: string) => img.blobs.find((b) => b.digest === d)?.size;
  const out = new Map<string, number>();
  const top = size(img.digest);
  if (top !== undefined) out.set(img.digest, top);
  for (const p of platforms) {
    const m = img.platforms[p];
    for (const d of [m.manifest, m.config, ...m.layers]) out.set(d, size(d)!);
  }
  return out;
}

describe.skipIf(lacks('docker-registry', 'skopeo'))('sizes before downloading', () => {
  let world: World;
  let host: FileHost;
  let tmp: string;
  let client: HttpClient;
  const shared = [makeLayer('base.bin', 300_000)];
  const imgs: Record<string, BuiltImage> = {};

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-sizes-'));
    world = await startWorld({});
    imgs.a = await world.addImage('sz/a:1', { platforms: ['linux/amd64', 'linux/arm64'], shared });
    imgs.b = await world.addImage('sz/b:1', { platforms: ['linux/amd64'], shared });
    host = await FileHost.start();
    client = new HttpClient({ ...FAST });
  });
  afterAll(async () => {
    await client?.close();
    await host?.close();
    await world?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('sizes files by HEAD (through redirects) and images by manifests, shared layers once; says what it could not size', async () => {
    const big = host.add('/kubeadm', randomBytes(123_457));
    const small = host.add('/calicoctl', randomBytes(4_321));
    host.add('/moved', Buffer.alloc(0), [{ kind: 'redirect', to: '/calicoctl' }]);
    const plan = makePlan({
      files: [
        { key: 'kubeadm', url: big.url, checksum: big.checksum },
        { key: 'calicoctl', url: `${host.origin}/moved`, checksum: small.checksum },
        { key: 'crictl', url: `${host.origin}/missing`, checksum: small.checksum },
      ],
      images: [
        { key: 'calico_node', ref: world.ref('sz/a:1'), platforms: ['linux/amd64', 'linux/arm64'] },
        { key: 'calico_cni', ref: world.ref('sz/b:1'), platforms: ['linux/amd64'] },
        { key: 'nginx', ref: world.ref('sz/nope:1'), platforms: ['linux/amd64'] },
      ],
    });
    const registry = new RegistryClient(client, { insecure: [world.registry.host] });
    const cacheFile = path.join(tmp, 'sizes.json');
    const s = await sizePlan(plan, { client, registry, cacheFile });
    const by = Object.fromEntries(s.artifacts.map((a) => [a.key, a]));
    expect(by.kubeadm.bytes).toBe(123_457);
    expect(by.calicoctl.bytes).toBe(4_321);
    expect(by.crictl).toMatchObject({ bytes: null });
    expect(by.crictl.unknown).toMatch(/404/);
    expect(by.nginx).toMatchObject({ bytes: null });

    const a = expectedBlobs(imgs.a, ['linux/amd64', 'linux/arm64']);
    const b = expectedBlobs(imgs.b, ['linux/amd64']);
    const sum = (m: Map<string, number>) => [...m.values()].reduce((x, y) => x + y, 0);
    expect(by.calico_node.bytes).toBe(sum(a));
    expect(by.calico_node.imageBytes).toBe(sum(a));
    // b shares the base layer with a: the bundle carries it once, and b's own share says so.
    const onlyB = [...b].filter(([d]) => !a.has(d));
    expect(by.calico_cni.imageBytes).toBe(sum(b));
    expect(by.calico_cni.bytes).toBe(onlyB.reduce((x, [, n]) => x + n, 0));
    expect(s.sharedImageBytes).toBe(sum(b) - by.calico_cni.bytes!);
    expect(s.sharedImageBytes).toBeGreaterThan(300_000);
    expect(s.unsized).toBe(2);
    expect(s.knownBytes).toBe(123_457 + 4_321 + sum(a) + by.calico_cni.bytes!);

    // Grouped by component: calico's files and images together.
    const groups = sizesBy(s, (x) => x.key.split('_')[0].replace(/ctl$/, ''));
    expect(groups.find((g) => g.name === 'calico')).toMatchObject({ count: 3, unsized: 0 });

    // Cached: a second sizing of the same files asks nothing of the file host.
    const before = host.requests.length;
    const again = await sizePlan(
      { files: plan.files.slice(0, 2), images: [] },
      { client, registry, cacheFile },
    );
    expect(again.knownBytes).toBe(123_457 + 4_321);
    expect(host.requests.length).toBe(before);
  });

  it('a server that refuses HEAD is asked for one byte, and never sends the body', async () => {
    const f = host.add('/nohead', randomBytes(50_000), [{ kind: 'status', status: 405, times: 1 }]);
    const registry = new RegistryClient(client);
    const s = await sizePlan(
      { files: [{ key: 'x', url: f.url, checksum: f.checksum }], images: [] },
      { client, registry },
    );
    expect(s.artifacts[0].bytes).toBe(50_000);
  });

  it('the drive check says when the bundle will not fit, and when FAT32 cannot hold a file', () => {
    const sizes = {
      artifacts: [
        { kind: 'file' as const, key: 'big', name: 'http://x/big', bytes: 5 * 2 ** 30 },
        { kind: 'file' as const, key: 'small', name: 'http://x/small', bytes: 1000 },
      ],
      knownBytes: 5 * 2 ** 30 + 1000,
      unsized: 0,
      sharedImageBytes: 0,
    };
    expect(roomCheck(sizes, { freeBytes: 64 * 2 ** 30, fsType: 'ext4' })).toEqual({
      fits: true,
      problems: [],
    });
    const fat = roomCheck(sizes, { freeBytes: 64 * 2 ** 30, fsType: 'vfat' });
    expect(fat.fits).toBe(false);
    expect(fat.problems[0]).toMatch(/FAT32/);
    const small = roomCheck(sizes, { freeBytes: 2 ** 30, fsType: 'exfat' });
    expect(small.fits).toBe(false);
    expect(small.problems[0]).toMatch(/needs at least/);
  });
});
