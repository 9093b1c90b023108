import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/main.js';
import { makeImage, writeTestBundle } from '../../helpers/oci-fixtures.js';
import { lacks } from '../../helpers/tools.js';
import { freePort, run } from './tools.js';

function capture() {
  const s = new PassThrough();
  let text = '';
  s.on('data', (c) => (text += c.toString()));
  return { stream: s, text: () => text };
}

async function until(cond: () => boolean, ms = 30_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('ferry serve (CLI)', () => {
  let tmp: string;
  const big = randomBytes(3 * 1024 * 1024 + 17);
  const env = () => ({ ...process.env, FERRY_CONFIG_DIR: path.join(tmp, 'config') });

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-serve-cli-'));
    await writeTestBundle(path.join(tmp, 'b'), {
      images: [{ ref: 'quay.io/calico/node:v3.30.3', image: makeImage() }],
      files: [
        {
          url: 'https://github.com/etcd-io/etcd/releases/download/v3.5.25/etcd-v3.5.25-linux-amd64.tar.gz',
          content: big,
        },
      ],
    });
  });
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('prints URLs and variables, logs requests, serves Range requests to curl, stops on the signal', async () => {
    const out = capture();
    const err = capture();
    const ac = new AbortController();
    const [fp, rp] = [await freePort(), await freePort()];
    const done = runCli(
      [
        'serve',
        '--bundle',
        path.join(tmp, 'b'),
        '--allow-unsigned',
        '--listen',
        '127.0.0.1',
        '--files-port',
        String(fp),
        '--registry-port',
        String(rp),
      ],
      {
        stdout: out.stream,
        stderr: err.stream,
        env: env(),
        signal: ac.signal,
      },
    );
    await until(() => out.text().includes('Press Ctrl-C'));
    expect(out.text()).toContain(`Files:    http://127.0.0.1:${fp}/`);
    expect(out.text()).toContain(`Registry: http://127.0.0.1:${rp}`);
    expect(out.text()).toContain(`registry_host: "127.0.0.1:${rp}"`);
    expect(out.text()).toContain(`files_repo: "http://127.0.0.1:${fp}"`);
    if (!lacks('curl')) {
      const url = `http://127.0.0.1:${fp}/github.com/etcd-io/etcd/releases/download/v3.5.25/etcd-v3.5.25-linux-amd64.tar.gz`;
      const part = path.join(tmp, 'part');
      await run('curl', ['-sf', '-r', '1000000-1000099', '-o', part, url]);
      expect((await fs.readFile(part)).equals(big.subarray(1000000, 1000100))).toBe(true);
      // Resume a cut download the way Kubespray's get_url retries do with curl -C.
      await fs.writeFile(part, big.subarray(0, 2_000_000));
      await run('curl', ['-sf', '-C', '-', '-o', part, url]);
      expect((await fs.readFile(part)).equals(big)).toBe(true);
    }
    await until(() => /GET \/github\.com\/etcd-io\S+ 206/.test(err.text()));
    ac.abort();
    expect(await done).toBe(0);
    expect(out.text()).toMatch(/Stopped\. \d+ requests/);
  });

  it('with --json prints only JSON lines on stdout', async () => {
    const out = capture();
    const ac = new AbortController();
    const done = runCli(
      [
        'serve',
        '--json',
        '--bundle',
        path.join(tmp, 'b'),
        '--allow-unsigned',
        '--listen',
        '127.0.0.1',
        '--files-port',
        '0',
        '--registry-port',
        '0',
      ],
      {
        stdout: out.stream,
        stderr: capture().stream,
        env: env(),
        signal: ac.signal,
      },
    );
    await until(() => out.text().includes('"ready"'));
    const ready = JSON.parse(out.text().trim().split('\n')[0]);
    expect(ready.event).toBe('ready');
    expect(ready.status.images).toBe(1);
    ac.abort();
    expect(await done).toBe(0);
    for (const line of out.text().trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('names the port that is taken and exits 3', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    const err = capture();
    try {
      const code = await runCli(
        [
          'serve',
          '--bundle',
          path.join(tmp, 'b'),
          '--allow-unsigned',
          '--listen',
          '127.0.0.1',
          '--files-port',
          String(port),
          '--registry-port',
          '0',
        ],
        {
          stdout: capture().stream,
          stderr: err.stream,
          env: env(),
          signal: new AbortController().signal,
        },
      );
      expect(code).toBe(3);
      expect(err.text()).toContain(`Port ${port} (files) is already in use`);
    } finally {
      blocker.close();
    }
  });

  it('refuses an unsigned bundle unless told, and bad flags are usage errors', async () => {
    const err = capture();
    const code = await runCli(
      ['serve', '--bundle', path.join(tmp, 'b'), '--files-port', '0', '--registry-port', '0'],
      {
        stdout: capture().stream,
        stderr: err.stream,
        env: env(),
        signal: new AbortController().signal,
      },
    );
    expect(code).toBe(1);
    expect(err.text()).toContain('not signed');
    const usage = await runCli(['serve', '--bundle', path.join(tmp, 'b'), '--files-port', '70000'], {
      stdout: capture().stream,
      stderr: capture().stream,
      env: env(),
      signal: new AbortController().signal,
    });
    expect(usage).toBe(2);
    const both = await runCli(['serve', '--bundle', path.join(tmp, 'b'), '--store', tmp], {
      stdout: capture().stream,
      stderr: capture().stream,
      env: env(),
      signal: new AbortController().signal,
    });
    expect(both).toBe(2);
    // Naming nothing serves the default store, which says plainly that nothing was imported yet.
    const noneErr = capture();
    const none = await runCli(['serve'], {
      stdout: capture().stream,
      stderr: noneErr.stream,
      env: { ...env(), FERRY_DATA_DIR: path.join(tmp, 'data') },
      signal: new AbortController().signal,
    });
    expect(none).toBe(3);
    expect(noneErr.text()).toContain(path.join(tmp, 'data', 'store'));
    expect(noneErr.text()).toContain('ferry import');
  });

  it('--tls serves HTTPS with the kept CA, which curl trusts', async () => {
    const out = capture();
    const ac = new AbortController();
    const done = runCli(
      [
        'serve',
        '--bundle',
        path.join(tmp, 'b'),
        '--allow-unsigned',
        '--listen',
        '127.0.0.1',
        '--files-port',
        '0',
        '--registry-port',
        '0',
        '--tls',
        '--hostname',
        '127.0.0.1',
      ],
      {
        stdout: out.stream,
        stderr: capture().stream,
        env: env(),
        signal: ac.signal,
      },
    );
    await until(() => out.text().includes('Press Ctrl-C'));
    const reg = /Registry: (https:\/\/127\.0\.0\.1:\d+)/.exec(out.text())![1];
    const ca = path.join(tmp, 'config', 'tls', 'ca.crt');
    expect(out.text()).toContain(`CA:       ${ca}`);
    if (!lacks('curl'))
      expect(await run('curl', ['-sf', '--cacert', ca, `${reg}/v2/calico/node/tags/list`])).toContain(
        'v3.30.3',
      );
    ac.abort();
    expect(await done).toBe(0);
  });

  it('--tls-cert/--tls-key serve the user’s own certificate and hand out its CA', async () => {
    const { ensureServerCert } = await import('../../../src-main/core/serve/tls/ca.js');
    const own = await ensureServerCert(path.join(tmp, 'own-pki'), ['127.0.0.1']);
    const out = capture();
    const ac = new AbortController();
    const done = runCli(
      [
        'serve',
        '--bundle',
        path.join(tmp, 'b'),
        '--allow-unsigned',
        '--listen',
        '127.0.0.1',
        '--files-port',
        '0',
        '--registry-port',
        '0',
        '--hostname',
        '127.0.0.1',
        '--tls-cert',
        own.certFile,
        '--tls-key',
        path.join(tmp, 'own-pki', 'server.key'),
        '--tls-ca',
        own.caFile!,
      ],
      { stdout: out.stream, stderr: capture().stream, env: env(), signal: ac.signal },
    );
    await until(() => out.text().includes('Press Ctrl-C'));
    const files = /Files: +(https:\/\/127\.0\.0\.1:\d+)/.exec(out.text())![1];
    if (!lacks('curl'))
      expect(await run('curl', ['-sf', '--cacert', own.caFile!, `${files}/ca.crt`])).toBe(own.ca);
    ac.abort();
    expect(await done).toBe(0);
    const bad = await runCli(
      ['serve', '--bundle', path.join(tmp, 'b'), '--allow-unsigned', '--tls-cert', own.certFile],
      {
        stdout: capture().stream,
        stderr: capture().stream,
        env: env(),
        signal: new AbortController().signal,
      },
    );
    expect(bad).toBe(2);
  });
});
