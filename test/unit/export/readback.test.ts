import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReadBackPool } from '../../../src-main/core/media/export/readback.js';
import { probeTarget } from '../../../src-main/core/media/export/target.js';
import { tempDir } from '../../helpers/bundle-fixtures.js';
import { lacksCondition } from '../../helpers/tools.js';

const pool = new ReadBackPool(2);
afterAll(() => pool.close());

/** Whether the kernel lets this file be opened with O_DIRECT (the oracle for the mode). */
async function directAllowed(file: string): Promise<boolean> {
  return fs.open(file, fs.constants.O_RDONLY | fs.constants.O_DIRECT).then(
    async (h) => (await h.close(), true),
    () => false,
  );
}

async function sample(dir: string, size: number): Promise<{ file: string; sha: string }> {
  const b = randomBytes(size);
  const file = path.join(dir, `f${size}`);
  await fs.writeFile(file, b);
  return { file, sha: createHash('sha256').update(b).digest('hex') };
}

describe('read-back', () => {
  it('hashes files of every size exactly (empty first: it must not spoil the alignment probe)', async () => {
    const dir = await tempDir();
    for (const size of [0, 1, 511, 4096, 4097, (4 << 20) + 123, 9 << 20]) {
      const s = await sample(dir, size);
      const r = await pool.read(s.file);
      expect(r).toMatchObject({ sha256: s.sha, size });
    }
    await fs.rm(dir, { recursive: true, force: true });
  });

  it.skipIf(lacksCondition(process.platform !== 'linux', 'Linux (O_DIRECT read-back)'))(
    'bypasses the page cache with O_DIRECT where the file system allows it',
    async () => {
      const dir = await tempDir();
      const t = await probeTarget(dir);
      const s = await sample(dir, 3 << 20);
      const r = await pool.read(s.file);
      // ext4, xfs and btrfs always accept O_DIRECT; whatever this folder is on, the mode must be
      // the one the kernel allows for it, and a disk file system must allow it.
      if (['ext4', 'xfs', 'btrfs'].includes(t.fsType)) expect(await directAllowed(s.file)).toBe(true);
      expect(r.mode).toBe((await directAllowed(s.file)) ? 'direct' : 'buffered');
      expect(r.sha256).toBe(s.sha);
      await fs.rm(dir, { recursive: true, force: true });
    },
  );

  it('reads through a fresh buffered descriptor when the bypass is off, and reports it', async () => {
    const plain = new ReadBackPool(1, false);
    const dir = await tempDir();
    const s = await sample(dir, 1 << 20);
    const r = await plain.read(s.file);
    expect(r).toMatchObject({ mode: 'buffered', sha256: s.sha });
    await plain.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it.skipIf(lacksCondition(!existsSync('/dev/shm'), 'a tmpfs at /dev/shm'))(
    'on tmpfs reads directly exactly when the kernel allows O_DIRECT there, with the right hash',
    async () => {
      const dir = await fs.mkdtemp('/dev/shm/ferry-rb-');
      const s = await sample(dir, 1 << 20);
      const r = await pool.read(s.file);
      expect(r.mode).toBe((await directAllowed(s.file)) ? 'direct' : 'buffered');
      expect(r.sha256).toBe(s.sha);
      await fs.rm(dir, { recursive: true, force: true });
    },
  );
});
