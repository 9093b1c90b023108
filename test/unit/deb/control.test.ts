import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readDebControl } from '../../../src-main/core/kinds/deb/control.js';
import { writeAptRepo, type RepoPackage, type RepoSink } from '../../../src-main/core/kinds/deb/repo.js';
import { ustar } from '../../helpers/ustar.js';

/** A tar holding ./control (ustar header by hand, as dpkg-deb writes it). */
function tarWith(name: string, body: string): Buffer {
  return ustar([{ name, content: Buffer.from(body) }]);
}

/** An ar archive in the .deb member order. */
function debWith(members: Array<[string, Buffer]>): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n')];
  for (const [name, data] of members) {
    const h = `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(data.length).padEnd(10)}\`\n`;
    parts.push(Buffer.from(h, 'latin1'), data);
    if (data.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

const CONTROL = 'Package: ferry-test\nVersion: 1.0-1\nArchitecture: all\nDescription: a test\n long text\n';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-deb-control-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the control file of a .deb', () => {
  for (const [ext, pack] of [
    ['', (b: Buffer) => b],
    ['.gz', (b: Buffer) => gzipSync(b)],
    ['.zst', (b: Buffer) => zstdCompressSync(b)], // Ubuntu since 21.10
  ] as const) {
    it(`is read from control.tar${ext}`, async () => {
      const f = path.join(dir, `t${ext || '.plain'}.deb`);
      fs.writeFileSync(
        f,
        debWith([
          ['debian-binary', Buffer.from('2.0\n')],
          [`control.tar${ext}`, pack(tarWith('./control', CONTROL))],
          ['data.tar.xz', Buffer.alloc(33)],
        ]),
      );
      expect(await readDebControl(f)).toBe(CONTROL);
    });
  }

  it('refuses what is not a .deb, and a control archive without control', async () => {
    const notAr = path.join(dir, 'x.deb');
    fs.writeFileSync(notAr, 'hello');
    await expect(readDebControl(notAr)).rejects.toMatchObject({
      code: 'INTEGRITY',
      message: /not a Debian package/,
    });
    const noControl = path.join(dir, 'y.deb');
    fs.writeFileSync(
      noControl,
      debWith([
        ['debian-binary', Buffer.from('2.0\n')],
        ['control.tar.gz', gzipSync(tarWith('./md5sums', 'x'))],
      ]),
    );
    await expect(readDebControl(noControl)).rejects.toThrow(/no control file/);
    const odd = path.join(dir, 'z.deb');
    fs.writeFileSync(
      odd,
      debWith([
        ['debian-binary', Buffer.from('2.0\n')],
        ['control.tar.lz', Buffer.alloc(4)],
      ]),
    );
    await expect(readDebControl(odd)).rejects.toThrow(/unknown control compression/);
  });
});

describe('writeAptRepo', () => {
  it('inlines arch:all into every binary-<arch> index, lists every index in Release, and signs it', async () => {
    const written = new Map<string, Buffer>();
    const sink: RepoSink = {
      tempPath: (h = 'x') => path.join(dir, `${h}.${Math.random()}`),
      commitFile: async (tmp, rel) => void written.set(rel, fs.readFileSync(tmp)),
      addBytes: async (rel, data) => void written.set(rel, Buffer.from(data)),
    };
    const pkg = (name: string, arch: string, components = ['main']): RepoPackage => ({
      control: `Package: ${name}\nVersion: 1\nArchitecture: ${arch}\n`,
      arch,
      filename: `pool/main/${name}_${arch}.deb`,
      size: 10,
      md5: '0'.repeat(32),
      sha256: '1'.repeat(64),
      components,
    });
    const signed: string[] = [];
    await writeAptRepo(sink, {
      root: 'repos/ubuntu-24.04',
      os: 'ubuntu-24.04',
      suite: 'noble',
      arches: ['amd64', 'arm64'],
      packages: [
        pkg('a', 'amd64'),
        pkg('b', 'arm64'),
        pkg('c', 'all'),
        pkg('containerd.io', 'amd64', ['main', 'stable']),
      ],
      signer: {
        clearsign: async (t) => (signed.push(t), `SIGNED\n${t}`),
        armoredPublicKey: 'ARMORED',
        binaryKeyring: new Uint8Array([1, 2]),
      },
      date: new Date('2026-01-02T03:04:05Z'),
    });
    const idx = (c: string, a: string) =>
      written.get(`repos/ubuntu-24.04/dists/noble/${c}/binary-${a}/Packages`)!.toString();
    expect(idx('main', 'amd64').match(/^Package: .*/gm)).toEqual([
      'Package: a',
      'Package: c',
      'Package: containerd.io',
    ]);
    expect(idx('main', 'arm64').match(/^Package: .*/gm)).toEqual(['Package: b', 'Package: c']);
    expect(idx('stable', 'amd64').match(/^Package: .*/gm)).toEqual(['Package: containerd.io']);
    const release = written.get('repos/ubuntu-24.04/dists/noble/Release')!.toString();
    expect(release).toMatch(/^Date: Fri, 02 Jan 2026 03:04:05 UTC$/m);
    expect(release).toMatch(/^Architectures: amd64 arm64$/m);
    expect(release).toMatch(/^Components: main stable$/m);
    expect(release).not.toMatch(/Valid-Until|Acquire-By-Hash/);
    for (const [rel, b] of written) {
      const m = /dists\/noble\/(.+\/Packages(\.gz)?)$/.exec(rel);
      if (m)
        expect(release).toContain(
          ` ${createHash('sha256').update(b).digest('hex')} ${String(b.length).padStart(16)} ${m[1]}`,
        );
    }
    expect(signed).toEqual([release]);
    expect(written.get('repos/ubuntu-24.04/dists/noble/InRelease')!.toString()).toBe(`SIGNED\n${release}`);
    expect([...written.get('repos/ubuntu-24.04/ferry.gpg')!]).toEqual([1, 2]);
  });
});
