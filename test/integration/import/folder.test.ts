import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportBundle } from '../../../src-main/core/media/export/index.js';
import { importBundle, type ImportItem } from '../../../src-main/core/media/import/index.js';
import { KeyStore } from '../../../src-main/core/bundle/keys/index.js';
import { gcStore, Store, storeSources } from '../../../src-main/core/media/store/index.js';
import { makeKeyStore, makeSampleBundle, tempDir, type SampleBundle } from '../../helpers/bundle-fixtures.js';
import { snapshotTree } from '../../helpers/tree-snapshot.js';

let work: string;
let keyStore: KeyStore;
let sample: SampleBundle;
const MiB = 1 << 20;

beforeAll(async () => {
  work = await tempDir('ferry-import-');
  const ks = await makeKeyStore('connected-laptop');
  keyStore = ks.store;
  sample = await makeSampleBundle(path.join(work, 'bundle'), {
    signer: await keyStore.signer(),
    fileSizes: [1000, 200_000, 5 * MiB],
  });
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function copyOf(name: string, from = sample.dir): Promise<string> {
  const dir = path.join(work, name);
  await fs.cp(from, dir, { recursive: true });
  return dir;
}

async function flip(file: string, at: number): Promise<void> {
  const fh = await fs.open(file, 'r+');
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, at);
  b[0] ^= 0x10;
  await fh.write(b, 0, 1, at);
  await fh.close();
}

describe('ferry import of a bundle folder', () => {
  it('verifies the signature first, imports every artifact, and never writes to the source', async () => {
    const src = await copyOf('media-intact');
    const before = await snapshotTree(src);
    const store = path.join(work, 'store-intact');
    const items: ImportItem[] = [];
    const r = await importBundle(src, { store, keyStore, onItem: (i) => items.push(i) });
    expect(items[0]).toMatchObject({ type: 'signature', status: 'trusted' });
    expect(r.status).toBe('complete');
    expect(r.artifacts.every((a) => a.state === 'good')).toBe(true);
    expect(items.filter((i) => i.type === 'artifact' && i.state === 'waiting').length).toBe(
      r.artifacts.length,
    );
    expect(await snapshotTree(src)).toEqual(before);
    const s = new Store(store);
    const m = (await s.list())[0].manifest;
    for (const f of m.files) expect(await s.hasBlob(f.sha256, f.size)).toBe(true);
    const [source] = await storeSources(store);
    const rel = sample.files[2].path;
    expect((await fs.readFile(source.filePath(rel)!)).equals(sample.files[2].bytes)).toBe(true);
  });

  it('stores blobs shared by several bundles once, and keeps the bundles side by side', async () => {
    const store = path.join(work, 'store-shared');
    await importBundle(sample.dir, { store, keyStore });
    const other = await makeSampleBundle(path.join(work, 'bundle-other'), {
      signer: await keyStore.signer(),
      fileSizes: [10],
    });
    // Give the second bundle one of the first bundle's files.
    const r2 = await importBundle(other.dir, { store, keyStore });
    expect(r2.status).toBe('complete');
    const again = await importBundle(await copyOf('media-again'), { store, keyStore });
    expect(again.filesCopied).toBe(0);
    expect(again.filesShared).toBeGreaterThan(0);
    expect((await new Store(store).list()).map((b) => b.record.bundleId).sort()).toHaveLength(2);
  });

  it('quarantines bit-flipped, truncated and missing files, names them, imports the rest, and a second copy repairs it', async () => {
    const src = await copyOf('media-damaged');
    const [small, mid, big] = sample.files.map((f) => path.join(src, ...f.path.split('/')));
    await flip(big, 3 * MiB);
    await fs.truncate(mid, 1000);
    await fs.rename(small, small + '.renamed');
    await fs.writeFile(path.join(src, 'extra.txt'), 'not in the manifest');
    const store = path.join(work, 'store-damaged');
    const items: ImportItem[] = [];
    const r = await importBundle(src, { store, keyStore, onItem: (i) => items.push(i) });
    expect(r.status).toBe('incomplete');
    const state = (p: string) =>
      r.artifacts.find((a) => a.id === `file:${sample.files.find((f) => f.path === p)!.url}`)!.state;
    expect(state(sample.files[0].path)).toBe('missing');
    expect(state(sample.files[1].path)).toBe('damaged');
    expect(state(sample.files[2].path)).toBe('damaged');
    expect(r.artifacts.filter((a) => a.id.startsWith('image:')).every((a) => a.state === 'good')).toBe(true);
    expect(r.extras.sort()).toEqual(['extra.txt', sample.files[0].path + '.renamed'].sort());
    expect(r.damaged.find((d) => d.path === sample.files[2].path)?.quarantined).toBeTruthy();
    expect(items.some((i) => i.type === 'artifact' && i.state === 'damaged')).toBe(true);
    expect(r.hint).toMatch(/second copy/);
    // Served bundles are whole: an incomplete one is not offered.
    expect(await storeSources(store)).toEqual([]);

    const second = await copyOf('media-second-copy');
    const fixed = await importBundle(second, { store, keyStore });
    expect(fixed.status).toBe('complete');
    expect(fixed.filesCopied).toBe(3);
    expect((await storeSources(store)).map((s) => s.id)).toEqual([r.bundleId]);
  });

  it('a re-export of only the damaged artifacts repairs the stored bundle', async () => {
    const src = await copyOf('media-for-repair');
    await flip(path.join(src, ...sample.files[2].path.split('/')), 100);
    const store = path.join(work, 'store-repair');
    const r = await importBundle(src, { store, keyStore });
    expect(r.status).toBe('incomplete');
    const damagedIds = r.artifacts.filter((a) => a.state !== 'good').map((a) => a.id);
    expect(damagedIds).toEqual([`file:${sample.files[2].url}`]);
    expect(r.hint).toContain(`--only '${damagedIds[0]}'`);

    const repair = path.join(work, 'media-repair-only');
    const ex = await exportBundle(sample.dir, {
      to: repair,
      keyStore,
      target: { fsType: 'exfat', free: 1 << 30, blockSize: 4096 },
      only: damagedIds,
    });
    expect(ex.signature).toBe('re-signed');
    const listed = (
      await fs.readdir(
        path.join(repair, 'files', 'dl.example.test', 'release', 'v1', 'bin', 'linux', 'amd64'),
      )
    ).sort();
    expect(listed).toEqual(['tool2']);
    const fixed = await importBundle(repair, { store, keyStore });
    expect(fixed.status).toBe('complete');
    expect(fixed.repaired).toEqual([r.bundleId]);
    const stored = await new Store(store).list();
    expect(stored.every((b) => b.record.status === 'complete')).toBe(true);
    const [served] = await storeSources(store);
    expect((await fs.readFile(served.filePath(sample.files[2].path)!)).equals(sample.files[2].bytes)).toBe(
      true,
    );
    for (const a of served.manifest.artifacts)
      for (const p of a.paths) expect(served.filePath(p)).toBeTruthy();
  });

  it('refuses an unsigned bundle or an unknown key without explicit consent', async () => {
    const unsigned = await makeSampleBundle(path.join(work, 'bundle-unsigned'), { fileSizes: [10] });
    const store = path.join(work, 'store-consent');
    await expect(importBundle(unsigned.dir, { store, keyStore })).rejects.toMatchObject({
      code: 'SIGNATURE',
    });
    expect((await importBundle(unsigned.dir, { store, keyStore, allowUnsigned: true })).status).toBe(
      'complete',
    );
    const stranger = await makeKeyStore('stranger');
    const foreign = await makeSampleBundle(path.join(work, 'bundle-foreign'), {
      signer: await stranger.store.signer(),
      fileSizes: [10],
    });
    await expect(importBundle(foreign.dir, { store, keyStore })).rejects.toMatchObject({ code: 'SIGNATURE' });
    expect((await importBundle(foreign.dir, { store, keyStore, allowUntrusted: true })).status).toBe(
      'complete',
    );
  });

  it('refuses a source with a symbolic link before copying anything', async () => {
    const src = await copyOf('media-symlink');
    await fs.rm(path.join(src, ...sample.files[0].path.split('/')));
    await fs.symlink('/etc/passwd', path.join(src, ...sample.files[0].path.split('/')));
    const store = path.join(work, 'store-symlink');
    await expect(importBundle(src, { store, keyStore })).rejects.toMatchObject({ code: 'HOSTILE' });
    expect(await fs.readdir(path.join(store, 'blobs', 'sha256'))).toEqual([]);
  });

  it('reassembles files split into parts, and names a damaged part', async () => {
    const media = path.join(work, 'media-fat');
    await exportBundle(sample.dir, {
      to: media,
      keyStore,
      target: { fsType: 'vfat', free: 1 << 30, blockSize: 32768, maxFileSize: 2 * MiB },
    });
    const store = path.join(work, 'store-fat');
    const ok = await importBundle(media, { store, keyStore });
    expect(ok.status).toBe('complete');
    const [src] = await storeSources(store);
    expect((await fs.readFile(src.filePath(sample.files[2].path)!)).equals(sample.files[2].bytes)).toBe(true);

    const media2 = await copyOf('media-fat-damaged', media);
    await flip(path.join(media2, ...(sample.files[2].path + '.ferry-part-001').split('/')), 5);
    const store2 = path.join(work, 'store-fat2');
    const bad = await importBundle(media2, { store: store2, keyStore });
    expect(bad.status).toBe('incomplete');
    expect(bad.artifacts.find((a) => a.state === 'damaged')!.problems!.join()).toContain('ferry-part-001');
  });

  it('imports a delta only on top of its base, and says exactly what is missing otherwise', async () => {
    const v1 = await makeSampleBundle(path.join(work, 'bundle-v1'), {
      signer: await keyStore.signer(),
      fileSizes: [100, 2000],
    });
    // v2 = v1's files plus one more: copy v1 and add a file with the bundle writer.
    const { BundleWriter } = await import('../../../src-main/core/bundle/index.js');
    const v2dir = path.join(work, 'bundle-v2');
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

    const delta = path.join(work, 'media-delta');
    const ex = await exportBundle(v2dir, {
      to: delta,
      keyStore,
      target: { fsType: 'exfat', free: 1 << 30, blockSize: 4096 },
      since: v1.dir,
    });
    expect(ex.delta!.omittedFiles).toBeGreaterThan(0);
    expect(ex.signature).toBe('re-signed');

    const store = path.join(work, 'store-delta');
    const err = await importBundle(delta, { store, keyStore }).catch((e) => e);
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain(
      (await fs.readFile(path.join(v1.dir, 'manifest.json'), 'utf8')).match(/"id": "([^"]+)"/)![1],
    );
    expect(err.message).toMatch(/artifact\(s\) are missing: tool0/);

    await importBundle(v1.dir, { store, keyStore });
    const r = await importBundle(delta, { store, keyStore });
    expect(r.status).toBe('complete');
    const sources = await storeSources(store);
    const s2 = sources.find((s) => s.id === r.bundleId)!;
    expect(s2.manifest.base).toBeUndefined();
    for (const a of s2.manifest.artifacts) for (const p of a.paths) expect(s2.filePath(p)).toBeTruthy();
    expect(await fs.readFile(s2.filePath('files/dl.example.test/new/tool-new')!, 'utf8')).toBe(
      'brand new tool',
    );
  });

  it('gc removes blobs of removed bundles and keeps shared ones', async () => {
    const store = path.join(work, 'store-gc');
    await importBundle(sample.dir, { store, keyStore });
    const other = await makeSampleBundle(path.join(work, 'bundle-gc'), {
      signer: await keyStore.signer(),
      fileSizes: [3000],
    });
    const r = await importBundle(other.dir, { store, keyStore });
    const s = new Store(store);
    await s.remove(r.bundleId);
    const g = await gcStore(s);
    expect(g.removedBlobs).toBeGreaterThan(0);
    const m = (await s.list())[0].manifest;
    for (const f of m.files) expect(await s.hasBlob(f.sha256, f.size)).toBe(true);
    expect(g.keptBlobs).toBe(new Set(m.files.map((f) => f.sha256)).size);
  });
});
