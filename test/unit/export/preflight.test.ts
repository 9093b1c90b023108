import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import {
  deltaFiles,
  FAT32_MAX_FILE,
  maxFileSize,
  partPath,
  preflight,
} from '../../../src-main/core/media/export/index.js';
import { parseSize } from '../../../src-main/core/media/export/archive.js';
import {
  archivePartName,
  parseArchiveIndex,
  tarLayout,
} from '../../../src-main/core/bundle/archive-format.js';
import { checkBundlePath } from '../../../src-main/core/bundle/paths.js';
import type { Manifest } from '../../../src-main/core/bundle/manifest.js';

const GiB = 1024 ** 3;
const f = (path: string, size: number, sha = 'a') => ({ path, size, sha256: sha.repeat(64).slice(0, 64) });

describe('export preflight', () => {
  it('knows FAT32 holds at most 4 GiB - 1 byte per file and exFAT/NTFS/ext4 have no limit that matters', () => {
    expect(FAT32_MAX_FILE).toBe(4 * GiB - 1);
    for (const t of ['vfat', 'fat32', 'msdos']) expect(maxFileSize(t)).toBe(FAT32_MAX_FILE);
    for (const t of ['exfat', 'ntfs', 'ext4', 'fuseblk', 'apfs']) expect(maxFileSize(t)).toBeNull();
  });

  it('splits only files over the limit, into parts under it', () => {
    const p = preflight({
      target: { fsType: 'vfat', free: 100 * GiB, blockSize: 32768 },
      files: [f('files/a', 4 * GiB - 1), f('files/b', 9 * GiB), f('files/c', 10)],
      alreadyThere: 0,
      split: true,
    });
    expect(p.split).toEqual([{ path: 'files/b', size: 9 * GiB, parts: 3 }]);
    expect(p.partSize).toBeLessThan(FAT32_MAX_FILE);
  });

  it('with --no-split, names the file and says to reformat as exFAT', () => {
    try {
      preflight({
        target: { fsType: 'vfat', free: 100 * GiB, blockSize: 32768 },
        files: [f('files/big.iso', 5 * GiB)],
        alreadyThere: 0,
        split: false,
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(FerryError);
      expect((e as FerryError).code).toBe('UNSUPPORTED');
      expect((e as FerryError).message).toContain('files/big.iso');
      expect((e as FerryError).hint).toMatch(/exFAT/);
    }
  });

  it('counts free space with per-file slack and a margin, and credits what a resumed export already wrote', () => {
    const target = { fsType: 'exfat', free: 1 * GiB, blockSize: 128 * 1024 };
    const files = Array.from({ length: 3000 }, (_, i) => f(`files/f${i}`, 300_000));
    // 900 MB of data plus 3000 × 128 KiB of slack does not fit in 1 GiB with the margin…
    expect(() => preflight({ target, files, alreadyThere: 0, split: true })).toThrow(/needs/);
    // …but a resumed export that already holds half of it does.
    expect(preflight({ target, files, alreadyThere: 450_000_000, split: true }).bytesNeeded).toBeLessThan(
      GiB,
    );
  });

  it('names split parts with portable bundle paths', () => {
    expect(partPath('files/x/kube.tar', 0)).toBe('files/x/kube.tar.ferry-part-000');
    expect(checkBundlePath(partPath('files/x/kube.tar', 12))).toBeNull();
  });
});

describe('delta', () => {
  it('keeps only files the old bundle does not have at the same path with the same content', () => {
    const m = (files: Array<ReturnType<typeof f>>) => ({ files }) as unknown as Manifest;
    const d = deltaFiles(
      m([f('a', 1, 'a'), f('b', 1, 'b'), f('c', 1, 'c')]),
      m([f('a', 1, 'a'), f('b', 1, 'x')]),
    );
    expect(d.kept.map((x) => x.path)).toEqual(['b', 'c']);
    expect(d.omitted.map((x) => x.path)).toEqual(['a']);
  });
});

describe('archive format', () => {
  it('parses --split sizes', () => {
    expect(parseSize('700M')).toBe(700 * 1024 ** 2);
    expect(parseSize('4G')).toBe(4 * GiB);
    expect(parseSize('1.5GiB')).toBe(1.5 * GiB);
    expect(() => parseSize('12')).toThrow(/too small/);
    expect(() => parseSize('lots')).toThrow(/not a size/);
  });

  it('lays out a tar deterministically, 512-byte aligned, ending in two zero blocks', () => {
    const a = tarLayout([
      { rel: 'manifest.json', size: 3, bytes: Buffer.from('abc') },
      { rel: 'files/x', size: 1000, src: '/nonexistent' },
    ]);
    const b = tarLayout([
      { rel: 'manifest.json', size: 3, bytes: Buffer.from('abc') },
      { rel: 'files/x', size: 1000, src: '/nonexistent' },
    ]);
    expect(a.size).toBe(b.size);
    expect(a.size % 512).toBe(0);
    expect(a.size).toBe(512 + 512 + 512 + 1024 + 1024);
    const long = tarLayout([{ rel: 'files/' + 'd/'.repeat(150) + 'f', size: 0, bytes: Buffer.alloc(0) }]);
    // A path over 255 characters needs a pax header before the ustar one.
    expect(long.size).toBeGreaterThan(512 + 1024);
  });

  it('refuses an index with parts out of order, unsafe names or sizes that do not add up', () => {
    const idx = (
      parts: Array<{ name: string; size: number }>,
      tarSize = parts.reduce((s, p) => s + p.size, 0),
    ) =>
      Buffer.from(
        JSON.stringify({
          format: 'ferry-archive',
          version: 1,
          bundleId: 'b',
          manifestSha256: 'a'.repeat(64),
          tarSize,
          partSize: 10,
          parts: parts.map((p) => ({ ...p, sha256: 'b'.repeat(64) })),
        }),
      );
    expect(
      parseArchiveIndex(
        idx([
          { name: archivePartName(0, 2), size: 10 },
          { name: archivePartName(1, 2), size: 5 },
        ]),
        'i',
      ).parts,
    ).toHaveLength(2);
    expect(() =>
      parseArchiveIndex(
        idx([
          { name: 'bundle.tar.001', size: 10 },
          { name: 'bundle.tar.000', size: 5 },
        ]),
        'i',
      ),
    ).toThrow(/in order/);
    expect(() => parseArchiveIndex(idx([{ name: '../x', size: 10 }]), 'i')).toThrow(FerryError);
    expect(() => parseArchiveIndex(idx([{ name: 'bundle.tar.000', size: 10 }], 11), 'i')).toThrow(/add up/);
  });
});
