import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preflight, registryProbeUrls } from '../../../src-main/core/deploy/preflight.js';
import { ensureServerCert } from '../../../src-main/core/serve/tls/ca.js';

/**
 * The deploy host's checks of Ferry's services: the registry is probed over its own scheme (what
 * offline.yml tells containerd), never files_repo's. Ferry serves plain-HTTP files beside a TLS
 * registry and the reverse, and a probe in the wrong scheme would stop a good deploy.
 */

function v2Server(server: http.Server): Promise<string> {
  server.on('request', (req, res) => {
    res.writeHead(req.url === '/v2/' ? 200 : 404, { 'docker-distribution-api-version': 'registry/2.0' });
    res.end('{}');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

function mirrorsFor(addr: string, scheme: string) {
  return `containerd_registries_mirrors:
  - prefix: ${addr}
    mirrors:
      - host: ${scheme}://${addr}
        capabilities: [pull, resolve]
        skip_verify: false
`;
}

describe('preflight of Ferry’s registry', () => {
  let tmp: string;
  let plain: http.Server;
  let tls: https.Server;
  let plainAddr: string;
  let tlsAddr: string;
  let ca: string;
  let files: http.Server;
  let filesUrl: string;
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-pf-'));
    const m = await ensureServerCert(tmp, ['127.0.0.1']);
    ca = m.ca!;
    plain = http.createServer();
    plainAddr = await v2Server(plain);
    tls = https.createServer({ cert: m.cert, key: m.key });
    tlsAddr = await v2Server(tls);
    files = http.createServer((_q, r) => r.end('files'));
    filesUrl = `http://${await new Promise<string>((resolve) =>
      files.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(files.address() as AddressInfo).port}`)),
    )}`;
  });
  afterAll(async () => {
    for (const s of [plain, tls, files]) await new Promise((r) => s.close(r));
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('probes a plain-HTTP registry over HTTP although files_repo is HTTPS', async () => {
    // files_repo over HTTPS on the TLS server (it answers any path: 404 < 500 is "answers").
    const yml = `files_repo: "https://${tlsAddr}"\nregistry_host: "${plainAddr}"\nregistry_addr: "${plainAddr}"\n${mirrorsFor(plainAddr, 'http')}`;
    const checks = await preflight({ hosts: [], offlineYml: yml, caPem: ca, timeoutMs: 5000 });
    const reg = checks.find((c) => c.check === 'registry')!;
    expect(checks.find((c) => c.check === 'files')!.ok).toBe(true);
    expect(reg.ok, reg.detail).toBe(true);
    expect(reg.detail).toBe(`registry ${plainAddr} answers the OCI API`);
  });

  it('probes a TLS registry over HTTPS although files_repo is plain HTTP', async () => {
    const yml = `files_repo: "${filesUrl}"\nregistry_host: "${tlsAddr}"\nregistry_addr: "${tlsAddr}"\n${mirrorsFor(tlsAddr, 'https')}`;
    const checks = await preflight({ hosts: [], offlineYml: yml, caPem: ca, timeoutMs: 5000 });
    const reg = checks.find((c) => c.check === 'registry')!;
    expect(reg.ok, reg.detail).toBe(true);
  });

  it('names the registry’s own URL when it does not answer in its scheme', async () => {
    // offline.yml says HTTPS, but the server there speaks plain HTTP: the nodes would fail too.
    const yml = `files_repo: "${filesUrl}"\nregistry_host: "${plainAddr}"\n${mirrorsFor(plainAddr, 'https')}`;
    const checks = await preflight({ hosts: [], offlineYml: yml, caPem: ca, timeoutMs: 5000 });
    const reg = checks.find((c) => c.check === 'registry')!;
    expect(reg.ok).toBe(false);
    expect(reg.detail).toContain(`registry https://${plainAddr}/v2/ does not answer the OCI API`);
    expect(reg.fix).toMatch(/ferry serve/);
  });

  it('without a mirror entry tries HTTPS as containerd would, then HTTP', async () => {
    const yml = `files_repo: "${filesUrl}"\nregistry_host: "${plainAddr}/k8s"\n`;
    const checks = await preflight({ hosts: [], offlineYml: yml, caPem: ca, timeoutMs: 5000 });
    expect(checks.find((c) => c.check === 'registry')!.ok).toBe(true);
  });
});

describe('registryProbeUrls', () => {
  it('takes the scheme of the mirror entry for registry_addr and drops the path prefix', () => {
    expect(
      registryProbeUrls({
        files_repo: 'https://10.0.0.5:8080',
        registry_host: '10.0.0.5:5000/k8s',
        registry_addr: '10.0.0.5:5000',
        containerd_registries_mirrors: [
          { prefix: 'quay.io', mirrors: [{ host: 'http://10.0.0.5:5000/v2/k8s', override_path: true }] },
        ],
      }),
    ).toEqual(['http://10.0.0.5:5000/v2/']);
  });
  it('ignores mirrors of other registries and falls back to HTTPS, then HTTP', () => {
    expect(
      registryProbeUrls({
        files_repo: 'http://10.0.0.5:8080',
        registry_host: 'reg.example:5000',
        containerd_registries_mirrors: [{ prefix: 'x', mirrors: [{ host: 'http://other:5000' }] }],
      }),
    ).toEqual(['https://reg.example:5000/v2/', 'http://reg.example:5000/v2/']);
  });
});
