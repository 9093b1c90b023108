import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openVerifiedBundle } from '../../../src-main/core/serve/verified-source.js';
import { OfflineServer } from '../../../src-main/core/serve/server.js';
import { parseRange } from '../../../src-main/core/serve/fileserver/send.js';
import { writeTestBundle } from '../../helpers/oci-fixtures.js';
import { rawRequest, request } from '../../helpers/http-get.js';

const ETCD = 'https://github.com/etcd-io/etcd/releases/download/v3.5.25/etcd-v3.5.25-linux-amd64.tar.gz';
const KUBEADM = 'https://dl.k8s.io/release/v1.33.7/bin/linux/amd64/kubeadm';
const CRDS = 'https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml';

describe('file server (files_repo) from a bundle', () => {
  let tmp: string;
  let dir: string;
  let server: OfflineServer;
  let F: string;
  const etcd = randomBytes(300_000);
  const kubeadm = randomBytes(1000);

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-fs-'));
    dir = path.join(tmp, 'b');
    await writeTestBundle(dir, {
      files: [
        { url: ETCD, content: etcd },
        { url: KUBEADM, content: kubeadm },
        { url: CRDS, content: Buffer.from('kind: CustomResourceDefinition\n') },
      ],
      kubespray: { version: 'v2.29.1', tarball: randomBytes(500) },
    });
    const v = await openVerifiedBundle(dir, { allowUnsigned: true, trusted: [] });
    server = await OfflineServer.start({
      sources: [v.source],
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
    });
    F = server.filesUrl;
  });
  afterAll(async () => {
    await server?.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('serves files/<host>/<path> at /<host>/<path>, the way Kubespray asks for {{ github_url }}/…', async () => {
    const r = await request(F, new URL(ETCD).pathname.replace(/^/, '/github.com'));
    expect(r.status).toBe(200);
    expect(r.body.equals(etcd)).toBe(true);
    expect(r.headers['content-type']).toBe('application/gzip');
    expect(r.headers['etag']).toBe(`"sha256:${createHash('sha256').update(etcd).digest('hex')}"`);
    expect(Date.parse(String(r.headers['last-modified']))).not.toBeNaN();
    expect(
      (await request(F, '/dl.k8s.io/release/v1.33.7/bin/linux/amd64/kubeadm')).body.equals(kubeadm),
    ).toBe(true);
    expect(
      (
        await request(
          F,
          '/github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml',
        )
      ).headers['content-type'],
    ).toBe('application/yaml');
  });

  it('answers HEAD with the length and no body', async () => {
    const r = await request(F, '/dl.k8s.io/release/v1.33.7/bin/linux/amd64/kubeadm', { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(Number(r.headers['content-length'])).toBe(kubeadm.length);
    expect(r.body.length).toBe(0);
  });

  it('serves byte ranges, and 416 for ranges outside the file', async () => {
    const p = '/github.com/etcd-io/etcd/releases/download/v3.5.25/etcd-v3.5.25-linux-amd64.tar.gz';
    const r = await request(F, p, { headers: { Range: 'bytes=1000-1999' } });
    expect(r.status).toBe(206);
    expect(r.headers['content-range']).toBe(`bytes 1000-1999/${etcd.length}`);
    expect(r.body.equals(etcd.subarray(1000, 2000))).toBe(true);
    const open = await request(F, p, { headers: { Range: `bytes=${etcd.length - 10}-` } });
    expect(open.body.equals(etcd.subarray(etcd.length - 10))).toBe(true);
    expect((await request(F, p, { headers: { Range: `bytes=${etcd.length}-` } })).status).toBe(416);
    expect(
      (await request(F, p, { headers: { Range: 'bytes=123456789012345678901234567890-' } })).status,
    ).toBe(416);
    // A stale If-Range means the client's partial copy is of another file: send it whole.
    expect(
      (await request(F, p, { headers: { Range: 'bytes=0-9', 'If-Range': '"sha256:other"' } })).status,
    ).toBe(200);
  });

  it('honours If-None-Match and If-Modified-Since', async () => {
    const p = '/dl.k8s.io/release/v1.33.7/bin/linux/amd64/kubeadm';
    const first = await request(F, p);
    expect((await request(F, p, { headers: { 'If-None-Match': String(first.headers.etag) } })).status).toBe(
      304,
    );
    expect(
      (await request(F, p, { headers: { 'If-Modified-Since': String(first.headers['last-modified']) } }))
        .status,
    ).toBe(304);
    expect((await request(F, p, { headers: { 'If-None-Match': '"sha256:nope"' } })).status).toBe(200);
  });

  it('has an index page per directory and redirects a directory without its slash', async () => {
    const root = (await request(F, '/')).body.toString();
    expect(root).toContain('href="dl.k8s.io/"');
    expect(root).toContain('href="github.com/"');
    expect(root).toContain('href="kubespray/"');
    const sub = await request(F, '/dl.k8s.io/release/v1.33.7/bin/linux/amd64/');
    expect(sub.headers['content-type']).toContain('text/html');
    expect(sub.body.toString()).toContain('href="kubeadm"');
    const redirect = await request(F, '/dl.k8s.io');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('/dl.k8s.io/');
  });

  it('serves the Kubespray tarball under /kubespray/', async () => {
    const r = await request(F, '/kubespray/kubespray-v2.29.1.tar.gz');
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(500);
  });

  it('refuses traversal, encoded traversal and writes', async () => {
    expect(
      await rawRequest(F, 'GET /../manifest.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    ).toMatch(/^HTTP\/1\.1 400/);
    expect((await request(F, '/github.com/%2e%2e/%2e%2e/manifest.json')).status).toBe(400);
    expect((await request(F, '/github.com/..%2f..%2fmanifest.json')).status).toBe(400);
    expect((await request(F, '/%E0%A4%A')).status).toBe(400);
    expect((await request(F, '/manifest.json')).status).toBe(404);
    expect((await request(F, '/images/index.json')).status).toBe(404);
    const put = await request(F, '/dl.k8s.io/x', { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, HEAD');
  });

  it('never serves a file the manifest does not list, nor follows a symlink planted after verification', async () => {
    await fs.writeFile(path.join(dir, 'files', 'dl.k8s.io', 'planted'), 'x');
    expect((await request(F, '/dl.k8s.io/planted')).status).toBe(404);
    const target = path.join(
      dir,
      'files',
      'dl.k8s.io',
      'release',
      'v1.33.7',
      'bin',
      'linux',
      'amd64',
      'kubeadm',
    );
    await fs.rename(target, target + '.orig');
    await fs.symlink('/etc/passwd', target);
    try {
      const r = await request(F, '/dl.k8s.io/release/v1.33.7/bin/linux/amd64/kubeadm');
      expect(r.status).toBe(404);
      expect(r.body.toString()).not.toContain('root:');
    } finally {
      await fs.rm(target);
      await fs.rename(target + '.orig', target);
    }
  });

  it('refuses to serve a file whose size changed since verification', async () => {
    const target = path.join(
      dir,
      'files',
      'dl.k8s.io',
      'release',
      'v1.33.7',
      'bin',
      'linux',
      'amd64',
      'kubeadm',
    );
    await fs.appendFile(target, 'tampered');
    try {
      expect((await request(F, '/dl.k8s.io/release/v1.33.7/bin/linux/amd64/kubeadm')).status).toBe(500);
    } finally {
      await fs.truncate(target, kubeadm.length);
    }
  });
});

describe('Range parsing', () => {
  it('reads single ranges and rejects what misses the file', () => {
    expect(parseRange('bytes=0-0', 10)).toEqual({ start: 0, end: 0 });
    expect(parseRange('bytes=5-', 10)).toEqual({ start: 5, end: 9 });
    expect(parseRange('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
    expect(parseRange('bytes=-30', 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=2-100', 10)).toEqual({ start: 2, end: 9 });
    expect(parseRange('bytes=10-', 10)).toBe('unsatisfiable');
    expect(parseRange('bytes=5-2', 10)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 10)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-1,3-4', 10)).toBeUndefined();
    expect(parseRange('items=0-1', 10)).toBeUndefined();
    expect(parseRange(undefined, 10)).toBeUndefined();
  });
});
