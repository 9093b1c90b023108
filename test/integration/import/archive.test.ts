import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Header, Pax } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportBundle, type ArchiveIndex } from '../../../src-main/core/media/export/index.js';
import { importBundle, type ImportItem } from '../../../src-main/core/media/import/index.js';
import { KeyStore } from '../../../src-main/core/bundle/keys/index.js';
import { BundleWriter } from '../../../src-main/core/bundle/index.js';
import { JobRegistry } from '../../../src-main/core/base/jobs/job.js';
import { Store, storeSources } from '../../../src-main/core/media/store/index.js';
import { makeKeyStore, makeSampleBundle, tempDir, type SampleBundle } from '../../helpers/bundle-fixtures.js';
import { snapshotTree } from '../../helpers/tree-snapshot.js';

let work: string;
let keyStore: KeyStore;
let sample: SampleBundle;
const MiB = 1 << 20;
const ext4 = { fsType: 'ext4', free: 1e12, blockSize: 4096 };

beforeAll(async () => {
  work = await tempDir('ferry-archive-');
  keyStore = (await makeKeyStore('connected-laptop')).store;
  sample = await makeSampleBundle(path.join(work, 'bundle'), {
    signer: await keyStore.signer(),
    fileSizes: [1000, 200_000, 3 * MiB],
  });
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('archive export and import', () => {
  it('writes tar parts of at most SIZE with an index, and imports them as one stream', async () => {
    const to = path.join(work, 'arch');
    const r = await exportBundle(sample.dir, { to, keyStore, target: ext4, archive: true, split: MiB });
    expect(r.archiveParts).toBe(4);
    const idx: ArchiveIndex = JSON.parse(await fs.readFile(path.join(to, 'ferry-archive.json'), 'utf8'));
    expect(idx.parts.every((p) => p.size <= MiB)).toBe(true);
    for (const p of idx.parts) {
      expect(
        createHash('sha256')
          .update(await fs.readFile(path.join(to, p.name)))
          .digest('hex'),
      ).toBe(p.sha256);
    }
    const before = await snapshotTree(to);
    const store = path.join(work, 'store-arch');
    const items: ImportItem[] = [];
    const imp = await importBundle(to, { store, keyStore, onItem: (i) => items.push(i) });
    expect(imp.status).toBe('complete');
    expect(items.filter((i) => i.type === 'part' && i.state === 'good')).toHaveLength(4);
    expect(items.find((i) => i.type === 'signature')).toMatchObject({ status: 'trusted' });
    expect(await snapshotTree(to)).toEqual(before);
    const [src] = await storeSources(store);
    expect((await fs.readFile(src.filePath(sample.files[2].path)!)).equals(sample.files[2].bytes)).toBe(true);
  });

  it('names a damaged or missing part so it alone can be copied again, then imports once it is replaced', async () => {
    const to = path.join(work, 'arch-damaged');
    await exportBundle(sample.dir, { to, keyStore, target: ext4, archive: true, split: MiB });
    const good = await fs.readFile(path.join(to, 'bundle.tar.002'));
    const bad = Buffer.from(good);
    bad[1234] ^= 1;
    await fs.writeFile(path.join(to, 'bundle.tar.002'), bad);
    await fs.rename(path.join(to, 'bundle.tar.003'), path.join(work, 'moved-away'));
    const store = path.join(work, 'store-arch-damaged');
    const err = await importBundle(to, { store, keyStore }).catch((e) => e);
    expect(err.code).toBe('INTEGRITY');
    expect(err.message).toContain('bundle.tar.002 is damaged');
    expect(err.message).toContain('bundle.tar.003 is missing');
    await fs.writeFile(path.join(to, 'bundle.tar.002'), good);
    await fs.rename(path.join(work, 'moved-away'), path.join(to, 'bundle.tar.003'));
    expect((await importBundle(to, { store, keyStore })).status).toBe('complete');
  });

  it('refuses parts swapped on disk or listed out of order', async () => {
    const to = path.join(work, 'arch-swapped');
    await exportBundle(sample.dir, { to, keyStore, target: ext4, archive: true, split: MiB });
    await fs.rename(path.join(to, 'bundle.tar.000'), path.join(to, 'tmp'));
    await fs.rename(path.join(to, 'bundle.tar.001'), path.join(to, 'bundle.tar.000'));
    await fs.rename(path.join(to, 'tmp'), path.join(to, 'bundle.tar.001'));
    await expect(importBundle(to, { store: path.join(work, 'store-swap'), keyStore })).rejects.toMatchObject({
      code: 'INTEGRITY',
    });
    const idxPath = path.join(to, 'ferry-archive.json');
    const idx = JSON.parse(await fs.readFile(idxPath, 'utf8'));
    idx.parts = [idx.parts[1], idx.parts[0], ...idx.parts.slice(2)];
    await fs.writeFile(idxPath, JSON.stringify(idx));
    await expect(importBundle(to, { store: path.join(work, 'store-swap'), keyStore })).rejects.toMatchObject({
      code: 'HOSTILE',
    });
  });

  it('on a FAT32 target splits by default under the file limit, and refuses a --split above it', async () => {
    const fat = { fsType: 'vfat', free: 1e12, blockSize: 32768, maxFileSize: MiB };
    const r = await exportBundle(sample.dir, {
      to: path.join(work, 'arch-fat'),
      keyStore,
      target: fat,
      archive: true,
    });
    expect(r.archiveParts).toBe(4);
    const idx: ArchiveIndex = JSON.parse(
      await fs.readFile(path.join(work, 'arch-fat', 'ferry-archive.json'), 'utf8'),
    );
    expect(Math.max(...idx.parts.map((p) => p.size))).toBeLessThanOrEqual(MiB);
    await expect(
      exportBundle(sample.dir, {
        to: path.join(work, 'arch-fat2'),
        keyStore,
        target: fat,
        archive: true,
        split: 2 * MiB,
      }),
    ).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('carries a delta as an archive, and imports it as a Job on top of its base', async () => {
    const v1 = await makeSampleBundle(path.join(work, 'arch-v1'), {
      signer: await keyStore.signer(),
      fileSizes: [100, 2000],
    });
    const v2dir = path.join(work, 'arch-v2');
    await fs.cp(v1.dir, v2dir, { recursive: true });
    const w = await BundleWriter.open(v2dir);
    const url = 'https://dl.example.test/new/tool-new';
    await w.addBytes('files/dl.example.test/new/tool-new', Buffer.from('brand new tool'));
    await w.addArtifact({
      id: `file:${url}`,
      kind: 'file',
      key: 'new',
      url,
      paths: ['files/dl.example.test/new/tool-new'],
    });
    await w.finalize({ signer: (await keyStore.signer())! });
    const to = path.join(work, 'arch-delta');
    const ex = await exportBundle(v2dir, {
      to,
      keyStore,
      target: ext4,
      archive: true,
      since: path.join(v1.dir, 'manifest.json'),
    });
    expect(ex.delta!.omittedFiles).toBeGreaterThan(0);
    const store = path.join(work, 'store-arch-delta');
    await importBundle(v1.dir, { store, keyStore });
    const jobs = new JobRegistry();
    const job = jobs.start('import', (ctx) => importBundle(to, { store, keyStore, job: ctx }));
    const r = await job.done;
    expect(r.status).toBe('complete');
    expect(job.items[0]).toMatchObject({ type: 'signature', status: 'trusted' });
    expect(job.items.some((i) => i.type === 'part' && i.state === 'good')).toBe(true);
    // Kept per part: each part's latest state once, not every report (checking, then good).
    const partNames = job.items.filter((i) => i.type === 'part').map((i) => i.name);
    expect(partNames.length).toBe(new Set(partNames).size);
    expect(job.items.filter((i) => i.type === 'part').every((i) => i.state === 'good')).toBe(true);
    expect(job.items.filter((i) => i.type === 'artifact' && i.state === 'good').length).toBe(
      r.artifacts.length,
    );
    const src = (await storeSources(store)).find((s) => s.id === r.bundleId)!;
    for (const a of src.manifest.artifacts) for (const p of a.paths) expect(src.filePath(p)).toBeTruthy();
  });

  it('resumes an interrupted archive export part by part', async () => {
    const to = path.join(work, 'arch-resume');
    let n = 0;
    const io = {
      async write(fh: fs.FileHandle, buf: Buffer, length: number, position: number) {
        n += length;
        if (n > 2.5 * MiB) throw Object.assign(new Error('ENODEV: pulled'), { code: 'ENODEV' });
        let off = 0;
        while (off < length) off += (await fh.write(buf, off, length - off, position + off)).bytesWritten;
      },
    };
    await expect(
      exportBundle(sample.dir, { to, keyStore, target: ext4, archive: true, split: MiB, io }),
    ).rejects.toMatchObject({
      code: 'MEDIA_REMOVED',
    });
    await expect(fs.access(path.join(to, 'ferry-archive.json'))).rejects.toThrow();
    const r = await exportBundle(sample.dir, { to, keyStore, target: ext4, archive: true, split: MiB });
    expect(r.bytesReused).toBe(2 * MiB);
    expect((await importBundle(to, { store: path.join(work, 'store-resume'), keyStore })).status).toBe(
      'complete',
    );
  });
});

/** A hand-made archive: the sample's real signed manifest first, then whatever entries a test wants. */
async function craft(name: string, entries: Buffer[]): Promise<string> {
  const dir = path.join(work, name);
  await fs.mkdir(dir, { recursive: true });
  const m = await fs.readFile(path.join(sample.dir, 'manifest.json'));
  const sig = await fs.readFile(path.join(sample.dir, 'manifest.json.sig'));
  const tar = Buffer.concat([
    fileEntry('manifest.json', m),
    fileEntry('manifest.json.sig', sig),
    ...entries,
    Buffer.alloc(1024),
  ]);
  await fs.writeFile(path.join(dir, 'bundle.tar.000'), tar);
  const index: ArchiveIndex = {
    format: 'ferry-archive',
    version: 1,
    bundleId: JSON.parse(m.toString()).id,
    manifestSha256: createHash('sha256').update(m).digest('hex'),
    tarSize: tar.length,
    partSize: tar.length,
    parts: [
      { name: 'bundle.tar.000', size: tar.length, sha256: createHash('sha256').update(tar).digest('hex') },
    ],
  };
  await fs.writeFile(path.join(dir, 'ferry-archive.json'), JSON.stringify(index));
  return dir;
}

function headerBlock(fields: Record<string, unknown>): Buffer {
  const b = Buffer.alloc(512);
  new Header({ mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), size: 0, ...fields } as any).encode(b, 0);
  return b;
}

function pad(body: Buffer): Buffer {
  return Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

function fileEntry(p: string, body: Buffer, type = 'File'): Buffer {
  return Buffer.concat([headerBlock({ path: p, size: body.length, type }), pad(body)]);
}

describe('hostile archives are refused with no write outside the store', () => {
  const real = () => sample.files[0];
  const cases: Array<[string, () => Buffer[]]> = [
    ['an absolute path', () => [fileEntry('/tmp/ferry-evil-absolute', Buffer.from('x'))]],
    ['a .. path', () => [fileEntry('../ferry-evil-dotdot', Buffer.from('x'))]],
    [
      'a symbolic link',
      () => [headerBlock({ path: real().path, type: 'SymbolicLink', linkpath: '/etc/passwd' })],
    ],
    ['a hard link', () => [headerBlock({ path: real().path, type: 'Link', linkpath: 'manifest.json' })]],
    [
      'a character device',
      () => [headerBlock({ path: real().path, type: 'CharacterDevice', devmaj: 1, devmin: 3 })],
    ],
    ['a FIFO', () => [headerBlock({ path: real().path, type: 'FIFO' })]],
    ['a directory', () => [headerBlock({ path: 'files', type: 'Directory' })]],
    [
      'a file the manifest does not list',
      () => [fileEntry('files/extra/payload.sh', Buffer.from('#!/bin/sh\n'))],
    ],
    ['a file twice', () => [fileEntry(real().path, real().bytes), fileEntry(real().path, real().bytes)]],
    [
      'a huge pax header',
      () => {
        const body = Buffer.from(`${'9'.repeat(6)} comment=${'A'.repeat(200_000)}\n`);
        return [fileEntry('PaxHeader/x', body, 'ExtendedHeader'), fileEntry(real().path, real().bytes)];
      },
    ],
    [
      'a pax path that escapes',
      () => {
        const pax = new Pax({ path: '../../ferry-evil-pax' } as any).encode();
        return [pax, fileEntry(real().path, real().bytes)];
      },
    ],
  ];
  for (const [what, entries] of cases) {
    it(`refuses ${what}`, async () => {
      const dir = await craft(`hostile-${what.replace(/\W+/g, '-')}`, entries());
      const store = path.join(work, `store-hostile-${what.replace(/\W+/g, '-')}`);
      const err = await importBundle(dir, { store, keyStore }).catch((e) => e);
      expect(err.code, String(err.message)).toBe('HOSTILE');
      for (const p of [
        '/tmp/ferry-evil-absolute',
        path.join(work, 'ferry-evil-dotdot'),
        path.join(work, '..', 'ferry-evil-pax'),
      ]) {
        await expect(fs.access(p)).rejects.toThrow();
      }
      expect(await new Store(store).list()).toEqual([]);
      expect(await fs.readdir(path.join(store, 'tmp')).catch(() => [])).toEqual([]);
      // Whatever reached blobs/ did so under the sha256 the signed manifest gives it.
      const listed = new Set(
        JSON.parse(await fs.readFile(path.join(sample.dir, 'manifest.json'), 'utf8')).files.map(
          (f: { sha256: string }) => f.sha256,
        ),
      );
      for (const b of await fs.readdir(path.join(store, 'blobs', 'sha256')).catch(() => []))
        expect(listed.has(b)).toBe(true);
    });
  }

  it('refuses an archive whose first entry is not the manifest', async () => {
    const dir = path.join(work, 'hostile-first');
    await fs.mkdir(dir);
    const tar = Buffer.concat([fileEntry('evil', Buffer.from('x')), Buffer.alloc(1024)]);
    await fs.writeFile(path.join(dir, 'bundle.tar.000'), tar);
    const m = await fs.readFile(path.join(sample.dir, 'manifest.json'));
    await fs.writeFile(
      path.join(dir, 'ferry-archive.json'),
      JSON.stringify({
        format: 'ferry-archive',
        version: 1,
        bundleId: 'x',
        manifestSha256: createHash('sha256').update(m).digest('hex'),
        tarSize: tar.length,
        partSize: tar.length,
        parts: [
          {
            name: 'bundle.tar.000',
            size: tar.length,
            sha256: createHash('sha256').update(tar).digest('hex'),
          },
        ],
      }),
    );
    await expect(
      importBundle(dir, { store: path.join(work, 'store-first'), keyStore }),
    ).rejects.toMatchObject({ code: 'INTEGRITY' });
  });

  it('refuses part names that try to leave the folder', async () => {
    const dir = await craft('hostile-names', []);
    const idxPath = path.join(dir, 'ferry-archive.json');
    const idx = JSON.parse(await fs.readFile(idxPath, 'utf8'));
    idx.parts[0].name = '../../etc/passwd';
    await fs.writeFile(idxPath, JSON.stringify(idx));
    await expect(
      importBundle(dir, { store: path.join(work, 'store-names'), keyStore }),
    ).rejects.toMatchObject({ code: 'HOSTILE' });
  });
});
