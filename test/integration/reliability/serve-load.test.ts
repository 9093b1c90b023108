import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OfflineServer } from '../../../src-main/core/serve/server.js';
import { openServeSources } from '../../../src-main/core/serve/sources.js';
import { makeImage, writeTestBundle } from '../../helpers/oci-fixtures.js';

const fds = async () => (await fs.readdir('/proc/self/fd')).length;
const BODY_BYTES = 64 * 1024 * 1024;
const URL_ = 'https://github.com/etcd-io/etcd/releases/download/v3.5.25/etcd-v3.5.25-linux-amd64.tar.gz';

describe('serve under load (issue 12 items 4-5)', () => {
  let tmp: string;
  let server: OfflineServer;
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  beforeAll(async () => {
    process.on('warning', onWarning);
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-rel-serve-'));
    await writeTestBundle(path.join(tmp, 'b'), {
      images: [{ ref: 'quay.io/calico/node:v3.30.3', image: makeImage() }],
      files: [{ url: URL_, content: Buffer.alloc(BODY_BYTES, 7) }],
    });
    const { sources } = await openServeSources({ bundle: path.join(tmp, 'b'), allowUnsigned: true });
    server = await OfflineServer.start({
      sources,
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
      timeouts: { headersMs: 500, requestMs: 1000, stallMs: 1500 },
    });
  });
  afterAll(async () => {
    process.off('warning', onWarning);
    await server?.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('500 pipelined GETs on one unread connection do not hold 500 descriptors', async () => {
    const before = await fds();
    const port = server.status().files.port;
    const sock = net.connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.pause(); // read nothing: every response but the first waits for its turn
    const one = `GET /github.com/etcd-io/etcd/releases/download/v3.5.25/etcd-v3.5.25-linux-amd64.tar.gz HTTP/1.1\r\nHost: x\r\n\r\n`;
    sock.write(one.repeat(500));
    await new Promise((r) => setTimeout(r, 1000));
    const during = await fds();
    expect(during - before).toBeLessThan(10);
    sock.destroy();
    await new Promise((r) => setTimeout(r, 500));
    expect((await fds()) - before).toBeLessThan(3);
    // Waiting responses share one close listener per socket: 32 waiting must not warn of a leak.
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual(
      [],
    );
  });

  it('a client that sends no request is answered 408 and closed', async () => {
    const sock = net.connect(server.status().files.port, '127.0.0.1');
    let got = '';
    sock.on('data', (c) => (got += c.toString()));
    await new Promise((r) => sock.once('close', r));
    expect(got).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a client that reads nothing is dropped after the stall timeout', async () => {
    // The body (64 MiB) cannot fit in the loopback socket buffers, so the server's writes stall
    // while the client reads nothing. After the stall timeout (1.5 s here) the server must have
    // dropped the connection mid-body: once the client starts reading again it gets less than
    // the whole file and then the close. Without the timeout it would get every byte.
    const sock = net.connect(server.status().files.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.pause();
    sock.write(
      `GET /github.com/etcd-io/etcd/releases/download/v3.5.25/etcd-v3.5.25-linux-amd64.tar.gz HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    await new Promise((r) => setTimeout(r, 4000));
    let received = 0;
    sock.on('data', (c: Buffer) => (received += c.length));
    sock.on('error', () => {});
    const closed = new Promise((r) => sock.once('close', r));
    sock.resume();
    await closed;
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(BODY_BYTES);
  });

  it('huge headers are 431, not 400', async () => {
    const sock = net.connect(server.status().files.port, '127.0.0.1');
    let got = '';
    sock.on('data', (c) => (got += c.toString()));
    sock.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`);
    await new Promise((r) => sock.once('close', r));
    expect(got).toMatch(/^HTTP\/1\.1 431/);
  });
});
