import { describe, expect, it } from 'vitest';
import { parsePackagesText } from '../../../src-main/core/kinds/deb/packages.js';
import { resolve } from '../../../src-main/core/kinds/deb/resolve.js';

const H = 'ab'.repeat(32);
/** Synthetic stanzas: "name version arch [Field: value]…" separated by ";". */
function index(...specs: string[]): ReturnType<typeof parsePackagesText> {
  const text = specs
    .map((s) => {
      const [head, ...fields] = s.split(';').map((x) => x.trim());
      const [name, version, arch = 'amd64'] = head.split(' ');
      return [
        `Package: ${name}`,
        `Version: ${version}`,
        `Architecture: ${arch}`,
        ...fields,
        `Filename: pool/${name}_${version}_${arch}.deb`,
        'Size: 1',
        `SHA256: ${H}`,
      ].join('\n');
    })
    .join('\n\n');
  return parsePackagesText(text, 'test');
}
const names = (r: ReturnType<typeof resolve>): string[] => r.packages.map((p) => `${p.package}=${p.version}`);

describe('dependency closure', () => {
  it('takes the highest version and the first satisfiable alternative', () => {
    const r = resolve(
      index('a 1; Depends: missing | b (>= 2) | c', 'b 1', 'b 2.1', 'c 1', 'x 1 arm64'),
      ['a'],
      { arch: 'amd64', baseline: false },
    );
    expect(names(r)).toEqual(['a=1', 'b=2.1']);
  });

  it('skips an alternative whose own dependencies cannot be met, as apt does', () => {
    const r = resolve(index('a 1; Depends: b | c', 'b 1; Depends: nowhere', 'c 1'), ['a'], {
      arch: 'amd64',
      baseline: false,
    });
    expect(names(r)).toEqual(['a=1', 'c=1']);
  });

  it('meets a versioned relation only through a versioned Provides', () => {
    const u = index(
      'a 1; Depends: v (>= 2)',
      'p1 1; Provides: v',
      'p2 1; Provides: v (= 3)',
      'b 1; Depends: w',
      'q 1; Provides: w',
    );
    expect(names(resolve(u, ['a', 'b'], { arch: 'amd64', baseline: false }))).toEqual([
      'a=1',
      'b=1',
      'p2=1',
      'q=1',
    ]);
  });

  it('applies Multi-Arch: :any needs allowed, foreign satisfies other architectures', () => {
    const u = index(
      'a 1; Depends: py:any',
      'py 1; Multi-Arch: allowed',
      'b 1; Depends: tool:any',
      'tool 1',
      'c 1 arm64; Depends: fw',
      'fw 1 amd64; Multi-Arch: foreign',
      'd 1 arm64; Depends: lib',
      'lib 1 amd64; Multi-Arch: same',
      'e 1 all; Depends: lib',
    );
    expect(names(resolve(u, ['a', 'e'], { arch: 'amd64', baseline: false }))).toEqual([
      'a=1',
      'e=1',
      'lib=1',
      'py=1',
    ]);
    const bad = resolve(u, ['b'], { arch: 'amd64', baseline: false });
    expect(bad.errors).toEqual([
      expect.objectContaining({ code: 'UNSATISFIABLE', package: 'b', relation: 'tool:any', chain: ['b'] }),
    ]);
    expect(bad.errors[0].message).toContain('b needs tool:any');
    const multi = resolve(u, ['c', 'd'], { arch: 'amd64', foreignArchs: ['arm64'], baseline: false });
    expect(names(multi)).toEqual(['c=1', 'fw=1']);
    expect(multi.errors.map((e) => [e.package, e.relation])).toEqual([['d', 'lib']]);
  });

  it('follows Pre-Depends and, unless turned off, Recommends', () => {
    const u = index(
      'a 1; Pre-Depends: pre; Recommends: r | gone',
      'pre 1',
      'r 1; Depends: nowhere',
      'gone 1',
    );
    expect(names(resolve(u, ['a'], { arch: 'amd64', baseline: false }))).toEqual(['a=1', 'gone=1', 'pre=1']);
    expect(names(resolve(u, ['a'], { arch: 'amd64', baseline: false, recommends: false }))).toEqual([
      'a=1',
      'pre=1',
    ]);
  });

  it('adds Essential and required packages, whose Provides then count as present', () => {
    const u = index(
      'a 1; Depends: lsb-base (>= 3)',
      'lsb-base 11',
      'init 3; Essential: yes; Provides: lsb-base (= 11.1)',
      'libc 2; Priority: required',
      'opt 1; Priority: optional',
    );
    expect(names(resolve(u, ['a'], { arch: 'amd64', baseline: false }))).toEqual(['a=1', 'lsb-base=11']);
    expect(names(resolve(u, ['a'], { arch: 'amd64' }))).toEqual(['a=1', 'init=3', 'libc=2']);
  });

  it('refuses a candidate that conflicts with one already chosen and tries the next', () => {
    const u = index('a 1; Depends: b, c | d', 'b 1; Conflicts: c', 'c 1', 'd 1');
    expect(names(resolve(u, ['a'], { arch: 'amd64', baseline: false }))).toEqual(['a=1', 'b=1', 'd=1']);
  });

  it('reports unknown names and ambiguous virtual roots as errors, naming them', () => {
    const u = index('p1 1; Provides: v', 'p2 1; Provides: v');
    const r = resolve(u, ['nope', 'v'], { arch: 'amd64', baseline: false });
    expect(r.errors.map((e) => [e.code, e.package])).toEqual([
      ['NOT_FOUND', 'nope'],
      ['NOT_FOUND', 'v'],
    ]);
    expect(r.errors[1].message).toMatch(/virtual package provided by (p1, p2|p2, p1)/);
  });
});
