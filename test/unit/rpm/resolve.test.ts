import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decompressedStream } from '../../../src-main/core/kinds/rpm/decompress.js';
import { parseEvr } from '../../../src-main/core/kinds/rpm/evr.js';
import { parseModules } from '../../../src-main/core/kinds/rpm/modules.js';
import type { RpmDep, RpmPackage } from '../../../src-main/core/kinds/rpm/package.js';
import { readPrimaryInto } from '../../../src-main/core/kinds/rpm/primary.js';
import { resolveRpms } from '../../../src-main/core/kinds/rpm/resolve.js';
import { conflictsRepo, writeSyntheticRepo } from '../../helpers/rpm-synthetic.js';

/** 'foo >= 1.2' | 'foo' | '(a or b)' | '/usr/bin/x' → RpmDep. */
function dep(s: string): RpmDep {
  if (s.startsWith('(')) return { name: s };
  const m = /^(\S+)\s*(>=|<=|=|<|>)\s*(\S+)$/.exec(s);
  if (!m) return { name: s };
  const flags = ({ '=': 'EQ', '<': 'LT', '<=': 'LE', '>': 'GT', '>=': 'GE' } as const)[m[2] as '='];
  const e = parseEvr(m[3]);
  return { name: m[1], flags, epoch: e.epoch, ver: e.version, ...(e.release ? { rel: e.release } : {}) };
}

interface Spec {
  evr?: string;
  arch?: string;
  requires?: string[];
  provides?: string[];
  obsoletes?: string[];
  recommends?: string[];
  supplements?: string[];
  files?: string[];
}

function pkg(name: string, s: Spec = {}): RpmPackage {
  const e = parseEvr(s.evr ?? '1.0-1.el9');
  return {
    name,
    arch: s.arch ?? 'noarch',
    epoch: e.epoch,
    version: e.version,
    release: e.release || '1',
    checksum: { type: 'sha256', value: `${name}-${s.evr ?? ''}-${s.arch ?? ''}` },
    location: `Packages/${name}.rpm`,
    size: 100,
    provides: [
      { name, flags: 'EQ', epoch: e.epoch, ver: e.version, rel: e.release || '1' },
      ...(s.provides ?? []).map(dep),
    ],
    requires: (s.requires ?? []).map(dep),
    conflicts: [],
    obsoletes: (s.obsoletes ?? []).map(dep),
    recommends: (s.recommends ?? []).map(dep),
    suggests: [],
    supplements: (s.supplements ?? []).map(dep),
    enhances: [],
    files: s.files ?? [],
    repo: 'baseos',
  };
}

const names = (r: ReturnType<typeof resolveRpms>): string[] =>
  r.packages.map((p) => `${p.name}-${p.version}.${p.arch}`);
const resolve = (
  packages: RpmPackage[],
  roots: string[],
  extra: { weakDeps?: boolean; arch?: string } = {},
) =>
  resolveRpms({
    packages,
    roots: roots.map((name) => ({ name, why: 'asked' })),
    arch: extra.arch ?? 'x86_64',
    ...extra,
  });

describe('resolveRpms', () => {
  it('follows versioned, pre, file and rich requires, ignoring rpmlib()', () => {
    const r = resolve(
      [
        pkg('top', {
          requires: [
            'lib >= 2.0',
            '/usr/bin/ferrysh',
            '(c or d)',
            'rpmlib(CompressedFileNames) <= 3.0.4-1',
            '(e if lib)',
            '(f if nothere)',
          ],
        }),
        pkg('lib', { evr: '1.0-1' }),
        pkg('lib', { evr: '2.1-1' }),
        pkg('shell', { files: ['/usr/bin/ferrysh'] }),
        pkg('c'),
        pkg('d'),
        pkg('e'),
        pkg('f'),
      ],
      ['top'],
    );
    expect(r.problems).toEqual([]);
    expect(names(r)).toEqual([
      'c-1.0.noarch',
      'e-1.0.noarch',
      'lib-2.1.noarch',
      'shell-1.0.noarch',
      'top-1.0.noarch',
    ]);
    expect(r.packages.find((p) => p.name === 'lib')?.why).toBe(
      'Requires of top-1.0-1.el9.noarch: lib >= 2.0',
    );
    expect(r.packages.find((p) => p.name === 'top')?.why).toBe('asked');
  });

  it('decides conditions after everything forced, as dnf 4.14 did', () => {
    // dnf installed e, g, late, mid, top for exactly these packages (rpmbuild + createrepo_c).
    const r = resolve(
      [
        pkg('top', { requires: ['(e if late)', '(g if late else h)', 'mid'] }),
        pkg('mid', { requires: ['late'] }),
        pkg('late'),
        pkg('e'),
        pkg('g'),
        pkg('h'),
      ],
      ['top'],
    );
    expect(names(r)).toEqual([
      'e-1.0.noarch',
      'g-1.0.noarch',
      'late-1.0.noarch',
      'mid-1.0.noarch',
      'top-1.0.noarch',
    ]);
  });

  it('takes the target architecture and noarch only, the highest EVR per name with ~ and ^', () => {
    const r = resolve(
      [
        pkg('a', { arch: 'x86_64', evr: '1.0~rc1-1', requires: ['b'] }),
        pkg('a', { arch: 'x86_64', evr: '0.9-1' }),
        pkg('a', { arch: 'aarch64', evr: '5.0-1' }),
        pkg('b', { arch: 'i686', evr: '9-1' }),
        pkg('b', { arch: 'x86_64', evr: '1.0-1' }),
        pkg('b', { arch: 'x86_64', evr: '1.0^git1-1' }),
      ],
      ['a'],
    );
    expect(names(r)).toEqual(['a-1.0~rc1.x86_64', 'b-1.0^git1.x86_64']);
    const arm = resolve(
      [pkg('a', { arch: 'aarch64', evr: '5.0-1' }), pkg('a', { arch: 'x86_64', evr: '6.0-1' })],
      ['a'],
      {
        arch: 'aarch64',
      },
    );
    expect(names(arm)).toEqual(['a-5.0.aarch64']);
  });

  it('chooses among providers as dnf 4.14 did: provide version, then name order; chosen ones first', () => {
    const r = resolve(
      [
        pkg('top', { requires: ['virt', 'virt6', 'hh', '(e2 or e1)', 'again'] }),
        pkg('zz', { provides: ['virt'] }),
        pkg('aaaa-long', { evr: '9.0-1', provides: ['virt'] }),
        pkg('g1', { provides: ['virt6 = 1'] }),
        pkg('g2', { provides: ['virt6 = 9'] }),
        pkg('hh'),
        pkg('ahh', { provides: ['hh'] }),
        pkg('e1'),
        pkg('e2'),
        // 'again' is provided by zz too, but aaaa-long (already chosen for virt) also provides it.
        pkg('aab', { provides: ['again'] }),
      ].map((p) => (p.name === 'aaaa-long' ? { ...p, provides: [...p.provides, { name: 'again' }] } : p)),
      ['top'],
    );
    expect(names(r)).toEqual([
      'aaaa-long-9.0.noarch',
      'ahh-1.0.noarch',
      'e1-1.0.noarch',
      'g2-1.0.noarch',
      'top-1.0.noarch',
    ]);
  });

  it('weighs provide versions only where they compare, as dnf 4.14 did', () => {
    // Each case is what dnf chose for these exact provides (rpmbuild + createrepo_c + dnf).
    const r = resolve(
      [
        pkg('top', { requires: ['virt9', 'virtC', 'virtD', 'virtA'] }),
        pkg('g0', { provides: ['virt9'] }),
        pkg('g1', { provides: ['virt9 = 1'] }),
        pkg('g2', { provides: ['virt9 = 9'] }),
        pkg('zz', { provides: ['virtC'] }),
        pkg('aa', { provides: ['virtC = 5'] }),
        pkg('yy', { provides: ['virtD'] }),
        pkg('bb', { provides: ['virtD = 5'] }),
        pkg('cc', { provides: ['virtD = 7'] }),
        pkg('zb', { arch: 'x86_64', provides: ['virtA'] }),
        pkg('za', { provides: ['virtA'] }),
      ],
      ['top'],
    );
    expect(names(r)).toEqual([
      'aa-1.0.noarch',
      'cc-1.0.noarch',
      'g0-1.0.noarch',
      'top-1.0.noarch',
      'za-1.0.noarch',
    ]);
  });

  it('installs what obsoletes a root instead of the root', () => {
    const r = resolve([pkg('old', { evr: '1.0-1' }), pkg('new', { obsoletes: ['old < 2.0'] })], ['old']);
    expect(names(r)).toEqual(['new-1.0.noarch']);
    const notMatching = resolve(
      [pkg('old', { evr: '3.0-1' }), pkg('new', { obsoletes: ['old < 2.0'] })],
      ['old'],
    );
    expect(names(notMatching)).toEqual(['old-3.0.noarch']);
  });

  it('follows Recommends when satisfiable and Supplements of the selection, unless weak deps are off', () => {
    const pkgs = [
      pkg('top', { recommends: ['r1', 'missing', '(r2 if top)'] }),
      pkg('r1', { requires: ['r1dep'] }),
      pkg('r1dep'),
      pkg('r2'),
      pkg('lang', { supplements: ['(top and r1)'] }),
      pkg('other', { supplements: ['nothing-chosen'] }),
    ];
    const r = resolve(pkgs, ['top']);
    expect(r.problems).toEqual([]);
    expect(names(r)).toEqual([
      'lang-1.0.noarch',
      'r1-1.0.noarch',
      'r1dep-1.0.noarch',
      'r2-1.0.noarch',
      'top-1.0.noarch',
    ]);
    expect(names(resolve(pkgs, ['top'], { weakDeps: false }))).toEqual(['top-1.0.noarch']);
  });

  it('names the package and the requirement when nothing provides it', () => {
    const r = resolve(
      [pkg('top', { requires: ['lib >= 3', '/bin/true', '(x or y)'] }), pkg('lib', { evr: '2.0-1' })],
      ['top', 'ghost'],
    );
    expect(r.problems).toEqual([
      { package: 'ghost', requirement: 'ghost', message: 'no package provides ghost (asked)' },
      {
        package: 'top-1.0-1.el9.noarch',
        requirement: 'lib >= 3',
        message: expect.stringContaining('lib >= 3 needed by top-1.0-1.el9.noarch') as string,
      },
      {
        package: 'top-1.0-1.el9.noarch',
        requirement: '/bin/true',
        message: 'nothing provides /bin/true needed by top-1.0-1.el9.noarch',
      },
      {
        package: 'top-1.0-1.el9.noarch',
        requirement: '(x or y)',
        message: 'nothing provides (x or y) needed by top-1.0-1.el9.noarch',
      },
    ]);
  });

  it('accepts a root spelled name-version as Kubespray pins docker-ce', () => {
    const r = resolve(
      [pkg('docker-ce', { evr: '3:26.1.4-1.el9' }), pkg('docker-ce', { evr: '3:27.0.1-1.el9' })],
      ['docker-ce-3:26.1.4'],
    );
    expect(names(r)).toEqual(['docker-ce-26.1.4.noarch']);
  });

  it("applies dnf's modular filter", () => {
    const modules = parseModules(`---
document: modulemd
version: 2
data:
  name: mod
  stream: "1"
  version: 1
  context: c
  arch: x86_64
  artifacts:
    rpms:
    - modpkg-0:1.0-1.module.x86_64
...
---
document: modulemd
version: 2
data:
  name: mod
  stream: "2"
  version: 1
  context: c
  arch: x86_64
  artifacts:
    rpms:
    - modpkg-0:2.0-1.module.x86_64
...
---
document: modulemd-defaults
version: 1
data:
  module: mod
  stream: "1"
...
`);
    const pkgs = [
      pkg('top', { requires: ['modpkg'], arch: 'x86_64' }),
      pkg('modpkg', { evr: '1.0-1.module', arch: 'x86_64' }),
      pkg('modpkg', { evr: '2.0-1.module', arch: 'x86_64' }),
      pkg('modpkg', { evr: '3.0-1.el9', arch: 'x86_64' }),
    ];
    const r = resolveRpms({ packages: pkgs, roots: [{ name: 'top', why: 'x' }], arch: 'x86_64', modules });
    expect(names(r)).toEqual(['modpkg-1.0.x86_64', 'top-1.0.x86_64']);
    const without = resolveRpms({ packages: pkgs, roots: [{ name: 'top', why: 'x' }], arch: 'x86_64' });
    expect(names(without)).toEqual(['modpkg-3.0.x86_64', 'top-1.0.x86_64']);
  });

  it('never picks a provider that conflicts with, obsoletes or is obsoleted by a chosen one, as dnf', async () => {
    // The repository comes from the generator and goes through the primary parser, so the
    // Conflicts are read as dnf reads them; resolve-dnf.test.ts runs dnf on the same one.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-rpm-conflicts-'));
    try {
      writeSyntheticRepo(dir, { packages: 0, extra: conflictsRepo.extra });
      const repomd = fs.readFileSync(path.join(dir, 'repodata', 'repomd.xml'), 'utf8');
      const href = /<data type="primary">[\s\S]*?<location href="([^"]+)"/.exec(repomd)?.[1] ?? '';
      const packages: RpmPackage[] = [];
      await readPrimaryInto(decompressedStream(fs.createReadStream(path.join(dir, href)), href), 'syn', (p) =>
        packages.push(p),
      );
      const r = resolve(packages, conflictsRepo.roots);
      expect(r.problems).toEqual([]);
      // dnf 4.14 `install --assumeno cf-app cf-m` on this repository: name order would take
      // cf-liba, cf-k1, cf-n1, cf-o1 and the recommended cf-rec, each conflicting or obsoleted.
      expect(r.packages.map((p) => p.name)).toEqual([
        'cf-app',
        'cf-k2',
        'cf-libb',
        'cf-m',
        'cf-n2',
        'cf-o2',
        'cf-tool',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
