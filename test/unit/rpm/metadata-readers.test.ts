import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import { compressionOf, decompressedStream } from '../../../src-main/core/kinds/rpm/decompress.js';
import { mergeFiles, readFilelists, wantedFiles } from '../../../src-main/core/kinds/rpm/filelists.js';
import type { RpmPackage } from '../../../src-main/core/kinds/rpm/package.js';
import { depFromAttrs, readPrimary, readPrimaryInto } from '../../../src-main/core/kinds/rpm/primary.js';
import { lacks, repoRoot } from '../../helpers/tools.js';

const fixture = (f: string): Buffer => readFileSync(path.join(repoRoot, 'test/fixtures/rpm', f));
const PRIMARY = fixture('createrepo-primary.xml');
const FILELISTS = fixture('createrepo-filelists.xml');

/** The bytes cut into pieces of `size`, so every tag, entity and UTF-8 sequence is split somewhere. */
function chunked(buf: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

async function collect(s: AsyncIterable<RpmPackage>): Promise<RpmPackage[]> {
  const out: RpmPackage[] = [];
  for await (const p of s) out.push(p);
  return out;
}

async function bytes(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

describe('primary.xml reader', () => {
  it("reads createrepo_c's output field by field", async () => {
    const pkgs = await collect(readPrimary(chunked(PRIMARY, 65536), 'baseos'));
    expect(pkgs.map((p) => p.name)).toEqual(['ferry-a', 'ferry-b']);
    const [a, b] = pkgs;
    expect(a).toMatchObject({
      name: 'ferry-a',
      arch: 'noarch',
      epoch: 0,
      version: '1.0^git2',
      release: '1.el9',
      location: 'noarch/ferry-a-1.0^git2-1.el9.noarch.rpm',
      sourcerpm: 'ferry-a-1.0^git2-1.el9.src.rpm',
      repo: 'baseos',
      files: ['/etc/ferry-a.conf'],
    });
    expect(a.checksum.type).toBe('sha256');
    expect(a.checksum.value).toMatch(/^[0-9a-f]{64}$/);
    expect(a.size).toBeGreaterThan(1000);
    expect(a.requires).toEqual([
      { name: '(ferry-c or ferry-d)' },
      { name: '/bin/sh', pre: true },
      { name: '/usr/bin/ferrysh' },
      { name: 'ferry-b', flags: 'GE', epoch: 0, ver: '2.0' },
    ]);
    expect(a.provides).toContainEqual({ name: 'ferry-virtual', flags: 'EQ', epoch: 0, ver: '3' });
    expect(a.obsoletes).toEqual([{ name: 'ferry-old', flags: 'LT', epoch: 0, ver: '1.0' }]);
    expect(a.recommends).toEqual([{ name: 'ferry-r' }]);
    expect(b).toMatchObject({ epoch: 1, version: '2.1~rc1', release: '3', arch: 'x86_64' });
    expect(b.requires.map((d) => d.name)).toEqual([
      '(ferry-c if ferry-d)',
      '(ferry-e >= 1 with ferry-e < 3)',
    ]);
  });

  it('reads entries in any attribute spelling XML allows', () => {
    const want = { name: 'a(x) >= 1', flags: 'GE', epoch: 1, ver: '2.0', rel: '3', pre: true };
    expect(depFromAttrs(' name="a(x) &gt;= 1" flags="GE" epoch="1" ver="2.0" rel="3" pre="1"')).toEqual(want);
    expect(depFromAttrs("\n  name='a(x) &gt;= 1'\tflags='GE' epoch='1'\nver='2.0' rel='3' pre='1'")).toEqual(
      want,
    );
    expect(depFromAttrs(' name="foo" flags="XX" ver="1"')).toEqual({ name: 'foo' });
  });

  it('gives the same packages whatever the chunk boundaries', async () => {
    const whole = await collect(readPrimary(chunked(PRIMARY, 1 << 20), 'r'));
    for (const size of [1, 2, 3, 7, 64, 333]) {
      expect(await collect(readPrimary(chunked(PRIMARY, size), 'r'))).toEqual(whole);
    }
  });

  it('refuses damaged XML naming the repository', async () => {
    const cut = PRIMARY.subarray(0, PRIMARY.indexOf('<location'));
    const truncated = Buffer.concat([cut, Buffer.from('<location hr')]);
    await expect(readPrimaryInto(chunked(truncated, 100), 'appstream', () => {})).rejects.toThrow(
      /appstream: primary.xml is malformed/,
    );
    const noName = Buffer.from(PRIMARY.toString().replace('<name>ferry-a</name>', ''));
    await expect(readPrimaryInto(chunked(noName, 100), 'appstream', () => {})).rejects.toThrow(
      /package #1 .*has no name/,
    );
    const notPrimary = Buffer.from(
      '<?xml version="1.0"?><filelists><package pkgid="x"></package></filelists>',
    );
    await expect(readPrimaryInto(chunked(notPrimary, 10), 'crb', () => {})).rejects.toThrow(
      /not a primary.xml/,
    );
    const cdata = Buffer.from(
      PRIMARY.toString().replace('<description>b</description>', '<description><![CDATA[b]]></description>'),
    );
    await expect(readPrimaryInto(chunked(cdata, 100), 'crb', () => {})).rejects.toThrow(/CDATA/);
  });
});

describe('filelists.xml reader', () => {
  it('keeps only the wanted paths, keyed by pkgid, entities decoded', async () => {
    const wanted = new Set(['/usr/bin/ferrysh', '/usr/lib/ferry/sp ace&amp', '/usr/lib/ferry', '/nowhere']);
    for (const size of [1, 5, 4096]) {
      const found = await readFilelists(chunked(FILELISTS, size), wanted, 'baseos');
      expect([...found.values()]).toEqual([
        ['/usr/bin/ferrysh', '/usr/lib/ferry', '/usr/lib/ferry/sp ace&amp'],
      ]);
      expect([...found.keys()][0]).toMatch(/^[0-9a-f]{64}$/);
    }
    expect((await readFilelists(chunked(FILELISTS, 9), new Set(['/usr/share/ferry-a/data']))).size).toBe(1);
  });

  it('lists file requires (rich ones too) and merges them into the packages by pkgid', async () => {
    const pkgs = await collect(readPrimary(chunked(PRIMARY, 4096), 'r'));
    pkgs[1].requires.push({ name: '(/usr/share/ferry-a/data or ferry-z)' });
    const wanted = wantedFiles(pkgs);
    expect([...wanted].sort()).toEqual(['/bin/sh', '/usr/bin/ferrysh', '/usr/share/ferry-a/data']);
    // The recorded filelists comes from the same createrepo_c run as primary: pkgids agree.
    const found = await readFilelists(chunked(FILELISTS, 4096), wanted);
    mergeFiles(pkgs, found);
    expect(pkgs[0].files).toEqual(['/etc/ferry-a.conf', '/usr/share/ferry-a/data']);
    expect(pkgs[1].files).toEqual(['/usr/bin/ferrysh']);
  });
});

describe('metadata decompression', () => {
  it('picks the decoder by suffix', () => {
    expect(compressionOf('repodata/x-primary.xml.gz')).toBe('gz');
    expect(compressionOf('repodata/x-primary.xml.xz')).toBe('xz');
    expect(compressionOf('repodata/x-primary.xml.zst')).toBe('zst');
    expect(compressionOf('repodata/x-primary.xml.bz2')).toBe('bz2');
    expect(compressionOf('repodata/x-primary.xml')).toBe('none');
  });

  it('round-trips gz and zst (Node) and plain', async () => {
    const gz = zlib.gzipSync(PRIMARY);
    expect(await bytes(decompressedStream(chunked(gz, 100), 'p.xml.gz'))).toEqual(PRIMARY);
    const zst = zlib.zstdCompressSync(PRIMARY);
    expect(await bytes(decompressedStream(chunked(zst, 100), 'p.xml.zst'))).toEqual(PRIMARY);
    expect(await bytes(decompressedStream(chunked(PRIMARY, 100), 'p.xml'))).toEqual(PRIMARY);
  });

  it.skipIf(lacks('xz', 'zstd'))('decodes what the xz and zstd tools write', async () => {
    const xz = execFileSync('xz', ['-c'], { input: PRIMARY });
    expect(await bytes(decompressedStream(chunked(xz, 100), 'p.xml.xz'))).toEqual(PRIMARY);
    const zst = execFileSync('zstd', ['-c', '-q'], { input: PRIMARY });
    expect(await bytes(decompressedStream(chunked(zst, 100), 'p.xml.zst'))).toEqual(PRIMARY);
    const pkgs = await collect(readPrimary(decompressedStream(chunked(xz, 50), 'p.xml.xz'), 'r'));
    expect(pkgs).toHaveLength(2);
  });

  it('names the file when the bytes are not what the suffix says', async () => {
    await expect(
      bytes(decompressedStream(chunked(PRIMARY, 100), 'repodata/abc-primary.xml.gz')),
    ).rejects.toThrow(/repodata\/abc-primary.xml.gz: cannot decompress/);
    await expect(
      bytes(decompressedStream(chunked(PRIMARY, 100), 'repodata/abc-primary.xml.xz')),
    ).rejects.toThrow(/abc-primary.xml.xz: cannot decompress/);
    await expect(
      bytes(decompressedStream(chunked(PRIMARY, 100), 'repodata/abc-primary.xml.zst')),
    ).rejects.toThrow(/abc-primary.xml.zst: cannot decompress/);
    // The body's own error (a verifying tap's checksum refusal) is passed on unchanged.
    const refused = new FerryError('CHECKSUM', 'primary.xml.gz: the SHA256 differs');
    const failing = new Readable({
      read() {
        this.destroy(refused);
      },
    });
    await expect(bytes(decompressedStream(failing, 'p.xml.gz'))).rejects.toBe(refused);
    expect(() => decompressedStream(chunked(PRIMARY, 100), 'repodata/abc-primary.xml.bz2')).toThrow(
      /abc-primary.xml.bz2: bzip2-compressed metadata is not supported/,
    );
  });
});
