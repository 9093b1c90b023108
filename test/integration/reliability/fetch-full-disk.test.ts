import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyStore } from '../../../src-main/core/bundle/keys/index.js';
import { HttpClient } from '../../../src-main/core/fetch/download/http-client.js';
import { FileHost, makePlan } from '../../helpers/world/index.js';
import { fileSizes, lacksLoopExt4, runFerry, smallExt4, type SmallDisk } from './helpers.js';
import { closeServer } from '../../helpers/close-server.js';

/**
 * Issue 12 item 6: `ferry fetch` onto a disk that fills. It used to exit 0 with no summary: a
 * download whose response arrived when the disk was already full left its body unread, the
 * HTTP client's close waited for it for ever, the event loop drained and Node exited with the
 * default code before the CLI had set one.
 */

const MiB = 1 << 20;
// Files larger than the socket buffers: a response nobody reads then stays in flight (smaller
// ones arrive whole and hide the hang).
const FILES = 8;
/** Files only the second plan has: they start on a disk that is already full. */
const LATE = 2;
const FILE_SIZE = 8 * MiB;

/** Fill `dir`'s file system but for one 4 KiB block (so at most one new small file fits). */
async function fillAllButOneBlock(file: string): Promise<void> {
  const fh = await fs.open(file, 'w');
  let size = 0;
  try {
    for (const chunk of [MiB, 4096]) {
      const buf = Buffer.alloc(chunk, 2);
      for (;;) {
        try {
          const { bytesWritten } = await fh.write(buf, 0, chunk, size);
          size += bytesWritten;
          if (bytesWritten < chunk) break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
    await fh.truncate(size - (size % 4096));
    await fh.sync();
    await fh.truncate(size - (size % 4096) - 4096);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

describe.skipIf(lacksLoopExt4())('fetch onto a disk that fills (issue 12 item 6)', () => {
  let tmp: string;
  let host: FileHost;
  let disk: SmallDisk;
  let env: NodeJS.ProcessEnv;
  let planFile: string;
  let laterPlanFile: string;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-rel-fetch-disk-'));
    host = await FileHost.start();
    const files = Array.from({ length: FILES + LATE }, (_, i) => {
      const f = host.add(`/dl/f${i}.bin`, randomBytes(FILE_SIZE));
      return { key: `f${i}`, url: f.url, checksum: f.checksum };
    });
    planFile = path.join(tmp, 'plan.json');
    await fs.writeFile(planFile, JSON.stringify(makePlan({ files: files.slice(0, FILES) })));
    laterPlanFile = path.join(tmp, 'plan-later.json');
    await fs.writeFile(laterPlanFile, JSON.stringify(makePlan({ files })));
    env = {
      PATH: process.env.PATH,
      HOME: tmp,
      FERRY_CONFIG_DIR: path.join(tmp, 'config'),
      FERRY_DATA_DIR: path.join(tmp, 'data'),
    };
    await KeyStore.fromEnv(env).generate({ name: 'rel-fetch' });
    disk = await smallExt4(tmp, 128);
  });
  afterAll(async () => {
    disk?.release();
    await host?.close();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('exits 3 with NO_SPACE naming the folder and the space needed, then resumes once space is freed', async () => {
    // 64 MiB of plan against 20 MiB left beside a filler: the disk fills part-way.
    const filler = path.join(disk.mnt, 'filler');
    const st = await fs.statfs(disk.mnt);
    await fs.writeFile(filler, Buffer.alloc(st.bavail * st.bsize - 20 * MiB, 1));
    const out = path.join(disk.mnt, 'bundle');
    const args = (plan: string) => [
      'fetch',
      '--no-tools',
      '--plan',
      plan,
      '--out',
      out,
      '--concurrency',
      '2',
    ];

    const first = await runFerry(args(planFile), env);
    expect(first.code, first.err).toBe(3);
    expect(first.err).toContain(`ferry fetch: The disk holding ${out} is full`);
    expect(first.err).toMatch(/needs [\d.]+ MiB more/);
    expect(first.err).toMatch(/Summary: \d+ fetched, 0 already present, \d+ not finished/);
    expect(first.seconds).toBeLessThan(30);

    // Again, on a disk left with one free block, with a plan that has two files more: those meet
    // ENOSPC writing their sidecar, before a byte of their response body is read (the case that
    // hung: the unread bodies kept the client's close waiting, the event loop drained and Node
    // exited 0 with no summary). The JSON result carries the code and the exact need.
    const filler2 = path.join(disk.mnt, 'filler2');
    await fillAllButOneBlock(filler2);
    const second = await runFerry([...args(laterPlanFile), '--json'], env);
    expect(second.code, second.err).toBe(3);
    const last = JSON.parse(second.out.trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ type: 'failed', ok: false, error: { code: 'NO_SPACE', artifact: out } });
    // What the plan still needs: every file not yet in the bundle, less the partial bytes kept.
    const sizes = await fileSizes(out);
    const committed = [...sizes].filter(([p]) => p.startsWith('files/')).reduce((a, [, s]) => a + s, 0);
    const partial = [...sizes]
      .filter(([p]) => p.startsWith('.ferry-partial/resume/') && p.endsWith('.part'))
      .reduce((a, [, s]) => a + s, 0);
    expect(committed).toBeLessThan(FILES * FILE_SIZE);
    expect(last.error.details.neededBytes).toBe((FILES + LATE) * FILE_SIZE - committed - partial);
    expect(last.error.details.freeBytes).toBeLessThan(last.error.details.neededBytes);
    expect(last.error.message).toContain(out);
    expect(second.seconds).toBeLessThan(30);

    await fs.rm(filler);
    await fs.rm(filler2);
    const before = host.requests.length;
    const third = await runFerry(args(laterPlanFile), env);
    expect(third.code, third.err).toBe(0);
    expect(third.out).toContain('Signed with key');
    // Finished files were not fetched again, and partials continued with a Range.
    const again = host.requests.slice(before);
    expect(again.length, JSON.stringify(again.map((r) => [r.path, r.range, r.status]))).toBe(
      FILES + LATE - committed / FILE_SIZE,
    );
    if (partial > 0) expect(again.some((r) => r.range !== undefined && r.status === 206)).toBe(true);
    // The figures for the closing note.
    console.info(
      `full disk: exit ${first.code} in ${first.seconds} s, again exit ${second.code} in ${second.seconds} s ` +
        `(needed ${last.error.details.neededBytes} B, free ${last.error.details.freeBytes} B); ` +
        `after freeing: exit ${third.code} in ${third.seconds} s, ${again.length} requests`,
    );
    const verify = await runFerry(['verify', out], env);
    expect(verify.code, verify.out + verify.err).toBe(0);
  });
});

describe('closing the HTTP client after an aborted download (issue 12 item 6)', () => {
  it('settles within its bound when a response body was never read', async () => {
    // A server that sends headers and then a body that never ends.
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(64 * MiB) });
      res.write(Buffer.alloc(64 * 1024));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const client = new HttpClient({ closeTimeoutMs: 500 });
    const res = await client.send(`http://127.0.0.1:${port}/x`);
    expect(res.status).toBe(200);
    // The body is left parked, as a download that failed on its first write leaves it.
    const t0 = Date.now();
    const closed = await Promise.race([
      client.close().then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('hung'), 5000)),
    ]);
    expect(closed).toBe('closed');
    expect(Date.now() - t0).toBeLessThan(3000);
    await closeServer(server);
  });
});
