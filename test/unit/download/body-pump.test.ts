import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { pumpBodyToFile } from '../../../src-main/core/fetch/download/body-pump.js';
import { HashWorkers, InlineHash } from '../../../src-main/core/fetch/download/hash-workers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-pump-'));
let n = 0;
const file = () => path.join(tmp, `f${n++}`);

/** A body that yields the given chunks, optionally failing after them. */
function body(chunks: Buffer[], fail?: Error): Readable {
  let i = 0;
  return new Readable({
    read() {
      if (i < chunks.length) this.push(chunks[i++]);
      else if (fail) this.destroy(fail);
      else this.push(null);
    },
  });
}

function split(buf: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  for (let k = 0; off < buf.length; k++) {
    const s = sizes[k % sizes.length];
    out.push(buf.subarray(off, off + s));
    off += s;
  }
  return out;
}

describe('pumpBodyToFile', () => {
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('writes and hashes every byte at the offset, whatever the chunking (tiny chunks beyond IOV_MAX included)', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 123);
    for (const sizes of [[65536], [1, 7, 300], [1 << 20, 5]]) {
      const f = file();
      fs.writeFileSync(f, Buffer.from('HEAD'));
      const fh = await fsp.open(f, 'r+');
      const h = new InlineHash(['sha256']);
      let seen = 0;
      const got = await pumpBodyToFile(body(split(data, sizes)), fh, h, {
        at: 4,
        onBytes: (k) => (seen += k),
      });
      await fh.close();
      expect(got).toBe(data.length);
      expect(seen).toBe(data.length);
      expect(fs.readFileSync(f).equals(Buffer.concat([Buffer.from('HEAD'), data]))).toBe(true);
      expect((await h.digest())[0]).toBe(createHash('sha256').update(data).digest('hex'));
    }
  });

  it('a body that fails mid-way leaves exactly the bytes that arrived on disk, then passes the error on', async () => {
    const data = randomBytes(2_500_000);
    const f = file();
    const fh = await fsp.open(f, 'w');
    const cut = Object.assign(new Error('socket hang up'), { code: 'UND_ERR_SOCKET' });
    const err = await pumpBodyToFile(body(split(data, [100_000]), cut), fh, new InlineHash(['sha256']), {
      at: 0,
    }).catch((e: unknown) => e);
    await fh.close();
    expect(err).toBe(cut);
    // Everything received, not only the whole 1 MiB batches: a resume continues from here.
    expect(fs.readFileSync(f).equals(data)).toBe(true);
  });

  it('a disk error fails the pump instead of hanging it', async () => {
    const data = randomBytes(3_000_000);
    const f = file();
    fs.writeFileSync(f, '');
    const fh = await fsp.open(f, 'r'); // read-only: every write fails with EBADF
    const err = (await pumpBodyToFile(body(split(data, [65536])), fh, new InlineHash(['sha256']), {
      at: 0,
    }).catch((e: unknown) => e)) as NodeJS.ErrnoException;
    await fh.close();
    expect(err.code).toBe('EBADF');
  });

  it('a full disk under one batch while the next lands leaves a prefix, never a hole (issue 12 item 6)', async () => {
    const MiB = 1 << 20;
    const data = randomBytes(3 * MiB);
    // Which batch the disk refuses: the first (the second, in flight beside it, lands beyond
    // it) or the second (the first is kept).
    for (const failAt of [0, MiB]) {
      const f = file();
      const real = await fsp.open(f, 'w');
      const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      const fh = {
        writev: async (bufs: Buffer[], pos: number) => {
          if (pos !== failAt) return real.writev(bufs, pos);
          await new Promise((r) => setTimeout(r, 30)); // the other batch finishes first
          throw enospc;
        },
        truncate: (len: number) => real.truncate(len),
        datasync: () => real.datasync(),
      } as unknown as fsp.FileHandle;
      const err = await pumpBodyToFile(body(split(data, [256 * 1024])), fh, new InlineHash(['sha256']), {
        at: 0,
      }).catch((e: unknown) => e);
      await real.close();
      expect(err).toBe(enospc);
      const got = fs.readFileSync(f);
      expect(got.length).toBe(failAt);
      expect(got.equals(data.subarray(0, failAt))).toBe(true);
    }
  });

  it('waits for a hashing worker that falls behind, and the digest still covers every byte', async () => {
    const pool = new HashWorkers(1);
    try {
      const data = randomBytes(12 * 1024 * 1024);
      const f = file();
      const fh = await fsp.open(f, 'w');
      const s = pool.open(['sha256']);
      await pumpBodyToFile(body(split(data, [65536])), fh, s, { at: 0, maxHashBacklog: 1 << 20 });
      await fh.close();
      expect((await s.digest())[0]).toBe(createHash('sha256').update(data).digest('hex'));
      expect(fs.readFileSync(f).equals(data)).toBe(true);
    } finally {
      await pool.close();
    }
  });
});
