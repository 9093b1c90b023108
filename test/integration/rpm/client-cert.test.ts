import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rpmClientTls } from '../../../src-main/cli/os-packages.js';
import { HttpClient } from '../../../src-main/core/fetch/download/http-client.js';
import { osPackagesSettings } from '../../../src-main/core/kinds/deb/plan-request.js';
import { loadRepomd } from '../../../src-main/core/kinds/rpm/repomd.js';
import { lacks } from '../../helpers/tools.js';
import { mutualTlsServerOptions, writeMutualTlsCerts } from '../../helpers/mtls-certs.js';

/**
 * Red Hat's CDN and a Satellite answer only a client that shows an entitlement certificate
 * (mutual TLS), under a CA of their own. A loopback HTTPS server that requires a client
 * certificate stands in: with --client-cert/--client-key/--rpm-ca the repomd is read; without
 * the certificate the handshake is refused, and nothing is read.
 */
describe.skipIf(lacks('openssl'))('RPM repositories behind mutual TLS', () => {
  let dir: string;
  let server: https.Server;
  let url: string;
  const f = (n: string) => path.join(dir, n);

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpm-plan-mtls-'));
    writeMutualTlsCerts(dir, 'Test Entitlement CA');
    const repomd = `<?xml version="1.0"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>7</revision><data type="primary"><checksum type="sha256">${'a'.repeat(64)}</checksum><location href="repodata/p.xml.gz"/><size>1</size></data></repomd>\n`;
    server = https.createServer(mutualTlsServerOptions(dir), (req, res) => {
      if (req.url === '/content/rhel9/baseos/x86_64/os/repodata/repomd.xml') res.writeHead(200).end(repomd);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const settings = (cert: boolean) =>
    osPackagesSettings({
      os: ['rhel-9'],
      rpmRepos: [`rhel-9=${url}/content/rhel9/$repoid/$basearch/os`],
      rpmCa: f('ca.pem'),
      ...(cert ? { clientCert: f('client.pem'), clientKey: f('client.key') } : {}),
    });
  const repo = () => ({
    id: 'baseos',
    baseurl: `${url}/content/rhel9/baseos/x86_64/os`,
    label: 'rhel-9 baseos x86_64',
  });

  it('gives the certificate to the repositories’ host only, and reads the repomd through it', async () => {
    const tls = await rpmClientTls(settings(true));
    expect(Object.keys(tls ?? {})).toEqual([new URL(url).host]);
    const client = new HttpClient({ tls: tls!, retry: { attempts: 1 } });
    try {
      const r = await loadRepomd({ client, cacheDir: f('cache') }, repo(), []);
      expect(r.repomd.revision).toBe('7');
      expect(r.signed).toBe(false);
    } finally {
      await client.close();
    }
  });

  it('without the client certificate the host refuses the connection', async () => {
    const client = new HttpClient({ tls: (await rpmClientTls(settings(false)))!, retry: { attempts: 1 } });
    try {
      await expect(loadRepomd({ client, cacheDir: f('cache2') }, repo(), [])).rejects.toMatchObject({
        message: expect.stringMatching(/certificate required/i),
      });
    } finally {
      await client.close();
    }
  });
});
