import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { HashWorkers } from '../../../src-main/core/fetch/download/hash-workers.js';

describe('hashing in worker threads', () => {
  const pool = new HashWorkers(2);
  afterAll(() => pool.close());

  it('gives the same digests as hashing in place, whatever the chunking, for parallel sessions', async () => {
    const bodies = [randomBytes(5 * 1024 * 1024 + 17), randomBytes(3), randomBytes(1 << 20), Buffer.alloc(0)];
    const results = await Promise.all(
      bodies.map(async (body, i) => {
        const s = pool.open(i === 0 ? ['sha256', 'sha512'] : ['sha256']);
        let off = 0;
        while (off < body.length) {
          const n = Math.min(body.length - off, 1 + Math.floor(Math.random() * 200_000));
          s.update(body.subarray(off, off + n));
          off += n;
          await s.drain();
        }
        return s.digest();
      }),
    );
    bodies.forEach((b, i) => expect(results[i][0]).toBe(createHash('sha256').update(b).digest('hex')));
    expect(results[0][1]).toBe(createHash('sha512').update(bodies[0]).digest('hex'));
  });

  it('a dropped session does not disturb the others', async () => {
    const a = pool.open(['sha256']);
    const b = pool.open(['sha256']);
    const body = randomBytes(2 << 20);
    a.update(body);
    b.update(body.subarray(0, 1000));
    b.drop();
    expect(await a.digest()).toEqual([createHash('sha256').update(body).digest('hex')]);
  });
});
