import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle } from '../../../src-main/core/bundle/index.js';
import { verifyBundle } from '../../../src-main/core/bundle/verify/index.js';
import { lacks } from '../../helpers/tools.js';
import {
  inspectRaw,
  makeLayer,
  makePlan,
  sha256,
  startWorld,
  type World,
} from '../../helpers/world/index.js';
import { fetchJob, itemsSeen, runFetch } from './helpers.js';

const run = promisify(execFile);

describe.skipIf(lacks('docker-registry', 'skopeo'))('fetching images from a real registry', () => {
  let world: World;
  let tmp: string;
  const shared = [makeLayer('base.bin', 200_000)];

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-fetch-img-'));
    world = await startWorld({
      images: {
        'library/multi:1': { platforms: ['linux/amd64', 'linux/arm64'], shared },
        'calico/node:v3': { platforms: ['linux/amd64', 'linux/arm64', 'linux/arm/v7'], shared },
        'single/app:2': { platforms: ['linux/amd64'] },
        'docker/list:1': { platforms: ['linux/amd64', 'linux/arm64'], docker: true },
      },
    });
  });
  afterAll(async () => {
    await world?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('keeps the upstream digests, fetches only planned platforms, fetches shared layers once, and skopeo can copy from the bundle', async () => {
    const out = path.join(tmp, 'b1');
    const plan = makePlan({
      images: [
        { key: 'multi', ref: world.ref('library/multi:1'), platforms: ['linux/arm64'] },
        { key: 'calico', ref: world.ref('calico/node:v3'), platforms: ['linux/amd64', 'linux/arm64'] },
        { key: 'app', ref: world.ref('single/app:2'), platforms: ['linux/amd64'] },
      ],
    });
    const r = await runFetch(plan, { out, insecureRegistries: [world.registry.host] });
    expect(r.counts).toMatchObject({ total: 3, fetched: 3, failed: 0 });

    const { manifest } = await openBundle(out);
    const images = manifest.artifacts.filter((a) => a.kind === 'image');
    for (const [repo, want] of [
      ['library/multi:1', ['linux/arm64']],
      ['calico/node:v3', ['linux/amd64', 'linux/arm64']],
      ['single/app:2', ['linux/amd64']],
    ] as const) {
      const a = images.find((i) => i.kind === 'image' && i.ref === world.ref(repo));
      const upstream = await inspectRaw(world.ref(repo));
      expect(a && a.kind === 'image' && a.digest).toBe(sha256(upstream));
      expect(a && a.kind === 'image' && [...a.platforms].sort()).toEqual([...want].sort());
      // The upstream bytes are kept exactly.
      expect(fs.readFileSync(path.join(out, 'images/blobs/sha256', sha256(upstream).slice(7)))).toEqual(
        upstream,
      );
      const built = world.images[repo];
      for (const [plat, d] of Object.entries(built.platforms)) {
        const has = fs.existsSync(path.join(out, 'images/blobs/sha256', d.manifest.slice(7)));
        expect(has, `${repo} ${plat}`).toBe((want as readonly string[]).includes(plat));
      }
    }
    // The shared base layer is in the bundle once and listed by every image that uses it.
    const baseDigest = world.images['library/multi:1'].platforms['linux/arm64'].layers[0];
    expect(world.images['calico/node:v3'].platforms['linux/amd64'].layers[0]).toBe(baseDigest);
    expect(images.filter((i) => i.paths.includes(`images/blobs/sha256/${baseDigest.slice(7)}`))).toHaveLength(
      2,
    );

    const report = await verifyBundle(out, { allowUnsigned: true });
    expect(report.ok).toBe(true);

    // skopeo reads the bundle's OCI layout by the full original reference.
    const dest = path.join(tmp, 'copied');
    await run('skopeo', [
      'copy',
      '--override-arch',
      'arm64',
      `oci:${out}/images:${world.ref('library/multi:1')}`,
      `oci:${dest}:x`,
    ]);
    const idx = JSON.parse(fs.readFileSync(path.join(dest, 'index.json'), 'utf8'));
    expect(idx.manifests[0].digest).toBe(world.images['library/multi:1'].platforms['linux/arm64'].manifest);
    await run('skopeo', [
      'copy',
      '--dest-tls-verify=false',
      `oci:${out}/images:${world.ref('single/app:2')}`,
      `docker://${world.registry.host}/copied/app:2`,
    ]);
    expect(sha256(await inspectRaw(`${world.registry.host}/copied/app:2`))).toBe(
      sha256(await inspectRaw(world.ref('single/app:2'))),
    );
  });

  it('reruns on the finished bundle without a request, and a new plan fetches only the new blobs', async () => {
    const out = path.join(tmp, 'b2');
    const first = makePlan({
      images: [{ key: 'multi', ref: world.ref('library/multi:1'), platforms: ['linux/amd64'] }],
    });
    await runFetch(first, { out, insecureRegistries: [world.registry.host] });
    const again = await runFetch(first, { out, insecureRegistries: [world.registry.host] });
    expect(again).toMatchObject({ upToDate: true, requests: 0 });

    // calico shares the base layer with multi: the new plan downloads calico's own blobs only.
    const second = makePlan({
      images: [
        { key: 'multi', ref: world.ref('library/multi:1'), platforms: ['linux/amd64'] },
        { key: 'calico', ref: world.ref('calico/node:v3'), platforms: ['linux/amd64'] },
      ],
    });
    const r = await runFetch(second, { out, insecureRegistries: [world.registry.host] });
    expect(r.counts).toMatchObject({ present: 1, fetched: 1 });
    const calico = world.images['calico/node:v3'];
    const own = [calico.platforms['linux/amd64'].config, ...calico.platforms['linux/amd64'].layers.slice(1)];
    const ownBytes = own.reduce((n, d) => n + calico.blobs.find((b) => b.digest === d)!.size, 0);
    expect(r.bytesDownloaded).toBe(ownBytes);
    expect((await verifyBundle(out, { allowUnsigned: true })).ok).toBe(true);
  });

  it('carries Docker manifest lists and schema 2 manifests with their media types', async () => {
    const out = path.join(tmp, 'b3');
    const ref = world.ref('docker/list:1');
    await runFetch(makePlan({ images: [{ key: 'd', ref, platforms: ['linux/arm64'] }] }), {
      out,
      insecureRegistries: [world.registry.host],
    });
    const { manifest } = await openBundle(out);
    expect(manifest.artifacts.find((a) => a.kind === 'image')).toMatchObject({
      ref,
      digest: sha256(await inspectRaw(ref)),
      mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
      platforms: ['linux/arm64'],
    });
  });

  it('names the platforms an image lacks', async () => {
    const err = await runFetch(
      makePlan({ images: [{ key: 'a', ref: world.ref('single/app:2'), platforms: ['linux/arm64'] }] }),
      {
        out: path.join(tmp, 'b4'),
        insecureRegistries: [world.registry.host],
      },
    ).catch((e) => e);
    expect(String(err.message)).toMatch(/linux\/arm64/);
  });

  it('resumes a half-downloaded layer from the registry with a Range request', async () => {
    const out = path.join(tmp, 'b5');
    const img = world.images['single/app:2'];
    const layer = img.blobs.find((b) => b.digest === img.platforms['linux/amd64'].layers[1])!;
    // What an interrupted run leaves behind: half the layer in its stable partial file.
    const part = path.join(
      out,
      '.ferry-partial',
      'resume',
      createHash('sha256').update(layer.digest).digest('hex').slice(0, 32) + '.part',
    );
    fs.mkdirSync(path.dirname(part), { recursive: true });
    const half = Math.floor(layer.size / 2);
    fs.writeFileSync(part, layer.bytes.subarray(0, half));
    fs.writeFileSync(
      part + '.json',
      JSON.stringify({ url: `http://${world.registry.host}/v2/single/app/blobs/${layer.digest}` }),
    );
    const job = fetchJob(makePlan({ images: [{ key: 'a', ref: world.ref('single/app:2') }] }), {
      out,
      insecureRegistries: [world.registry.host],
    });
    const r = await job.done;
    const all = [img.platforms['linux/amd64'].config, ...img.platforms['linux/amd64'].layers].reduce(
      (n, d) => n + img.blobs.find((b) => b.digest === d)!.size,
      0,
    );
    expect(r.bytesDownloaded).toBe(all - half);
    // Progress: the image's own bar is its blobs' bytes, the resumed half counted as already there.
    const bars = itemsSeen(job).filter(
      (i) => i.id === `image:${world.ref('single/app:2')}` && i.status === 'started',
    );
    expect(bars.some((i) => i.total === all)).toBe(true);
    expect(job.snapshot().progress).toMatchObject({ bytesDone: all - half, bytesTotal: all - half });
    expect((await verifyBundle(out, { allowUnsigned: true })).ok).toBe(true);
  });

  it('a plan without an image drops it from the layout and deletes its blobs, keeping the ones others share', async () => {
    const out = path.join(tmp, 'b6');
    const both = makePlan({
      images: [
        { key: 'multi', ref: world.ref('library/multi:1'), platforms: ['linux/amd64'] },
        { key: 'calico', ref: world.ref('calico/node:v3'), platforms: ['linux/amd64'] },
      ],
    });
    await runFetch(both, { out, insecureRegistries: [world.registry.host] });
    const r = await runFetch(makePlan({ images: [both.images[1]] }), {
      out,
      insecureRegistries: [world.registry.host],
    });
    expect(r.counts).toMatchObject({ present: 1, removed: 1, fetched: 0 });
    const blob = (d: string) => fs.existsSync(path.join(out, 'images/blobs/sha256', d.slice(7)));
    const multi = world.images['library/multi:1'];
    expect(blob(multi.digest)).toBe(false);
    expect(blob(multi.platforms['linux/amd64'].layers[1])).toBe(false);
    expect(blob(multi.platforms['linux/amd64'].layers[0])).toBe(true); // the shared base layer
    const index = JSON.parse(fs.readFileSync(path.join(out, 'images/index.json'), 'utf8'));
    expect(
      index.manifests.map(
        (m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'],
      ),
    ).toEqual([world.ref('calico/node:v3')]);
    expect((await verifyBundle(out, { allowUnsigned: true })).ok).toBe(true);
  });
});
