import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exportBundle,
  FAT32_MAX_FILE,
  preflight,
  probeTarget,
  type MediaIo,
} from '../../../src-main/core/media/export/index.js';
import { realIo } from '../../../src-main/core/media/export/media-io.js';
import { importBundle } from '../../../src-main/core/media/import/index.js';
import { KeyStore } from '../../../src-main/core/bundle/keys/index.js';
import { verifyBundle } from '../../../src-main/core/bundle/verify/index.js';
import { lacks } from '../../helpers/tools.js';
import { makeKeyStore, makeSampleBundle, tempDir, type SampleBundle } from '../../helpers/bundle-fixtures.js';

/**
 * Real file systems on loop devices. Needs root, /dev/loop-control and (for exFAT) /dev/fuse. Where
 * the machine does not allow them the tests are skipped with the reason; in CI (CI=true) that is a
 * failure, because .ci/run provides them.
 */
function loopProblem(): string | null {
  if (process.platform !== 'linux') return 'loop devices are Linux-only';
  if (process.getuid?.() !== 0) return 'needs root for losetup and mount';
  if (!existsSync('/dev/loop-control')) return 'no /dev/loop-control (container without loop devices)';
  return null;
}
const loopWhy = loopProblem();
if (loopWhy && process.env.CI === 'true') throw new Error(`CI must allow loop devices: ${loopWhy}`);
const noLoop = loopWhy !== null;
if (noLoop) console.warn(`skipping real-media tests: ${loopWhy}`);
const noFuse = noLoop || !existsSync('/dev/fuse');
if (noFuse && !noLoop && process.env.CI === 'true')
  throw new Error('CI must provide /dev/fuse for the exFAT tests');

const MiB = 1 << 20;
let work: string;
let keyStore: KeyStore;
let sample: SampleBundle;
const cleanups: Array<() => void> = [];

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Run cleanup steps in reverse order, each attempted even if an earlier one failed. */
function cleanupAll(): void {
  while (cleanups.length) {
    try {
      cleanups.pop()!();
    } catch {
      // keep going: every loop device and mount must be released
    }
  }
}

function attachLoop(img: string): string {
  const dev = sh('losetup', ['-f', '--show', img]);
  cleanups.push(() => sh('losetup', ['-d', dev]));
  return dev;
}

function mountExfat(dev: string, mnt: string, ro = false): void {
  sh('mount.exfat-fuse', [...(ro ? ['-o', 'ro'] : []), dev, mnt]);
  cleanups.push(() => {
    if (spawnSync('mountpoint', ['-q', mnt]).status === 0) sh('umount', ['-l', mnt]);
  });
}

/** The PID of the FUSE daemon serving `mnt` (matched by its exact command line, nothing broader). */
function fuseDaemonPid(dev: string, mnt: string): number | undefined {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (cmd.some((a: string) => a.endsWith('exfat-fuse')) && cmd.includes(dev) && cmd.includes(mnt))
        return Number(p);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

beforeAll(async () => {
  work = await tempDir('ferry-media-');
  keyStore = (await makeKeyStore('connected-laptop')).store;
  sample = await makeSampleBundle(path.join(work, 'bundle'), {
    signer: await keyStore.signer(),
    fileSizes: [1000, 200_000, 12 * MiB],
  });
});
afterAll(async () => {
  cleanupAll();
  await fs.rm(work, { recursive: true, force: true });
});

describe.skipIf(noFuse || lacks('mkfs.exfat', 'losetup', 'mount.exfat-fuse'))(
  'exFAT through FUSE on a loop device',
  () => {
    it('is probed as exfat, takes an export read back from the device, and imports read-only', async () => {
      const img = path.join(work, 'exfat.img');
      await fs.writeFile(img, '');
      await fs.truncate(img, 64 * MiB);
      sh('mkfs.exfat', ['-L', 'FERRYUSB', img]);
      const dev = attachLoop(img);
      const mnt = path.join(work, 'exfat-mnt');
      await fs.mkdir(mnt);
      mountExfat(dev, mnt);
      const t = await probeTarget(mnt);
      expect(t.fsType).toBe('exfat');
      expect(t.free).toBeGreaterThan(50 * MiB);

      const to = path.join(mnt, 'kubespray');
      const r = await exportBundle(sample.dir, { to, keyStore });
      expect(r.signature).toBe('kept');
      // exfat-fuse accepts O_DIRECT: the read-back bypassed the kernel's page cache for the file.
      expect(r.readBack.direct).toBeGreaterThan(0);
      expect((await verifyBundle(to, { keyStore })).verified).toBe(true);

      // The offline side: the same stick mounted read-only; any write would fail with EROFS.
      sh('umount', [mnt]);
      mountExfat(dev, mnt, true);
      const imp = await importBundle(to, { store: path.join(work, 'store-exfat'), keyStore });
      expect(imp.status).toBe('complete');
      // A write-protected stick is refused up front, with a message that says so.
      await expect(exportBundle(sample.dir, { to: path.join(mnt, 'again'), keyStore })).rejects.toMatchObject(
        {
          code: 'IO',
          hint: expect.stringMatching(/writable|write-protect/),
        },
      );
    });

    it('a drive that goes away mid-copy (FUSE daemon killed) gives MEDIA_REMOVED and the rerun resumes', async () => {
      const img = path.join(work, 'exfat2.img');
      await fs.writeFile(img, '');
      await fs.truncate(img, 64 * MiB);
      sh('mkfs.exfat', ['-L', 'PULLED', img]);
      const dev = attachLoop(img);
      const mnt = path.join(work, 'exfat2-mnt');
      await fs.mkdir(mnt);
      mountExfat(dev, mnt);
      const to = path.join(mnt, 'kubespray');
      let written = 0;
      let pulled = false;
      const io: MediaIo = {
        async write(fh, buf, length, position) {
          written += length;
          if (!pulled && written > 6 * MiB) {
            pulled = true;
            const pid = fuseDaemonPid(dev, mnt);
            expect(pid).toBeTruthy();
            process.kill(pid!, 'SIGKILL');
            await new Promise((r) => setTimeout(r, 200));
          }
          await realIo.write(fh, buf, length, position);
        },
      };
      const err = await exportBundle(sample.dir, { to, keyStore, io, retryDelayMs: 10 }).catch((e) => e);
      expect(pulled).toBe(true);
      expect(err.code).toBe('MEDIA_REMOVED');
      expect(err.hint).toMatch(/again/);
      // "Reconnect the drive": unmount the dead FUSE mount and mount the device again.
      sh('umount', ['-l', mnt]);
      mountExfat(dev, mnt);
      const r = await exportBundle(sample.dir, { to, keyStore });
      expect((await verifyBundle(to, { keyStore })).verified).toBe(true);
      expect(r.bytesWritten + r.bytesReused).toBeGreaterThan(12 * MiB);
    });
  },
);

describe.skipIf(noLoop || lacks('mkfs.ext4', 'losetup', 'mount'))('ENOSPC on a small ext4 image', () => {
  it('preflight refuses before the first byte; a real ENOSPC mid-copy is NO_SPACE and resumable', async () => {
    const img = path.join(work, 'small.img');
    await fs.writeFile(img, '');
    await fs.truncate(img, 32 * MiB);
    sh('mkfs.ext4', ['-q', '-F', '-m', '0', img]);
    const mnt = path.join(work, 'small-mnt');
    await fs.mkdir(mnt);
    const dev = attachLoop(img);
    sh('mount', [dev, mnt]);
    cleanups.push(() => sh('umount', ['-l', mnt]));
    const filler = path.join(mnt, 'filler');
    await fs.writeFile(filler, Buffer.alloc(20 * MiB, 1));
    const to = path.join(mnt, 'kubespray');

    const pre = await exportBundle(sample.dir, { to, keyStore, marginBytes: 0 }).catch((e) => e);
    expect(pre.code).toBe('NO_SPACE');
    // Nothing was written, and the folder the export created is gone too.
    expect(existsSync(to)).toBe(false);

    // Lie to preflight about the free space to meet the kernel's ENOSPC halfway through.
    const err = await exportBundle(sample.dir, {
      to,
      keyStore,
      target: { fsType: 'ext4', free: 1e12, blockSize: 4096 },
    }).catch((e) => e);
    expect(err.code).toBe('NO_SPACE');
    expect(err.hint).toMatch(/finished work is kept|files already verified/);
    expect(await fs.readdir(to)).not.toContain('manifest.json');

    await fs.rm(filler);
    const r = await exportBundle(sample.dir, { to, keyStore, marginBytes: 0 });
    expect(r.bytesReused).toBeGreaterThan(0);
    expect((await verifyBundle(to, { keyStore })).verified).toBe(true);
  });
});

describe.skipIf(lacks('mkfs.vfat', 'mcopy'))('FAT32 limits against an mtools image', () => {
  it('mtools refuses a 4 GiB file, and preflight splits exactly such files for a vfat target', async () => {
    const img = path.join(work, 'fat32.img');
    await fs.writeFile(img, '');
    await fs.truncate(img, 5 * 1024 * MiB);
    sh('mkfs.vfat', ['-F', '32', '-n', 'FERRY', img]);
    const big = path.join(work, 'four-gib');
    await fs.writeFile(big, '');
    await fs.truncate(big, 4 * 1024 * MiB);
    const m = spawnSync('mcopy', ['-i', img, big, '::/four-gib'], { encoding: 'utf8' });
    expect(m.stderr).toMatch(/too big/);
    const p = preflight({
      target: { fsType: 'vfat', free: 20 * 1024 * MiB, blockSize: 32768 },
      files: [
        { path: 'files/a/at-limit', size: FAT32_MAX_FILE, sha256: '0'.repeat(64) },
        { path: 'files/a/four-gib', size: FAT32_MAX_FILE + 1, sha256: '1'.repeat(64) },
      ],
      alreadyThere: 0,
      split: true,
    });
    expect(p.split).toEqual([{ path: 'files/a/four-gib', size: FAT32_MAX_FILE + 1, parts: 2 }]);
    expect(p.partSize).toBeLessThanOrEqual(FAT32_MAX_FILE);
  });

  it('an export with split parts survives a round trip through a real FAT32 file system', async () => {
    const to = path.join(work, 'for-fat');
    await exportBundle(sample.dir, {
      to,
      keyStore,
      target: { fsType: 'vfat', free: 1e12, blockSize: 32768, maxFileSize: 5 * MiB },
    });
    const img = path.join(work, 'fat32-small.img');
    await fs.writeFile(img, '');
    await fs.truncate(img, 64 * MiB);
    sh('mkfs.vfat', ['-F', '32', '-n', 'FERRY', img]);
    sh('mcopy', ['-s', '-i', img, to, '::/']);
    const back = path.join(work, 'from-fat');
    await fs.mkdir(back);
    sh('mcopy', ['-s', '-n', '-i', img, '::/for-fat', back]);
    const v = await verifyBundle(path.join(back, 'for-fat'), { keyStore });
    expect(v.verified).toBe(true);
  });
});
