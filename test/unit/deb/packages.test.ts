import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { FerryError } from '../../../src-main/core/base/errors/index.js';
import {
  parsePackagesText,
  parseRelations,
  readPackagesIndex,
  type DebPackage,
} from '../../../src-main/core/kinds/deb/packages.js';
import { lacks } from '../../helpers/tools.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const stanza = (name: string, extra = ''): string =>
  `Package: ${name}\nVersion: 1:1.4.7-1+b2\nArchitecture: amd64\nMaintainer: Someone <a@b>\n` +
  `Description: a tool\n that does things\n .\n at length\n${extra}` +
  `Filename: pool/main/c/${name}_1.4.7-1+b2_amd64.deb\nSize: 1234\nMD5sum: 00\n` +
  `SHA256: ${'ab'.repeat(32)}\n`;

const TEXT = [
  stanza(
    'conntrack',
    'Pre-Depends: init-system-helpers (>= 1.54~)\nDepends: libc6 (>= 2.34), libmnl0 (>= 1.0.3-4~),\n' +
      ' default-mta | mail-transport-agent, python3:any\nRecommends: foo (< 2)\nMulti-Arch: foreign\n',
  ),
  stanza('mawk', 'Priority: required\nProvides: awk (= 1.3.4)\nEssential: yes\n'),
  stanza('netcat', 'Provides: netcat-any\nBreaks: old (<< 2)\nConflicts: other\n'),
].join('\n');

async function* chunks(b: Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
  // Odd-sized chunks cut lines, fields and UTF-8 sequences anywhere.
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function rejection(p: Promise<unknown>): Promise<FerryError> {
  try {
    await p;
  } catch (e) {
    return e as FerryError;
  }
  throw new Error('expected a refusal');
}

describe('relationship fields', () => {
  it('parses OR-groups, version relations and architecture qualifiers', () => {
    expect(parseRelations('libc6 (>= 2.34), a | b:any (<< 3) | c:amd64, d (<2), e(>>1.0~rc1)', 'x')).toEqual([
      [{ name: 'libc6', op: '>=', version: '2.34' }],
      [{ name: 'a' }, { name: 'b', arch: 'any', op: '<<', version: '3' }, { name: 'c', arch: 'amd64' }],
      // dpkg reads the obsolete "<" as "<=".
      [{ name: 'd', op: '<=', version: '2' }],
      [{ name: 'e', op: '>>', version: '1.0~rc1' }],
    ]);
    expect(parseRelations('foo [amd64 arm64] <!nocheck>, bar', 'x')).toEqual([
      [{ name: 'foo' }],
      [{ name: 'bar' }],
    ]);
    expect(() => parseRelations('foo (>= )', 'pkg x')).toThrow(/pkg x: unreadable relation "foo \(>= \)"/);
  });

  it('keeps the fields resolution needs, folded lines included', () => {
    const [c, m, n] = parsePackagesText(TEXT, 'test');
    expect(c).toMatchObject({
      package: 'conntrack',
      version: '1:1.4.7-1+b2',
      architecture: 'amd64',
      multiArch: 'foreign',
      essential: false,
      preDepends: [[{ name: 'init-system-helpers', op: '>=', version: '1.54~' }]],
      depends: [
        [{ name: 'libc6', op: '>=', version: '2.34' }],
        [{ name: 'libmnl0', op: '>=', version: '1.0.3-4~' }],
        [{ name: 'default-mta' }, { name: 'mail-transport-agent' }],
        [{ name: 'python3', arch: 'any' }],
      ],
      recommends: [[{ name: 'foo', op: '<=', version: '2' }]],
      filename: 'pool/main/c/conntrack_1.4.7-1+b2_amd64.deb',
      size: 1234,
      sha256: 'ab'.repeat(32),
    });
    expect(m).toMatchObject({
      essential: true,
      priority: 'required',
      provides: [{ name: 'awk', op: '=', version: '1.3.4' }],
    });
    expect(n).toMatchObject({
      provides: [{ name: 'netcat-any' }],
      breaks: [{ name: 'old', op: '<<', version: '2' }],
    });
  });
});

describe('streamed Packages index', () => {
  const plain = Buffer.from(TEXT);
  const expected = parsePackagesText(TEXT, 'test');
  const read = (bytes: Uint8Array, compression: 'xz' | 'gz' | 'none', entry = bytes): Promise<DebPackage[]> =>
    readPackagesIndex(chunks(bytes), {
      index: { path: 'main/binary-amd64/Packages', compression, sha256: sha(entry), size: entry.length },
      plain: { sha256: sha(plain), size: plain.length },
      name: 'test main/binary-amd64/Packages',
    });

  it('reads plain and gzip forms to the same records', async () => {
    expect(await read(plain, 'none')).toEqual(expected);
    expect(await read(gzipSync(plain), 'gz')).toEqual(expected);
  });

  it.skipIf(lacks('xz'))('reads the xz form to the same records', async () => {
    const x = execFileSync('xz', ['-c'], { input: plain });
    expect(await read(x, 'xz')).toEqual(expected);
  });

  it('refuses an index whose bytes differ from its Release entry, naming both hashes', async () => {
    const bad = Buffer.from(TEXT.replace('Size: 1234', 'Size: 1235'));
    const e = await rejection(
      readPackagesIndex(chunks(bad), {
        index: { path: 'p', compression: 'none', sha256: sha(plain), size: plain.length },
        name: 'debian bookworm main/binary-amd64/Packages',
      }),
    );
    expect(e.code).toBe('CHECKSUM');
    expect(e.message).toContain('debian bookworm main/binary-amd64/Packages');
    expect(e.details).toEqual({ expected: sha(plain), actual: sha(bad) });
  });

  it('refuses a longer index as soon as it passes the listed size', async () => {
    let served = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        served += 1024;
        yield Buffer.alloc(1024, 0x41);
      }
    }
    const e = await rejection(
      readPackagesIndex(endless(), {
        index: { path: 'p', compression: 'none', sha256: sha(plain), size: 4096 },
        name: 'mirror Packages',
      }),
    );
    expect(e.code).toBe('CHECKSUM');
    expect(e.message).toMatch(/longer than the 4096 bytes/);
    expect(served).toBeLessThan(8192);
  });

  it('reports a mismatch, not the garbage, when a compressed index is damaged', async () => {
    const gz = gzipSync(plain);
    const entry = Buffer.from(gz);
    gz[gz.length - 20] ^= 0xff;
    const e = await rejection(read(gz, 'gz', entry));
    expect(['CHECKSUM', 'INTEGRITY']).toContain(e.code);
    expect(e.message).toContain('test main/binary-amd64/Packages');
  });
});
