import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ociBlobPath } from '../../../src-main/core/bundle/index.js';
import { openVerifiedBundle } from '../../../src-main/core/serve/verified-source.js';
import { OfflineServer } from '../../../src-main/core/serve/server.js';
import { makeImage, writeTestBundle, type TestImage } from '../../helpers/oci-fixtures.js';
import { rawRequest, request } from '../../helpers/http-get.js';

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

describe('registry served from a bundle', () => {
  let tmp: string;
  let server: OfflineServer;
  let R: string;
  let calico: TestImage;
  let nginx: TestImage;
  let fooQuay: TestImage;
  let fooHub: TestImage;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-reg-'));
    calico = makeImage();
    nginx = makeImage({ single: true });
    fooQuay = makeImage({ platforms: ['linux/amd64'] });
    fooHub = makeImage({ platforms: ['linux/amd64'] });
    await writeTestBundle(path.join(tmp, 'b'), {
      images: [
        { ref: 'quay.io/calico/node:v3.30.3', image: calico },
        { ref: 'docker.io/library/nginx:1.25', image: nginx },
        { ref: 'quay.io/foo/bar:1', image: fooQuay },
        { ref: 'docker.io/foo/bar:2', image: fooHub },
      ],
    });
    const v = await openVerifiedBundle(path.join(tmp, 'b'), { allowUnsigned: true, trusted: [] });
    server = await OfflineServer.start({
      sources: [v.source],
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
    });
    R = server.registryUrl;
  });
  afterAll(async () => {
    await server?.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('answers the API version check', async () => {
    const r = await request(R, '/v2/');
    expect(r.status).toBe(200);
    expect(r.headers['docker-distribution-api-version']).toBe('registry/2.0');
  });

  it('lists Kubespray-style names, and full names where two upstreams collide', async () => {
    const r = JSON.parse((await request(R, '/v2/_catalog')).body.toString());
    expect(r.repositories).toEqual(['calico/node', 'docker.io/foo/bar', 'library/nginx', 'quay.io/foo/bar']);
    expect(server.status().collisions).toEqual([
      { name: 'foo/bar', upstreams: ['docker.io/foo/bar', 'quay.io/foo/bar'] },
    ]);
  });

  it('paginates the catalog with n and last, and a Link header', async () => {
    const p1 = await request(R, '/v2/_catalog?n=2');
    expect(JSON.parse(p1.body.toString()).repositories).toEqual(['calico/node', 'docker.io/foo/bar']);
    expect(p1.headers.link).toContain('last=docker.io%2Ffoo%2Fbar');
    const p2 = JSON.parse((await request(R, '/v2/_catalog?n=2&last=docker.io/foo/bar')).body.toString());
    expect(p2.repositories).toEqual(['library/nginx', 'quay.io/foo/bar']);
    expect((await request(R, '/v2/_catalog?n=-1')).status).toBe(400);
  });

  it('lists tags', async () => {
    const r = JSON.parse((await request(R, '/v2/calico/node/tags/list')).body.toString());
    expect(r).toEqual({ name: 'calico/node', tags: ['v3.30.3'] });
  });

  it('serves a manifest by tag and by digest with type, digest and length, byte-identical', async () => {
    for (const ref of ['v3.30.3', calico.digest]) {
      const r = await request(R, `/v2/calico/node/manifests/${ref}`);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('application/vnd.oci.image.index.v1+json');
      expect(r.headers['docker-content-digest']).toBe(calico.digest);
      expect(sha(r.body)).toBe(calico.digest);
      expect(Number(r.headers['content-length'])).toBe(r.body.length);
      const h = await request(R, `/v2/calico/node/manifests/${ref}`, { method: 'HEAD' });
      expect(h.status).toBe(200);
      expect(h.body.length).toBe(0);
      expect(h.headers['content-length']).toBe(r.headers['content-length']);
      expect(h.headers['docker-content-digest']).toBe(calico.digest);
    }
    const child = calico.platforms.get('linux/arm64')!;
    const c = await request(R, `/v2/calico/node/manifests/${child}`);
    expect(c.status).toBe(200);
    expect(c.headers['content-type']).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(sha(c.body)).toBe(child);
  });

  it('serves original names through containerd mirror requests (?ns=) and full names', async () => {
    const m = await request(R, '/v2/calico/node/manifests/v3.30.3?ns=quay.io');
    expect(m.headers['docker-content-digest']).toBe(calico.digest);
    expect(
      (await request(R, '/v2/library/nginx/manifests/1.25?ns=docker.io')).headers['docker-content-digest'],
    ).toBe(nginx.digest);
    expect(
      (await request(R, '/v2/nginx/manifests/1.25?ns=registry-1.docker.io')).headers['docker-content-digest'],
    ).toBe(nginx.digest);
    expect(
      (await request(R, '/v2/quay.io/calico/node/manifests/v3.30.3')).headers['docker-content-digest'],
    ).toBe(calico.digest);
    // The wrong upstream does not find it: mirror names are exact.
    expect((await request(R, '/v2/calico/node/manifests/v3.30.3?ns=ghcr.io')).status).toBe(404);
  });

  it('never merges colliding upstreams: the short name is refused, each original name works', async () => {
    const r = await request(R, '/v2/foo/bar/manifests/1');
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body.toString()).errors[0]).toMatchObject({ code: 'NAME_UNKNOWN' });
    expect(r.body.toString()).toContain('ambiguous');
    expect((await request(R, '/v2/foo/bar/manifests/1?ns=quay.io')).headers['docker-content-digest']).toBe(
      fooQuay.digest,
    );
    expect((await request(R, '/v2/foo/bar/manifests/2?ns=docker.io')).headers['docker-content-digest']).toBe(
      fooHub.digest,
    );
    expect((await request(R, '/v2/foo/bar/manifests/2?ns=quay.io')).status).toBe(404);
  });

  it('serves blobs whole, by HEAD and by Range', async () => {
    const [digest, bytes] = [...calico.blobs].find(([, b]) => b[0] === 0x1f)!;
    const g = await request(R, `/v2/calico/node/blobs/${digest}`);
    expect(g.status).toBe(200);
    expect(sha(g.body)).toBe(digest);
    expect(g.headers['docker-content-digest']).toBe(digest);
    const h = await request(R, `/v2/calico/node/blobs/${digest}`, { method: 'HEAD' });
    expect(Number(h.headers['content-length'])).toBe(bytes.length);
    const r = await request(R, `/v2/calico/node/blobs/${digest}`, { headers: { Range: 'bytes=10-19' } });
    expect(r.status).toBe(206);
    expect(r.headers['content-range']).toBe(`bytes 10-19/${bytes.length}`);
    expect(r.body.equals(bytes.subarray(10, 20))).toBe(true);
    const tail = await request(R, `/v2/calico/node/blobs/${digest}`, { headers: { Range: 'bytes=-5' } });
    expect(tail.body.equals(bytes.subarray(bytes.length - 5))).toBe(true);
  });

  it('keeps blobs to their repository: another image’s blob is unknown here', async () => {
    const [digest] = [...nginx.blobs][0];
    const r = await request(R, `/v2/calico/node/blobs/${digest}`);
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body.toString()).errors[0].code).toBe('BLOB_UNKNOWN');
  });

  it('answers malformed requests with the right 4xx and keeps running', async () => {
    const code = async (p: string, init?: { method?: string; headers?: Record<string, string> }) => {
      const r = await request(R, p, init);
      return [
        r.status,
        r.status < 500 && r.body.length ? JSON.parse(r.body.toString()).errors?.[0]?.code : undefined,
      ];
    };
    expect(await code('/v2/calico/node/blobs/sha256:xyz')).toEqual([400, 'DIGEST_INVALID']);
    expect(await code('/v2/calico/node/manifests/sha256:abc')).toEqual([400, 'DIGEST_INVALID']);
    expect(await code('/v2/calico/node/manifests/md5:abc')).toEqual([400, 'DIGEST_INVALID']);
    expect(await code('/v2/Calico/Node/tags/list')).toEqual([400, 'NAME_INVALID']);
    expect(await code('/v2/../../etc/passwd/manifests/x')).toEqual([400, 'NAME_INVALID']);
    expect(await code('/v2/calico/%2e%2e/manifests/x')).toEqual([400, 'NAME_INVALID']);
    expect(await code('/v2/calico/node/manifests/-bad')).toEqual([400, 'TAG_INVALID']);
    expect(await code('/v2/calico/node/manifests/v9')).toEqual([404, 'MANIFEST_UNKNOWN']);
    expect(await code('/v2/nothing/here/manifests/v1')).toEqual([404, 'NAME_UNKNOWN']);
    expect(await code(`/v2/calico/node/blobs/sha256:${'0'.repeat(64)}`)).toEqual([404, 'BLOB_UNKNOWN']);
    expect(await code('/v2/calico/node/manifests/v3.30.3', { method: 'PUT' })).toEqual([405, 'UNSUPPORTED']);
    expect(await code('/v2/calico/node/blobs/uploads/', { method: 'POST' })).toEqual([405, 'UNSUPPORTED']);
    expect(await code('/v2/calico/node/manifests/v3.30.3', { method: 'DELETE' })).toEqual([
      405,
      'UNSUPPORTED',
    ]);
    expect(await code('/v2/calico/node/manifests/v3.30.3?ns=bad%20host')).toEqual([400, 'NAME_INVALID']);
    const [digest] = [...calico.blobs].find(([, b]) => b[0] === 0x1f)!;
    const huge = await request(R, `/v2/calico/node/blobs/${digest}`, {
      headers: { Range: 'bytes=99999999999999999999999999-' },
    });
    expect(huge.status).toBe(416);
    expect(
      (await request(R, `/v2/calico/node/blobs/${digest}`, { headers: { Range: 'bytes=5000000-' } })).status,
    ).toBe(416);
    const garbage = await rawRequest(R, 'GARBAGE\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    const unknown = await rawRequest(R, 'BREW /v2/ HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(unknown).toMatch(/^HTTP\/1\.1 (400|405)/);
    expect((await request(R, '/v2/')).status).toBe(200);
  });

  it('counts requests and bytes per service and remembers recent clients', async () => {
    const before = server.status();
    const [digest, bytes] = [...calico.blobs].find(([, b]) => b[0] === 0x1f)!;
    await request(R, `/v2/calico/node/blobs/${digest}`);
    const after = server.status();
    expect(after.registry.requests).toBe(before.registry.requests + 1);
    expect(after.registry.bytes).toBe(before.registry.bytes + bytes.length);
    expect(after.clients[0]).toMatchObject({ address: '127.0.0.1' });
    expect(after.clients[0].lastPath).toContain(digest);
  });
});

describe('only verified content is served', () => {
  it('refuses a damaged bundle, and with allowDamaged leaves the damaged image out whole', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-dmg-'));
    try {
      const good = makeImage({ platforms: ['linux/amd64'] });
      const bad = makeImage({ platforms: ['linux/amd64'] });
      const dir = path.join(tmp, 'b');
      await writeTestBundle(dir, {
        images: [
          { ref: 'quay.io/a/good:1', image: good },
          { ref: 'quay.io/a/bad:1', image: bad },
        ],
      });
      const [layer] = [...bad.blobs].find(([, b]) => b[0] === 0x1f)!;
      const file = path.join(dir, ...ociBlobPath(layer).split('/'));
      const buf = await fs.readFile(file);
      buf[buf.length - 1] ^= 0xff;
      await fs.writeFile(file, buf);
      await expect(openVerifiedBundle(dir, { allowUnsigned: true, trusted: [] })).rejects.toMatchObject({
        code: 'INTEGRITY',
      });
      const v = await openVerifiedBundle(dir, { allowUnsigned: true, trusted: [], allowDamaged: true });
      expect(v.excluded).toEqual([ociBlobPath(layer)]);
      const s = await OfflineServer.start({
        sources: [v.source],
        listen: '127.0.0.1',
        filesPort: 0,
        registryPort: 0,
      });
      try {
        expect((await request(s.registryUrl, '/v2/a/good/manifests/1')).status).toBe(200);
        expect((await request(s.registryUrl, '/v2/a/bad/manifests/1')).status).toBe(404);
        expect((await request(s.registryUrl, `/v2/a/bad/blobs/${layer}`)).status).toBe(404);
        expect(s.status().skipped.map((x) => x.ref)).toEqual(['quay.io/a/bad:1']);
      } finally {
        await s.stop();
      }
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });

  it('serves an index whose bundle holds only some platforms, and 404s the missing ones', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-plat-'));
    try {
      const img = makeImage();
      const arm = img.platforms.get('linux/arm64')!;
      const dir = path.join(tmp, 'b');
      await writeTestBundle(dir, {
        images: [{ ref: 'registry.k8s.io/pause:3.10', image: img, omitBlobs: [arm] }],
      });
      const v = await openVerifiedBundle(dir, { allowUnsigned: true, trusted: [] });
      const s = await OfflineServer.start({
        sources: [v.source],
        listen: '127.0.0.1',
        filesPort: 0,
        registryPort: 0,
      });
      try {
        expect((await request(s.registryUrl, '/v2/pause/manifests/3.10')).status).toBe(200);
        expect(
          (await request(s.registryUrl, `/v2/pause/manifests/${img.platforms.get('linux/amd64')}`)).status,
        ).toBe(200);
        expect((await request(s.registryUrl, `/v2/pause/manifests/${arm}`)).status).toBe(404);
      } finally {
        await s.stop();
      }
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });

  it('reports a taken port as PORT_IN_USE naming the port', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-port-'));
    try {
      await writeTestBundle(path.join(tmp, 'b'), {
        images: [{ ref: 'quay.io/a/b:1', image: makeImage({ single: true }) }],
      });
      const v = await openVerifiedBundle(path.join(tmp, 'b'), { allowUnsigned: true, trusted: [] });
      const first = await OfflineServer.start({
        sources: [v.source],
        listen: '127.0.0.1',
        filesPort: 0,
        registryPort: 0,
      });
      try {
        const port = first.status().registry.port;
        const err = await OfflineServer.start({
          sources: [v.source],
          listen: '127.0.0.1',
          filesPort: 0,
          registryPort: port,
        }).catch((e) => e);
        expect(err).toMatchObject({ code: 'PORT_IN_USE' });
        expect(err.message).toContain(String(port));
      } finally {
        await first.stop();
      }
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });
});
