import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle } from '../../../src-main/core/bundle/index.js';
import { staticDriveSource, type Drive } from '../../../src-main/core/media/drives/index.js';
import { exportBundle, type ExportItem, type MediaIo } from '../../../src-main/core/media/export/index.js';
import { realIo } from '../../../src-main/core/media/export/media-io.js';
import { KeyStore } from '../../../src-main/core/bundle/keys/index.js';
import { JobRegistry, type JobEvent } from '../../../src-main/core/base/jobs/job.js';
import { verifyBundle } from '../../../src-main/core/bundle/verify/index.js';
import { makeKeyStore, makeSampleBundle, tempDir, type SampleBundle } from '../../helpers/bundle-fixtures.js';

let work: string;
let keyStore: KeyStore;
let sample: SampleBundle;
const MiB = 1 << 20;

beforeAll(async () => {
  work = await tempDir('ferry-export-');
  const ks = await makeKeyStore('connected-laptop');
  keyStore = ks.store;
  sample = await makeSampleBundle(path.join(work, 'bundle'), {
    signer: await keyStore.signer(),
    fileSizes: [1000, 200_000, 9 * MiB],
  });
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

const ext4 = { fsType: 'ext4', free: 100 * 1024 ** 3, blockSize: 4096 };

/** Fails every write once `after` bytes have gone to the media, as a pulled stick does. */
function pullDriveAfter(after: number, code = 'ENODEV'): MediaIo & { written: number } {
  const io = {
    written: 0,
    async write(fh: fs.FileHandle, buf: Buffer, length: number, position: number) {
      if (io.written + length > after) throw Object.assign(new Error(`${code}: simulated`), { code });
      io.written += length;
      await realIo.write(fh, buf, length, position);
    },
  };
  return io;
}

describe('ferry export to a folder', () => {
  it('copies, reads back bypassing the cache, and writes the original signed manifest last', async () => {
    const to = path.join(work, 'out-plain');
    const items: ExportItem[] = [];
    const r = await exportBundle(sample.dir, { to, keyStore, target: ext4, onItem: (i) => items.push(i) });
    expect(r.signature).toBe('kept');
    expect(r.bytesReused).toBe(0);
    // /tmp is on ext4 here, which accepts O_DIRECT: every file was read back from the device.
    expect(r.readBack.direct).toBeGreaterThan(0);
    const v = await verifyBundle(to, { keyStore });
    expect(v.verified).toBe(true);
    const srcM = await fs.readFile(path.join(sample.dir, 'manifest.json'));
    expect(await fs.readFile(path.join(to, 'manifest.json'))).toEqual(srcM);
    const good = items.filter((i) => i.state === 'good').map((i) => i.id);
    expect(new Set(good).size).toBe((await openBundle(sample.dir)).manifest.artifacts.length);
    await expect(fs.access(path.join(to, '.ferry-partial'))).rejects.toThrow();
  });

  it('a pulled drive leaves a recognisably unfinished export that a rerun completes, copying only the rest', async () => {
    const to = path.join(work, 'out-pulled');
    const io = pullDriveAfter(5 * MiB);
    await expect(
      exportBundle(sample.dir, { to, keyStore, target: ext4, io, retryDelayMs: 1 }),
    ).rejects.toMatchObject({
      code: 'MEDIA_REMOVED',
    });
    await expect(openBundle(to)).rejects.toThrow(/unfinished bundle/);
    const r = await exportBundle(sample.dir, { to, keyStore, target: ext4 });
    expect(r.bytesReused).toBeGreaterThan(0);
    expect(r.bytesWritten).toBeLessThan(9 * MiB + 300_000);
    expect((await verifyBundle(to, { keyStore })).verified).toBe(true);
  });

  it('retries a transient EIO and finishes', async () => {
    const to = path.join(work, 'out-eio');
    let failed = 0;
    const io: MediaIo = {
      async write(fh, buf, length, position) {
        if (failed < 1 && length > 1000) {
          failed++;
          throw Object.assign(new Error('EIO: simulated'), { code: 'EIO' });
        }
        await realIo.write(fh, buf, length, position);
      },
    };
    const logs: string[] = [];
    const r = await exportBundle(sample.dir, {
      to,
      keyStore,
      target: ext4,
      io,
      retryDelayMs: 1,
      onLog: (_l, m) => logs.push(m),
    });
    expect(failed).toBe(1);
    expect(logs.some((l) => /Retrying/.test(l))).toBe(true);
    expect(r.bytesWritten).toBeGreaterThan(0);
    expect((await verifyBundle(to, { keyStore })).verified).toBe(true);
  });

  it('rerunning a finished export reads everything back and rewrites only a damaged file', async () => {
    const to = path.join(work, 'out-rerun');
    await exportBundle(sample.dir, { to, keyStore, target: ext4 });
    const victim = path.join(to, ...sample.files[2].path.split('/'));
    const fh = await fs.open(victim, 'r+');
    await fh.write(Buffer.from([0xff, 0x00, 0xff]), 0, 3, 4096);
    await fh.close();
    const r = await exportBundle(sample.dir, { to, keyStore, target: ext4 });
    expect(r.bytesWritten).toBe(9 * MiB);
    expect((await verifyBundle(to, { keyStore })).verified).toBe(true);
  });

  it('splits files a FAT32 target cannot hold into parts, each with its own sha256, and re-signs', async () => {
    const to = path.join(work, 'out-fat');
    // A 4 MiB limit stands in for FAT32's 4 GiB - 1 byte (the real rule is in the preflight unit test).
    const fat = { fsType: 'vfat', free: 1024 ** 3, blockSize: 32768, maxFileSize: 4 * MiB };
    const r = await exportBundle(sample.dir, { to, keyStore, target: fat });
    const big = sample.files[2].path;
    expect(r.split).toEqual([{ path: big, parts: 3 }]);
    expect(r.signature).toBe('re-signed');
    const { manifest } = await openBundle(to);
    const entry = manifest.files.find((f) => f.path === big)!;
    expect(entry.parts!.map((p) => p.size)).toEqual([4 * MiB, 4 * MiB, MiB]);
    await expect(fs.access(path.join(to, ...big.split('/')))).rejects.toThrow();
    const v = await verifyBundle(to, { keyStore });
    expect(v.verified).toBe(true);
    // A flipped bit in one part is named by that part.
    const part1 = path.join(to, ...entry.parts![1].path.split('/'));
    const fh = await fs.open(part1, 'r+');
    await fh.write(Buffer.from([0x42]), 0, 1, 77);
    await fh.close();
    const bad = await verifyBundle(to, { keyStore });
    expect(bad.ok).toBe(false);
    const problem = bad.artifacts.flatMap((a) => a.problems).find((p) => p.path === big)!;
    expect(problem.error).toContain(entry.parts![1].path);
    // Rerunning the export repairs exactly that part.
    const again = await exportBundle(sample.dir, { to, keyStore, target: fat });
    expect(again.bytesWritten).toBe(4 * MiB);
    expect((await verifyBundle(to, { keyStore })).verified).toBe(true);
  });

  it('re-exporting in another layout removes the old parts, leaving no extras', async () => {
    const to = path.join(work, 'out-relayout');
    const fat = { fsType: 'vfat', free: 1024 ** 3, blockSize: 32768, maxFileSize: 4 * MiB };
    await exportBundle(sample.dir, { to, keyStore, target: fat });
    const r = await exportBundle(sample.dir, { to, keyStore, target: ext4 });
    expect(r.split).toEqual([]);
    const v = await verifyBundle(to, { keyStore });
    expect(v.extras).toEqual([]);
    expect(v.verified).toBe(true);
  });

  it('refuses to split with --no-split and tells the user to reformat as exFAT, before writing', async () => {
    const to = path.join(work, 'out-nosplit');
    const fat = { fsType: 'vfat', free: 1024 ** 3, blockSize: 32768, maxFileSize: 4 * MiB };
    await expect(
      exportBundle(sample.dir, { to, keyStore, target: fat, splitLarge: false }),
    ).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      artifact: sample.files[2].path,
      hint: expect.stringMatching(/exFAT/),
    });
    // Nothing was written, and the folder the export created is gone too.
    expect(existsSync(to)).toBe(false);
  });

  it('refuses a source file that does not match its manifest, naming it', async () => {
    const bad = await makeSampleBundle(path.join(work, 'bundle-bad'), { signer: await keyStore.signer() });
    const f = path.join(bad.dir, ...bad.files[1].path.split('/'));
    const buf = await fs.readFile(f);
    buf[100] ^= 1;
    await fs.writeFile(f, buf);
    await expect(
      exportBundle(bad.dir, { to: path.join(work, 'out-bad'), keyStore, target: ext4 }),
    ).rejects.toMatchObject({
      code: 'INTEGRITY',
      artifact: bad.files[1].path,
    });
  });

  it('checks free space before the first byte, and leaves no folder behind', async () => {
    const to = path.join(work, 'out-full');
    await expect(
      exportBundle(sample.dir, {
        to,
        keyStore,
        target: { fsType: 'exfat', free: 5 * MiB, blockSize: 4096 },
        marginBytes: 0,
      }),
    ).rejects.toMatchObject({ code: 'NO_SPACE' });
    // Nothing was written, and the folder the export created is gone too.
    expect(existsSync(to)).toBe(false);
  });

  it('refuses a non-empty folder that is not an export of this bundle', async () => {
    const to = path.join(work, 'out-busy');
    await fs.mkdir(to);
    await fs.writeFile(path.join(to, 'holiday.jpg'), 'x');
    await expect(exportBundle(sample.dir, { to, keyStore, target: ext4 })).rejects.toMatchObject({
      code: 'USAGE',
    });
  });

  it('refuses a system drive unless forced', async () => {
    const to = path.join(work, 'out-system');
    const drive: Drive = {
      id: 'sys',
      device: '/dev/vda',
      label: 'System',
      mountPoint: work,
      size: 1e12,
      free: 1e11,
      fsType: 'ext4',
      removable: false,
      system: true,
    };
    const drives = staticDriveSource([drive]);
    await expect(exportBundle(sample.dir, { to, keyStore, target: ext4, drives })).rejects.toMatchObject({
      code: 'USAGE',
    });
    const r = await exportBundle(sample.dir, { to, keyStore, target: ext4, drives, force: true });
    expect(r.signature).toBe('kept');
  });

  it('runs as a Job: progress and per-artifact item events, and cancel leaves a resumable export', async () => {
    const jobs = new JobRegistry();
    const events: JobEvent[] = [];
    jobs.onEvent((e) => events.push(e));
    const to = path.join(work, 'out-job');
    const job = jobs.start('export', (ctx) =>
      exportBundle(sample.dir, { to, keyStore, target: ext4, job: ctx }),
    );
    await job.done;
    expect(job.state).toBe('done');
    const items = events
      .filter((e) => e.type === 'item')
      .map((e) => (e as { item: Record<string, unknown> }).item.state);
    expect(items).toContain('waiting');
    expect(items).toContain('good');
    expect(events.some((e) => e.type === 'progress')).toBe(true);

    const to2 = path.join(work, 'out-cancel');
    let job2: ReturnType<typeof jobs.start> | undefined = undefined;
    const io: MediaIo = {
      async write(fh, buf, length, position) {
        if (length > 1 << 20) job2!.cancel();
        await realIo.write(fh, buf, length, position);
      },
    };
    job2 = jobs.start('export', (ctx) =>
      exportBundle(sample.dir, { to: to2, keyStore, target: ext4, job: ctx, io }),
    );
    await job2.done.catch(() => undefined);
    expect(job2.state).toBe('cancelled');
    await expect(openBundle(to2)).rejects.toThrow(/unfinished/);
    const r = await exportBundle(sample.dir, { to: to2, keyStore, target: ext4 });
    expect((await verifyBundle(to2, { keyStore })).verified).toBe(true);
    expect(r.bytesWritten).toBeGreaterThan(0);
  });
});
