import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RawBodyError, RawRangeAgent } from '../../../src-main/core/fetch/download/raw-range.js';

/**
 * The cheap receive path for Range pieces: it takes only a plain 206 of the expected length and
 * hands everything else back to the ordinary client, so what it does take must land byte for
 * byte at the right offset, over kept-alive connections.
 */

const body = randomBytes(300_000);
type Mode = 'range' | 'whole' | 'chunked' | 'cut' | 'stall';

describe('raw range pieces', () => {
  let server: http.Server;
  let url: URL;
  let mode: Mode = 'range';
  let connections = 0;
  let seen: http.IncomingHttpHeaders[] = [];
  let tmp: string;
  let fd: number;
  const agent = new RawRangeAgent();

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-raw-'));
    server = http.createServer((req, res) => {
      seen.push(req.headers);
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (mode === 'whole' || !m) {
        res.writeHead(200, { 'content-length': body.length });
        return res.end(body);
      }
      const [a, b] = [Number(m[1]), Number(m[2])];
      const part = body.subarray(a, b + 1);
      const cr = `bytes ${a}-${b}/${body.length}`;
      if (mode === 'chunked') {
        res.writeHead(206, { 'content-range': cr });
        res.write(part);
        return res.end();
      }
      res.writeHead(206, { 'content-range': cr, 'content-length': part.length, etag: '"e1"' });
      if (mode === 'cut') return res.write(part.subarray(0, 100_000), () => res.destroy());
      if (mode === 'stall') return res.write(part.subarray(0, 10));
      res.end(part);
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/f.bin?x=1`);
  });
  afterAll(async () => {
    agent.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  afterEach(() => {
    if (fd !== undefined) fs.closeSync(fd);
  });
  const open = () => {
    mode = 'range';
    connections = 0;
    seen = [];
    const file = path.join(tmp, `p${Math.random()}`);
    fs.writeFileSync(file, '');
    fd = fs.openSync(file, 'r+');
    return file;
  };
  const get = (start: number, end: number, more: { accept?: () => boolean; signal?: AbortSignal } = {}) =>
    agent.get({
      url,
      headers: { range: `bytes=${start}-${end - 1}`, 'if-range': '"e1"' },
      fd,
      at: start,
      length: end - start,
      accept: more.accept ?? (() => true),
      signal: more.signal ?? new AbortController().signal,
      idleTimeoutMs: 500,
    });

  it('writes each piece at its offset, and the next piece reuses the connection', async () => {
    const file = open();
    let counted = 0;
    const a = await get(100_000, 300_000);
    const b = await agent.get({
      url,
      headers: { range: 'bytes=0-99999' },
      fd,
      at: 0,
      length: 100_000,
      accept: () => true,
      onBytes: (n) => (counted += n),
      signal: new AbortController().signal,
    });
    expect(a).toMatchObject({ kind: 'body', moved: 200_000, answer: { status: 206 } });
    expect(b).toMatchObject({ kind: 'body', moved: 100_000 });
    expect(counted).toBe(100_000);
    expect(fs.readFileSync(file).equals(body)).toBe(true);
    expect(connections).toBe(1);
    expect(seen[0]).toMatchObject({ range: 'bytes=100000-299999', 'if-range': '"e1"', host: url.host });
  });

  it('hands back a 200, a chunked 206 and a 206 the caller does not accept, writing nothing', async () => {
    const file = open();
    mode = 'whole';
    expect(await get(0, 1000)).toMatchObject({ kind: 'fallback', answer: { status: 200 } });
    mode = 'chunked';
    expect(await get(0, 1000)).toMatchObject({ kind: 'fallback', answer: { status: 206 } });
    mode = 'range';
    expect(await get(0, 1000, { accept: () => false })).toMatchObject({ kind: 'fallback' });
    expect(fs.statSync(file).size).toBe(0);
  });

  it('a body cut short reports how many of its bytes are in the file', async () => {
    const file = open();
    mode = 'cut';
    const err = (await get(0, 200_000).catch((e: unknown) => e)) as RawBodyError;
    expect(err).toBeInstanceOf(RawBodyError);
    expect(err.code).toBe('UND_ERR_SOCKET');
    expect(err.moved).toBeGreaterThan(0);
    expect(err.moved).toBeLessThanOrEqual(100_000);
    expect(fs.readFileSync(file).subarray(0, err.moved).equals(body.subarray(0, err.moved))).toBe(true);
  });

  it('a stalled body fails after the idle timeout, and a cancel stops it at once', async () => {
    open();
    mode = 'stall';
    await expect(get(0, 200_000)).rejects.toBeInstanceOf(RawBodyError);
    const ac = new AbortController();
    const p = get(0, 200_000, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });
});
