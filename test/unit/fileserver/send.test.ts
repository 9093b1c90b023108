import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendFile } from '../../../src-main/core/serve/fileserver/send.js';
import { request } from '../../helpers/http-get.js';

/** sendFile on its own: bodies larger than its read buffers, many at once, with and without a byte counter. */
describe('sendFile', () => {
  let tmp: string;
  let server: http.Server;
  let base: string;
  // Several read chunks each, and sizes that do not divide evenly, so reused buffers show up in any mix-up.
  const bodies = [randomBytes(3 * 1024 * 1024 + 7), randomBytes(2 * 1024 * 1024 - 3), randomBytes(5)];
  const counted: number[] = [];

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-send-'));
    for (const [i, b] of bodies.entries()) await fs.writeFile(path.join(tmp, String(i)), b);
    server = http.createServer((req, res) => {
      const [, which, counter] = (req.url ?? '').split('/');
      const i = Number(which);
      void sendFile(req, res, {
        file: path.join(tmp, String(i)),
        size: bodies[i].length,
        contentType: 'application/octet-stream',
        ...(counter === 'count' ? { onBytes: (n: number) => counted.push(n) } : {}),
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('sends the whole body even when no byte counter is given', async () => {
    const r = await request(base, '/0/plain');
    expect(r.status).toBe(200);
    expect(r.body.equals(bodies[0])).toBe(true);
  });

  it('serves many overlapping requests without mixing up their bytes', async () => {
    const replies = await Promise.all(Array.from({ length: 12 }, (_, k) => request(base, `/${k % 3}/count`)));
    for (const [k, r] of replies.entries()) expect(r.body.equals(bodies[k % 3])).toBe(true);
    expect(counted.reduce((a, b) => a + b, 0)).toBe(4 * bodies.reduce((a, b) => a + b.length, 0));
  });

  it('sends a range that spans read chunks', async () => {
    const r = await request(base, '/0/plain', { headers: { Range: 'bytes=1048570-2097160' } });
    expect(r.status).toBe(206);
    expect(r.body.equals(bodies[0].subarray(1048570, 2097161))).toBe(true);
  });

  it('refuses a file that became shorter than verified instead of sending short content', async () => {
    const short = path.join(tmp, 'short');
    await fs.writeFile(short, bodies[1].subarray(0, 1000));
    const s = http.createServer((req, res) => {
      void sendFile(req, res, { file: short, size: bodies[1].length, contentType: 'x/y' });
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const r = await request(`http://127.0.0.1:${(s.address() as { port: number }).port}`, '/');
    await new Promise((done) => s.close(done));
    expect(r.status).toBe(500);
  });
});
