import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ociBlobPath } from '../../../src-main/core/bundle/oci-layout.js';
import { filePathForUrl } from '../../../src-main/core/bundle/paths.js';
import { makeImage, writeTestBundle } from '../../helpers/oci-fixtures.js';
import { get, ServeProcess } from './ferry-process.js';

/**
 * Issue 12 item 2: a running `ferry serve` sends only bytes it verified, even when folders or
 * blobs of the bundle are replaced on disk under it. Each test runs a real `ferry serve` process and changes the bundle
 * on disk with real renames, symlinks and writes at a chosen moment.
 */

const ETCD = 'https://github.com/etcd-io/etcd/releases/download/v3.5.25/etcd-v3.5.25-linux-amd64.tar.gz';
const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('serve under swaps on disk (issue 12 item 2)', () => {
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  let running: ServeProcess[] = [];
  const serve = (args: string[]) => {
    const p = new ServeProcess(args, env);
    running.push(p);
    return p;
  };

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rel-serve-swaps-'));
    env = {
      ...process.env,
      FERRY_CONFIG_DIR: path.join(tmp, 'config'),
      FERRY_DATA_DIR: path.join(tmp, 'data'),
    };
  });
  afterEach(async () => {
    await Promise.all(running.map((p) => p.stop()));
    running = [];
  });
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('a parent folder swapped for a symlink out of the bundle is refused and logged (item 2)', async () => {
    const dir = path.join(tmp, 'swap-parent');
    const inside = Buffer.alloc(5000, 'i');
    await writeTestBundle(dir, { files: [{ url: ETCD, content: inside }] });
    // Outside the bundle: the same layout, a file of the same size (the size check alone passes).
    const outside = path.join(tmp, 'outside');
    const rel = filePathForUrl(ETCD);
    await fs.mkdir(path.dirname(path.join(outside, ...rel.split('/'))), { recursive: true });
    await fs.writeFile(path.join(outside, ...rel.split('/')), Buffer.alloc(5000, 'X'));

    const p = serve(['--bundle', dir, '--allow-unsigned']);
    const { files } = await p.ready();
    const url = `${files}/${rel.slice('files/'.length)}`;
    const before = await get(url);
    expect(before.status).toBe(200);
    expect(before.body.equals(inside)).toBe(true);

    await fs.rename(path.join(dir, 'files', 'github.com'), path.join(dir, 'files', 'github.com.orig'));
    await fs.symlink(path.join(outside, 'files', 'github.com'), path.join(dir, 'files', 'github.com'));
    const after = await get(url);
    expect(after.body.includes(Buffer.from('XXXX'))).toBe(false);
    expect([404, 500]).toContain(after.status);
    // The operator sees why: a log line names the file and the reason, not just a status.
    const log = async () => {
      for (let i = 0; i < 50 && !/refused/.test(p.err); i++) await new Promise((r) => setTimeout(r, 20));
      return p.err;
    };
    expect(await log()).toMatch(/refused .*etcd-v3\.5\.25-linux-amd64\.tar\.gz.*outside the bundle/);
  }, 60_000);

  it('a manifest or small blob replaced while serving is never sent changed (item 2)', async () => {
    const dir = path.join(tmp, 'swap-blob');
    const image = makeImage({ single: true });
    await writeTestBundle(dir, { images: [{ ref: 'quay.io/calico/node:v3.30.3', image }] });
    const manifest = image.blobs.get(image.digest)!;
    const configDigest = (JSON.parse(manifest.toString()) as { config: { digest: string } }).config.digest;
    const blobFile = (d: string) => path.join(dir, ...ociBlobPath(d).split('/'));

    const p = serve(['--bundle', dir, '--allow-unsigned']);
    const { registry } = await p.ready();
    const base = `${registry}/v2/calico/node`;
    expect((await get(`${base}/manifests/v3.30.3`)).status).toBe(200);

    // Same size, other bytes: a size check alone does not notice. Replaced by rename, as an
    // attacker or a careless copy would.
    const swap = async (file: string, bytes: Buffer) => {
      await fs.writeFile(file + '.new', bytes);
      await fs.rename(file + '.new', file);
    };
    const forgedManifest = Buffer.from(manifest.toString().replace(/"schemaVersion":2/, '"schemaVersion":3'));
    expect(forgedManifest.length).toBe(manifest.length);
    await swap(blobFile(image.digest), forgedManifest);
    const config = image.blobs.get(configDigest)!;
    const forgedConfig = Buffer.from(config.toString().replace('/bin/true', '/bin/evil'));
    expect(forgedConfig.length).toBe(config.length);
    await swap(blobFile(configDigest), forgedConfig);

    for (const url of [
      `${base}/manifests/v3.30.3`,
      `${base}/manifests/${image.digest}`,
      `${base}/blobs/${image.digest}`,
      `${base}/blobs/${configDigest}`,
    ]) {
      const r = await get(url);
      // Either the verified bytes or a refusal; never the changed bytes under the old digest.
      if (r.status === 200)
        expect(`sha256:${hex(r.body)}`, url).toBe(url.endsWith(configDigest) ? configDigest : image.digest);
      else expect(r.status, url).toBeGreaterThanOrEqual(500);
      expect(r.body.includes(Buffer.from('/bin/evil')), url).toBe(false);
      expect(r.body.includes(Buffer.from('"schemaVersion":3')), url).toBe(false);
    }
    // The config blob is not in memory: it is refused, and the log says why.
    expect((await get(`${base}/blobs/${configDigest}`)).status).toBe(500);
    for (let i = 0; i < 50 && !/refused/.test(p.err); i++) await new Promise((r) => setTimeout(r, 20));
    expect(p.err).toMatch(/refused .*sha256.*changed since it was verified/);
  }, 60_000);
});
