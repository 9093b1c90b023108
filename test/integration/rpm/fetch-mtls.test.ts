import { createHash } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/main.js';
import { readRpmHeader } from '../../../src-main/core/kinds/rpm/header.js';
import type { ResolvedRpm, ResolvedRpmSet } from '../../../src-main/core/kinds/rpm/set.js';
import { lacksRpmTools, rpmUpstream, type RpmUpstream } from '../../helpers/rpm-upstream.js';
import { lacks } from '../../helpers/tools.js';
import { mutualTlsServerOptions, writeMutualTlsCerts } from '../../helpers/mtls-certs.js';

/**
 * `ferry fetch --plan` of RHEL packages from a mirror behind mutual TLS (the CDN, a Satellite):
 * the synthetic signed upstream served over HTTPS under its own CA, requiring a client
 * certificate. With --client-cert/--client-key/--rpm-ca the .rpm files are downloaded (the plan's
 * hosts get the certificate, as planning's did); without the certificate the fetch fails naming
 * the host and --client-cert.
 */
describe.skipIf(lacksRpmTools(false) || lacks('openssl'))(
  'ferry fetch from an RPM mirror behind mutual TLS',
  () => {
    let up: RpmUpstream;
    let dir: string;
    let server: https.Server;
    let url: string;
    let planFile: string;
    const f = (n: string) => path.join(dir, n);

    beforeAll(async () => {
      up = await rpmUpstream();
      fs.mkdirSync('/tmp/rpm-mtls', { recursive: true });
      dir = fs.mkdtempSync('/tmp/rpm-mtls/fetch-');
      writeMutualTlsCerts(dir, 'Test CDN CA');
      // The upstream's own folder, over HTTPS that only a client with the certificate gets into.
      server = https.createServer(mutualTlsServerOptions(dir), (req, res) => {
        const p = path.join(up.root, decodeURIComponent((req.url ?? '/').split('?')[0]));
        if (!p.startsWith(up.root + path.sep) || !fs.existsSync(p) || !fs.statSync(p).isFile())
          return res.writeHead(404).end();
        res.writeHead(200, { 'content-length': fs.statSync(p).size });
        fs.createReadStream(p).pipe(res);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

      // A plan of BaseOS x86_64's packages as planning pins them, its source on the mTLS host.
      const base = up.repoUrl('BaseOS', 'x86_64');
      const packages: ResolvedRpm[] = [];
      for (const file of up.rpmFiles('BaseOS', 'x86_64')) {
        const h = await readRpmHeader(file);
        if (h.arch === 'i686') continue;
        const bytes = fs.readFileSync(file);
        packages.push({
          name: h.name,
          epoch: h.epoch ?? 0,
          version: h.version,
          release: h.release,
          arch: h.arch,
          source: 'baseos',
          repoArch: 'x86_64',
          location: path
            .relative(path.join(up.root, '9', 'BaseOS', 'x86_64', 'os'), file)
            .split(path.sep)
            .join('/'),
          sha256: createHash('sha256').update(bytes).digest('hex'),
          size: bytes.length,
          why: 'test',
        });
      }
      expect(packages.length).toBeGreaterThan(2);
      const set: ResolvedRpmSet = {
        os: 'rhel-9',
        arches: ['x86_64'],
        sources: [{ id: 'baseos', uri: base.replace(up.url, url), arch: 'x86_64', repomdSigned: true }],
        roots: [{ name: packages[0].name, why: 'test' }],
        packages,
        keys: [
          {
            file: 'RPM-GPG-KEY-Rocky-9-test',
            armored: fs.readFileSync(up.keyFile, 'utf8'),
            fingerprints: [up.keyFingerprint],
          },
        ],
      };
      planFile = f('plan.json');
      fs.writeFileSync(
        planFile,
        JSON.stringify({
          kubespray: 'v2.31.0',
          kubeVersion: '1.34.0',
          arches: ['amd64'],
          files: [],
          images: [],
          vars: {},
          rpms: [set],
        }),
      );
    }, 600_000);

    afterAll(async () => {
      await new Promise((r) => server?.close(r));
      await up?.close();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    const fetch = async (out: string, extra: string[]) => {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let text = '';
      stdout.on('data', (c) => (text += c));
      stderr.on('data', (c) => (text += c));
      const code = await runCli(['fetch', '--plan', planFile, '--out', f(out), '--no-tools', ...extra], {
        stdout,
        stderr,
        env: { FERRY_DATA_DIR: f('data'), FERRY_CONFIG_DIR: f('config'), HOME: dir },
        signal: new AbortController().signal,
      });
      return { code, text };
    };

    it('with --client-cert, --client-key and --rpm-ca the packages are fetched into the bundle', async () => {
      const r = await fetch('ok', [
        '--client-cert',
        f('client.pem'),
        '--client-key',
        f('client.key'),
        '--rpm-ca',
        f('ca.pem'),
      ]);
      expect(r.text).not.toMatch(/failed/i);
      expect(r.code).toBe(0);
      const rpms = fs
        .readdirSync(f('ok/repos/rhel-9/x86_64/Packages'), { recursive: true })
        .filter((p) => String(p).endsWith('.rpm'));
      expect(rpms.length).toBeGreaterThan(2);
      expect(fs.existsSync(f('ok/repos/rhel-9/x86_64/repodata/repomd.xml'))).toBe(true);
    }, 300_000);

    it('without the client certificate it fails naming the host and --client-cert', async () => {
      const r = await fetch('no-cert', ['--rpm-ca', f('ca.pem')]);
      expect(r.code).not.toBe(0);
      expect(r.text).toContain(`${new URL(url).host} requires a client certificate`);
      expect(r.text).toContain('--client-cert');
    }, 300_000);
  },
);
