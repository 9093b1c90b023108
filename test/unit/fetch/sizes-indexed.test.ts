import { describe, expect, it } from 'vitest';
import type { HttpClient } from '../../../src-main/core/fetch/download/http-client.js';
import type { RegistryClient } from '../../../src-main/core/fetch/oci/registry-client.js';
import { indexedSizes, roomCheck, sizePlan, sizesBy } from '../../../src-main/core/fetch/sizes.js';
import { roomFromSizes } from '../../../src-main/core/plan/room.js';
import { sizeLines } from '../../../src-main/cli/plan-sizes.js';

const deb = (filename: string, size: number) => ({ filename, size });
const debs = [
  {
    os: 'debian-12',
    packages: [deb('pool/main/c/conntrack_1_amd64.deb', 1000), deb('pool/main/s/socat_1_amd64.deb', 300)],
  },
  // Another OS has its own repository in the bundle: the same file name is stored again.
  { os: 'ubuntu-24.04', packages: [deb('pool/main/c/conntrack_1_amd64.deb', 1000)] },
];
const target = (python: string, arch: string) => ({ python, arch });
const python = [
  {
    target: target('3.11', 'x86_64'),
    wheels: [
      { filename: 'ansible-10.0-py3-none-any.whl', size: 40_000 },
      { filename: 'PyYAML-6.0-cp311-x86_64.whl', size: 700 },
      { filename: 'odd-1.0.tar.gz' },
    ],
  },
  {
    target: target('3.11', 'aarch64'),
    wheels: [
      // Shared with the first target: one file in python/files/, counted once.
      { filename: 'ansible-10.0-py3-none-any.whl', size: 40_000 },
      { filename: 'PyYAML-6.0-cp311-aarch64.whl', size: 650 },
    ],
  },
];

// Sizing OS packages and wheels makes no request: any call on these fails the test.
const noNet = new Proxy(
  {},
  {
    get: (_t, p) => {
      if (p === 'then') return undefined;
      throw new Error(`network used: ${String(p)}`);
    },
  },
);

describe('sizes of OS packages and wheels, from the indexes plan resolved', () => {
  it('sums each OS set, counts wheels shared between targets once, reports a sizeless wheel', async () => {
    const sizes = await sizePlan(
      { files: [], images: [], debs, python },
      { client: noNet as HttpClient, registry: noNet as RegistryClient },
    );
    const by = Object.fromEntries(sizes.artifacts.map((a) => [a.key, a]));
    expect(by['debs:debian-12']).toMatchObject({ kind: 'debs', bytes: 1300, largestFile: 1000 });
    expect(by['debs:ubuntu-24.04']).toMatchObject({ bytes: 1000 });
    expect(by['python:3.11-x86_64']).toMatchObject({ kind: 'wheels', bytes: 40_700, largestFile: 40_000 });
    expect(by['python:3.11-aarch64']).toMatchObject({ bytes: 650 });
    expect(by['python:odd-1.0.tar.gz']).toMatchObject({ bytes: null, name: 'odd-1.0.tar.gz' });
    expect(by['python:odd-1.0.tar.gz'].unknown).toMatch(/no size/);
    expect(sizes.knownBytes).toBe(1300 + 1000 + 40_700 + 650);
    expect(sizes.unsized).toBe(1);
    // Grouped as the room chart groups them.
    const groups = sizesBy(sizes, (a) => a.group ?? a.key);
    expect(groups.map((g) => [g.name, g.bytes, g.unsized])).toEqual([
      ['python 3.11 x86_64', 40_700, 1],
      ['os packages debian-12', 1300, 0],
      ['os packages ubuntu-24.04', 1000, 0],
      ['python 3.11 aarch64', 650, 0],
    ]);
  });

  it('the same package listed twice in one set (two arches name one _all file) counts once', () => {
    const [a] = indexedSizes({
      debs: [{ os: 'debian-12', packages: [deb('pool/x_all.deb', 5), deb('pool/x_all.deb', 5)] }],
    });
    expect(a.bytes).toBe(5);
  });

  it('ferry plan prints them as components, and the unsized wheel with its reason', async () => {
    const sizes = await sizePlan(
      { files: [], images: [], debs, python },
      { client: noNet as HttpClient, registry: noNet as RegistryClient },
    );
    const text = sizeLines(sizes, (a) => a.group ?? a.key).join('\n');
    expect(text).toContain('Bundle size before downloading: at least 42.6 KiB');
    expect(text).toMatch(/python 3\.11 x86_64 +39\.7 KiB +\(\+ 1 of 2 not sized\)/);
    expect(text).toMatch(/os packages debian-12 +1\.3 KiB/);
    expect(text).toMatch(/odd-1\.0\.tar\.gz: the package index gave no size/);
  });

  it('the room chart carries OS packages and wheels; a FAT32 drive is checked against a .deb', async () => {
    const big = { os: 'debian-12', packages: [deb('pool/huge.deb', 2 ** 32)] };
    const sizes = await sizePlan(
      { files: [], images: [], debs: [big], python: [python[1]] },
      { client: noNet as HttpClient, registry: noNet as RegistryClient },
    );
    const groups = roomFromSizes({ files: [], images: [] }, sizes.artifacts);
    expect(groups).toEqual([
      { name: 'os packages debian-12', kind: 'file', count: 1, bytes: 2 ** 32 },
      { name: 'python 3.11 aarch64', kind: 'file', count: 1, bytes: 40_650 },
    ]);
    expect(roomCheck(sizes, { freeBytes: 2 ** 40, fsType: 'vfat' }).problems.join()).toMatch(/FAT32/);
    expect(roomCheck(sizes, { freeBytes: 2 ** 40, fsType: 'exfat' }).fits).toBe(true);
  });
});
