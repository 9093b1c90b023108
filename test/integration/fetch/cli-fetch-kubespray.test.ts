import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/main.js';
import { planFromRequest } from '../../../src-main/core/plan/catalog/index.js';
import { kubesprayDataDir, lacks, lacksCondition } from '../../helpers/tools.js';
import { parseImageRef } from '../../../src-main/core/fetch/oci/reference.js';
import { startWorld, TestProxy, type World } from '../../helpers/world/index.js';

/**
 * `ferry fetch --kubespray DIR` end to end with Kubespray's real data: the plan is computed by the
 * catalog, every registry is mirrored to the world's registry (which holds test images under the
 * planned names) and every download host to the world's file host. Real checksums cannot match
 * the world's bytes, so the files must all be refused, by URL and checksum, while the images land.
 * Kubespray itself is asked for by tag, so its release tarball comes through the GitHub mirror
 * (fetchTarball) and goes into the bundle. A proxy that refuses everything stands between Ferry
 * and the internet: nothing may reach it.
 */
const KS = path.join(kubesprayDataDir, 'v2.29.1');

describe.skipIf(
  lacks('docker-registry', 'skopeo') ||
    lacksCondition(!fs.existsSync(KS), `the shared Kubespray data at ${KS}`),
)('ferry fetch --kubespray (real Kubespray data, mirrored world)', () => {
  let world: World;
  let proxy: TestProxy;
  let tmp: string;
  let plan: Awaited<ReturnType<typeof planFromRequest>>['plan'];

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-cli-ks-'));
    plan = (await planFromRequest({ kubespray: KS })).plan;
    world = await startWorld({});
    for (const i of plan.images.filter((x) => x.enabled)) {
      const r = parseImageRef(i.ref);
      await world.addImage(`${r.repository}:${r.tag}`, {
        platforms: ['linux/amd64', 'linux/arm64'],
        layers: 1,
        layerSize: 4096,
      });
    }
    for (const f of plan.files.filter((x) => x.enabled)) {
      const u = new URL(f.url);
      world.files.add(`/${u.host}${u.pathname}`, Buffer.from(`not really ${f.key}`));
    }
    const tgz = path.join(tmp, 'ks.tar.gz');
    execFileSync('tar', ['czf', tgz, '--transform', 's,^,kubespray-2.29.1/,', '-C', KS, 'roles']);
    world.files.add(
      '/github.com/kubernetes-sigs/kubespray/archive/refs/tags/v2.29.1.tar.gz',
      fs.readFileSync(tgz),
    );
    proxy = await TestProxy.start({ username: 'nobody', password: 'never' });
  });
  afterAll(async () => {
    await proxy?.close();
    await world?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('refuses every file by URL and checksum, fetches every image, sends nothing past the mirrors, and resumes', async () => {
    const out = path.join(tmp, 'bundle');
    const reg = world.registry.host;
    const hosts = [...new Set(plan.images.map((i) => parseImageRef(i.ref).registry))];
    const args = [
      'fetch',
      '--no-tools',
      '--kubespray',
      'v2.29.1',
      '--out',
      out,
      '--json',
      '--proxy',
      proxy.url,
      '--insecure-registry',
      reg,
      ...hosts.flatMap((h) => ['--registry-mirror', `${h}=http://${reg}`]),
      ...[...new Set(plan.files.map((f) => new URL(f.url).origin))].flatMap((o) => [
        '--mirror',
        `${o}/=${world.files.url(`/${new URL(o).host}/`)}`,
      ]),
    ];
    const env = {
      HOME: tmp,
      FERRY_CONFIG_DIR: path.join(tmp, 'cfg'),
      FERRY_DATA_DIR: path.join(tmp, 'data'),
      NO_PROXY: '127.0.0.1',
    };
    const run = async () => {
      const stdout = new PassThrough();
      let text = '';
      stdout.on('data', (d) => (text += d));
      const code = await runCli(args, {
        stdout,
        stderr: new PassThrough(),
        env,
        signal: new AbortController().signal,
      });
      return {
        code,
        lines: text
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
      };
    };

    const first = await run();
    expect(first.code).toBe(1);
    const items = first.lines.filter((l) => l.type === 'item').map((l) => l.item);
    const files = plan.files.filter((f) => f.enabled);
    const images = plan.images.filter((i) => i.enabled);
    for (const f of files) {
      const failed = items.find((i) => i.id === `file:${f.url}` && i.status === 'failed');
      expect(failed?.error.code, f.url).toBe('CHECKSUM');
      expect(failed.error.message).toContain(f.url);
      expect(failed.error.message).toContain(f.checksum);
    }
    for (const i of images)
      expect(
        items.some((x) => x.id === `image:${i.ref}` && x.status === 'done'),
        i.ref,
      ).toBe(true);
    expect(items.some((x) => x.id === 'kubespray:v2.29.1' && x.status === 'done')).toBe(true);
    expect(first.lines.at(-1)).toMatchObject({ type: 'failed', ok: false, error: { code: 'CHECKSUM' } });
    expect(fs.existsSync(path.join(out, 'manifest.json'))).toBe(false);
    expect(proxy.connects.length + proxy.forwards.length + proxy.refused).toBe(0);

    // The images are kept: the second run finds them present and only retries the files.
    const second = await run();
    expect(second.code).toBe(1);
    const again = second.lines.filter((l) => l.type === 'item').map((l) => l.item);
    for (const i of images)
      expect(again.some((x) => x.id === `image:${i.ref}` && x.status === 'present')).toBe(true);
    expect(again.filter((x) => x.status === 'failed')).toHaveLength(files.length);
    expect(again.some((x) => x.id === 'kubespray:v2.29.1' && x.status === 'present')).toBe(true);
    // The tarball was downloaded once, through the mirror, and cached for the catalog.
    expect(world.files.count('/github.com/kubernetes-sigs/kubespray/archive/refs/tags/v2.29.1.tar.gz')).toBe(
      1,
    );
  });
});
