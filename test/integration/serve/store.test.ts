import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBundle } from '../../../src-main/core/media/import/index.js';
import { OfflineServer } from '../../../src-main/core/serve/server.js';
import { storeSources } from '../../../src-main/core/media/store/index.js';
import { makeImage, writeTestBundle, type TestImage } from '../../helpers/oci-fixtures.js';
import { request } from '../../helpers/http-get.js';
import { lacks } from '../../helpers/tools.js';
import { run } from './tools.js';

describe('serving the local store (several imported bundles at once)', () => {
  let tmp: string;
  let server: OfflineServer;
  let a: TestImage;
  let b: TestImage;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-serve-store-'));
    a = makeImage();
    b = makeImage({ platforms: ['linux/amd64'] });
    await writeTestBundle(path.join(tmp, 'b1'), {
      images: [{ ref: 'quay.io/calico/node:v3.30.3', image: a }],
      files: [
        {
          url: 'https://dl.k8s.io/release/v1.33.7/bin/linux/amd64/kubeadm',
          content: Buffer.from('kubeadm-1'),
        },
      ],
    });
    await writeTestBundle(path.join(tmp, 'b2'), {
      images: [{ ref: 'registry.k8s.io/pause:3.10', image: b }],
      files: [{ url: 'https://get.helm.sh/helm-v3.18.4-linux-amd64.tar.gz', content: Buffer.from('helm') }],
    });
    const store = path.join(tmp, 'store');
    for (const d of ['b1', 'b2']) await importBundle(path.join(tmp, d), { store, allowUnsigned: true });
    server = await OfflineServer.start({
      sources: await storeSources(store),
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
      advertise: '127.0.0.1',
    });
  });
  afterAll(async () => {
    await server?.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('serves the images and files of every imported bundle', async () => {
    expect(
      (await request(server.registryUrl, '/v2/calico/node/manifests/v3.30.3')).headers[
        'docker-content-digest'
      ],
    ).toBe(a.digest);
    expect(
      (await request(server.registryUrl, '/v2/pause/manifests/3.10')).headers['docker-content-digest'],
    ).toBe(b.digest);
    expect(
      (await request(server.filesUrl, '/dl.k8s.io/release/v1.33.7/bin/linux/amd64/kubeadm')).body.toString(),
    ).toBe('kubeadm-1');
    expect(
      (await request(server.filesUrl, '/get.helm.sh/helm-v3.18.4-linux-amd64.tar.gz')).body.toString(),
    ).toBe('helm');
  });

  it.skipIf(lacks('skopeo'))(
    'skopeo copies an image out of the store-backed registry with its digest',
    async () => {
      await run('skopeo', [
        'copy',
        '--all',
        '--src-tls-verify=false',
        `docker://${server.registryHost}/calico/node:v3.30.3`,
        `oci:${path.join(tmp, 'out')}:x`,
      ]);
      const idx = JSON.parse(await fs.readFile(path.join(tmp, 'out', 'index.json'), 'utf8'));
      expect(idx.manifests[0].digest).toBe(a.digest);
    },
  );
});
