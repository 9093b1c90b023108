import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ociBlobPath } from '../../../src-main/core/bundle/index.js';
import { openVerifiedBundle } from '../../../src-main/core/serve/verified-source.js';
import { OfflineServer } from '../../../src-main/core/serve/server.js';
import { makeImage, splitBundleFiles, writeTestBundle, type TestImage } from '../../helpers/oci-fixtures.js';
import { request } from '../../helpers/http-get.js';

const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('bundles with files stored split (FAT32 media)', () => {
  let tmp: string;
  let server: OfflineServer;
  let img: TestImage;
  let layer: [string, Buffer];
  const big = randomBytes(250_000);
  const url = 'https://github.com/etcd-io/etcd/releases/download/v3.5.25/etcd.tar.gz';

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-split-'));
    img = makeImage({ platforms: ['linux/amd64'], layerBytes: 200_000 });
    layer = [...img.blobs].find(([, b]) => b[0] === 0x1f)!;
    const dir = path.join(tmp, 'b');
    await writeTestBundle(dir, {
      images: [{ ref: 'quay.io/a/b:1', image: img }],
      files: [{ url, content: big }],
    });
    await splitBundleFiles(
      dir,
      ['files/github.com/etcd-io/etcd/releases/download/v3.5.25/etcd.tar.gz', ociBlobPath(layer[0])],
      64 * 1024,
    );
    const v = await openVerifiedBundle(dir, { allowUnsigned: true, trusted: [] });
    server = await OfflineServer.start({
      sources: [v.source],
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
    });
  });
  afterAll(async () => {
    await server?.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('serves a split file whole and by ranges that cross part boundaries', async () => {
    const p = '/github.com/etcd-io/etcd/releases/download/v3.5.25/etcd.tar.gz';
    expect((await request(server.filesUrl, p)).body.equals(big)).toBe(true);
    const r = await request(server.filesUrl, p, { headers: { Range: 'bytes=65530-131080' } });
    expect(r.status).toBe(206);
    expect(r.body.equals(big.subarray(65530, 131081))).toBe(true);
    expect(Number((await request(server.filesUrl, p, { method: 'HEAD' })).headers['content-length'])).toBe(
      big.length,
    );
  });

  it('serves a split layer blob with its digest', async () => {
    const r = await request(server.registryUrl, `/v2/a/b/blobs/${layer[0]}`);
    expect(r.status).toBe(200);
    expect('sha256:' + hex(r.body)).toBe(layer[0]);
  });
});
