import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle } from '../../../src-main/core/bundle/verify/index.js';
import { lacks } from '../../helpers/tools.js';
import { RangeHost } from '../../helpers/range-host.js';
import { makePlan, startWorld, type World } from '../../helpers/world/index.js';
import { runFetch } from './helpers.js';

const MiB = 1 << 20;
/** Small pieces so test-sized files and layers are cut into many. */
const SEGMENTS = { connections: 4, minBytes: 2 * MiB, pieceBytes: MiB, firstPieceBytes: 512 << 10 };

describe('segmented fetch of a file', () => {
  let host: RangeHost;
  let tmp: string;
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-segfetch-'));
    host = await RangeHost.start(randomBytes(8 * MiB));
  });
  afterAll(async () => {
    await host?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('downloads in ranges over several connections, commits one verified file and leaves no state', async () => {
    host.rate = 16 * MiB;
    const out = path.join(tmp, 'b');
    const plan = makePlan({ files: [{ key: 'big', url: host.url, checksum: `sha256:${host.sha256()}` }] });
    const r = await runFetch(plan, { out, http: { segments: SEGMENTS } });
    expect(r.counts).toMatchObject({ fetched: 1, failed: 0 });
    expect(host.maxOpen).toBeGreaterThan(1);
    expect(host.maxOpen).toBeLessThanOrEqual(4);
    expect(host.requests.length).toBeGreaterThan(4);
    const v = await verifyBundle(out, { allowUnsigned: true });
    expect(v.ok).toBe(true);
    // Nothing of the download is left beside the bundle: no partials, no sidecars, no piece lists.
    const leftovers = fs
      .readdirSync(out, { recursive: true })
      .map(String)
      .filter((f) => /segments|\.part/.test(f));
    expect(leftovers).toEqual([]);
  });
});

describe.skipIf(lacks('docker-registry', 'skopeo'))(
  'segmented fetch of image blobs from a real registry',
  () => {
    let world: World;
    let tmp: string;
    beforeAll(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-segimg-'));
      world = await startWorld({
        images: { 'big/layers:1': { platforms: ['linux/amd64'], layers: 2, layerSize: 6 * MiB } },
      });
    });
    afterAll(async () => {
      await world?.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    });

    it('docker-registry serves blob ranges: big layers take several requests and verify', async () => {
      const plan = makePlan({
        images: [{ key: 'img', ref: world.ref('big/layers:1'), platforms: ['linux/amd64'] }],
      });
      const one = await runFetch(plan, {
        out: path.join(tmp, 'one'),
        insecureRegistries: [world.registry.host],
        connectionsPerHost: 1,
      });
      const seg = await runFetch(plan, {
        out: path.join(tmp, 'seg'),
        insecureRegistries: [world.registry.host],
        http: { segments: SEGMENTS },
      });
      expect(seg.counts).toMatchObject({ fetched: 1, failed: 0 });
      // Two layers of 6 MiB in 1 MiB pieces: at least 10 more requests than one per blob.
      expect(seg.requests).toBeGreaterThanOrEqual(one.requests + 10);
      expect((await verifyBundle(path.join(tmp, 'seg'), { allowUnsigned: true })).ok).toBe(true);
    });
  },
);
