import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { downloadToFile } from '../../../src-main/core/fetch/download/download-file.js';
import { HttpClient } from '../../../src-main/core/fetch/download/http-client.js';
import { RawBodyError, RawRangeAgent } from '../../../src-main/core/fetch/download/raw-range.js';
import { pieceLayout } from '../../../src-main/core/fetch/download/segmented.js';
import { RangeHost } from '../../helpers/range-host.js';
import { closeServer } from '../../helpers/close-server.js';

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
    await closeServer(server);
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

describe('segmented downloads take the raw path where they may', () => {
  const MiB = 1 << 20;
  const SEG = { connections: 4, minBytes: 2 * MiB, pieceBytes: 512 << 10, firstPieceBytes: 256 << 10 };
  let host: RangeHost | undefined;
  let client: HttpClient | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    delete process.env.FERRY_RAW_RANGES;
    await client?.close();
    await host?.close();
  });
  const run = async (oddity?: 'wrongContentRange') => {
    host = await RangeHost.start(randomBytes(4 * MiB));
    host.oddity = oddity;
    client = new HttpClient({
      retry: { baseMs: 5, maxMs: 20, attempts: 3 },
      idleTimeoutMs: 3000,
      segments: SEG,
    });
    const spy = vi.spyOn(RawRangeAgent.prototype, 'get');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-raw-seg-'));
    try {
      const r = await downloadToFile(client, {
        url: host.url,
        dest: path.join(dir, 'f.part'),
        expectSha256: host.sha256(),
        label: 'f',
      });
      // Pieces in flight when another's answer stops the download end as cancelled (rejected).
      const settled = await Promise.allSettled(spy.mock.results.map((x) => x.value as Promise<unknown>));
      const results = settled.map((x) =>
        x.status === 'fulfilled' ? (x.value as { kind: string }) : { kind: 'cancelled' },
      );
      return { r, results };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  it('every piece after the probe comes over a raw socket, and the file verifies', async () => {
    const { r, results } = await run();
    expect(r.sha256).toBe(host!.sha256());
    // 4 MiB: a 256 KiB probe (undici) and 8 pieces of 512 KiB, the last one shorter.
    expect(results.length).toBe(pieceLayout(4 * MiB, 256 << 10, 512 << 10).length - 1);
    expect(results.every((x) => x.kind === 'body')).toBe(true);
  });

  it('a range it does not accept goes back to undici, whose checks then decide (one connection)', async () => {
    const { r, results } = await run('wrongContentRange');
    expect(r.sha256).toBe(host!.sha256());
    expect(results[0]).toMatchObject({ kind: 'fallback', answer: { status: 206 } });
    // Handed back at most once per connection (those already asking when the first answer came):
    // after that the download no longer tries the raw path.
    expect(results.filter((x) => x.kind === 'fallback').length).toBeLessThanOrEqual(SEG.connections);
    expect(results.some((x) => x.kind === 'body')).toBe(false);
  });

  it('FERRY_RAW_RANGES=0 keeps every piece on undici', async () => {
    process.env.FERRY_RAW_RANGES = '0';
    const { r, results } = await run();
    expect(r.sha256).toBe(host!.sha256());
    expect(results).toEqual([]);
  });
});
