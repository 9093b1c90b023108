import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decompressedStream } from '../../../src-main/core/kinds/rpm/decompress.js';
import { mergeFiles, readFilelists, wantedFiles } from '../../../src-main/core/kinds/rpm/filelists.js';
import type { RpmPackage } from '../../../src-main/core/kinds/rpm/package.js';
import { readPrimaryInto } from '../../../src-main/core/kinds/rpm/primary.js';
import { resolveRpms } from '../../../src-main/core/kinds/rpm/resolve.js';
import { conflictsRepo, writeSyntheticRepo } from '../../helpers/rpm-synthetic.js';
import { lacks } from '../../helpers/tools.js';

const work = '/tmp/rpm-core/resolve-dnf';

/** Ferry's side, from the compressed files exactly as plan reads them: primary, then filelists. */
async function ferrySet(repo: string, roots: string[]): Promise<string[]> {
  const repomd = fs.readFileSync(path.join(repo, 'repodata', 'repomd.xml'), 'utf8');
  const href = (t: string): string =>
    new RegExp(`<data type="${t}">[\\s\\S]*?<location href="([^"]+)"`).exec(repomd)![1];
  const open = (h: string) => decompressedStream(fs.createReadStream(path.join(repo, h)), h);
  const packages: RpmPackage[] = [];
  await readPrimaryInto(open(href('primary')), 'synthetic', (p) => packages.push(p));
  mergeFiles(packages, await readFilelists(open(href('filelists')), wantedFiles(packages), 'synthetic'));
  const r = resolveRpms({ packages, roots: roots.map((name) => ({ name, why: 'test' })), arch: 'x86_64' });
  expect(r.problems).toEqual([]);
  return r.packages
    .map((p) => `${p.name}-${p.epoch ? `${p.epoch}:` : ''}${p.version}-${p.release}.${p.arch}`)
    .sort();
}

/** dnf's side: the transaction `install --assumeno` prints for a bare installroot. */
function dnfSet(repo: string, roots: string[]): string[] {
  const d = path.join(path.dirname(repo), 'dnf');
  fs.rmSync(d, { recursive: true, force: true });
  fs.mkdirSync(path.join(d, 'repos'), { recursive: true });
  fs.writeFileSync(
    path.join(d, 'repos', 'syn.repo'),
    `[syn]\nname=syn\nbaseurl=file://${repo}\ngpgcheck=0\n`,
  );
  const r = spawnSync(
    'dnf',
    [
      `--installroot=${d}/root`,
      '--releasever=9',
      `--setopt=reposdir=${d}/repos`,
      `--setopt=cachedir=${d}/cache`,
      '--forcearch=x86_64',
      '--disableplugin=*',
      'install',
      '--assumeno',
      ...roots,
    ],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  expect(`${r.stdout}${r.stderr}`).toContain('Operation aborted');
  const out: string[] = [];
  let on = false;
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('Installing')) on = true;
    else if (line.startsWith('Transaction Summary')) on = false;
    else if (on) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 5) out.push(`${f[0]}-${f[2]}.${f[1]}`);
    }
  }
  return out.sort();
}

describe.skipIf(lacks('dnf'))('resolveRpms against dnf install --assumeno', () => {
  const both = async (packages: number, seed: number, filesMin: number, filesSpread: number) => {
    const repo = path.join(work, `${packages}-${seed}-${filesMin}`, 'repo');
    const roots = writeSyntheticRepo(repo, { packages, seed, filesMin, filesSpread });
    const dnf = dnfSet(repo, roots);
    expect(dnf.length).toBeGreaterThan(roots.length);
    return { ferry: await ferrySet(repo, roots), dnf };
  };

  it.each([
    // [packages, seed, filesMin, filesSpread]
    [3000, 1, 25, 15],
    [3000, 2, 25, 15],
    [3000, 3, 25, 15],
    [3000, 4, 40, 60],
    [5000, 5, 40, 60],
    [20000, 1, 25, 15],
    [20000, 2, 40, 60],
  ])(
    '%i synthetic packages (seed %i): the same set as dnf',
    async (packages, seed, filesMin, filesSpread) => {
      const { ferry, dnf } = await both(packages, seed, filesMin, filesSpread);
      expect(ferry).toEqual(dnf);
    },
    180_000,
  );

  it('a tiny repository where Conflicts and Obsoletes decide the choices: the same set as dnf', async () => {
    const repo = path.join(work, 'conflicts', 'repo');
    writeSyntheticRepo(repo, { packages: 0, extra: conflictsRepo.extra });
    const dnf = dnfSet(repo, conflictsRepo.roots);
    // Not just the roots: the conflicting alternatives were really avoided.
    expect(dnf).toContain('cf-libb-1.0-1.el9.noarch');
    expect(dnf).toContain('cf-o2-1.0-1.el9.noarch');
    expect(await ferrySet(repo, conflictsRepo.roots)).toEqual(dnf);
  }, 60_000);
});
