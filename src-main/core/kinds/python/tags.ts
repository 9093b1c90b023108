import { FerryError } from '../../base/errors/index.js';
import { normalizeName } from './pep440.js';
import type { PythonTarget } from './targets.js';

/**
 * Wheel compatibility tags in exactly the order `packaging.tags.sys_tags()` yields them on a
 * Linux CPython deploy host (packaging 23.0, `tags.py` and `_manylinux.py`): a wheel is
 * compatible when any of its tags is in the list, and of several compatible files the one whose
 * best tag comes first wins, as pip chooses. manylinux follows PEP 600 against the target's
 * glibc, with the legacy aliases (manylinux2014 = 2_17, manylinux2010 = 2_12, manylinux1 = 2_5)
 * at their glibc levels; x86_64 goes down to glibc 2.5, other architectures to 2.17.
 */

const LEGACY: Record<string, string> = {
  '2.17': 'manylinux2014',
  '2.12': 'manylinux2010',
  '2.5': 'manylinux1',
};

function parseXY(v: string): [number, number] {
  const [a, b] = v.split('.').map(Number);
  return [a, b];
}

/** Platform tags best first: manylinux_2_N … down, legacy aliases in place, then linux_<arch>. */
export function platformTags(t: Pick<PythonTarget, 'arch' | 'glibc'>): string[] {
  const [major, minor] = parseXY(t.glibc);
  const floor = t.arch === 'x86_64' ? 4 : 16;
  const out: string[] = [];
  // glibc 2 is the only major version there is; packaging would also walk older majors.
  if (major !== 2) throw new FerryError('USAGE', `glibc ${t.glibc} is not a glibc 2.x level.`);
  for (let m = minor; m > floor; m--) {
    out.push(`manylinux_2_${m}_${t.arch}`);
    const legacy = LEGACY[`2.${m}`];
    if (legacy) out.push(`${legacy}_${t.arch}`);
  }
  out.push(`linux_${t.arch}`);
  return out;
}

/** Every tag the target accepts, best first (what `sys_tags()` gives on that host). */
export function supportedTags(t: Pick<PythonTarget, 'python' | 'arch' | 'glibc'>): string[] {
  const [pyMajor, pyMinor] = parseXY(t.python);
  const nodot = (a: number, b: number) => `${a}${b}`;
  const interp = `cp${nodot(pyMajor, pyMinor)}`;
  const platforms = platformTags(t);
  const out: string[] = [];
  // cpython_tags: the interpreter's own ABI, abi3, none, then abi3 of every older minor.
  for (const p of platforms) out.push(`${interp}-${interp}-${p}`);
  const abi3 = pyMajor === 3 && pyMinor >= 2;
  if (abi3) for (const p of platforms) out.push(`${interp}-abi3-${p}`);
  for (const p of platforms) out.push(`${interp}-none-${p}`);
  if (abi3)
    for (let m = pyMinor - 1; m > 1; m--)
      for (const p of platforms) out.push(`cp${nodot(pyMajor, m)}-abi3-${p}`);
  // compatible_tags: pyXY, py3, older pyXY with none-<platform>; then the "any" tags.
  const range = [`py${nodot(pyMajor, pyMinor)}`, `py${pyMajor}`];
  for (let m = pyMinor - 1; m >= 0; m--) range.push(`py${nodot(pyMajor, m)}`);
  for (const v of range) for (const p of platforms) out.push(`${v}-none-${p}`);
  out.push(`${interp}-none-any`);
  for (const v of range) out.push(`${v}-none-any`);
  return out;
}

export interface WheelName {
  /** Normalized. */
  project: string;
  version: string;
  build?: string;
  /** Expanded tag triples (`py2.py3-none-any` is two). */
  tags: string[];
}

/** `{name}-{ver}(-{build})?-{python}-{abi}-{platform}.whl`, or undefined for anything else. */
export function parseWheelFilename(filename: string): WheelName | undefined {
  if (!filename.endsWith('.whl')) return undefined;
  const parts = filename.slice(0, -4).split('-');
  if (parts.length !== 5 && parts.length !== 6) return undefined;
  const [name, version] = parts;
  const [py, abi, plat] = parts.slice(-3);
  const build = parts.length === 6 ? parts[2] : undefined;
  if (build !== undefined && !/^\d/.test(build)) return undefined;
  const tags: string[] = [];
  for (const a of py.split('.'))
    for (const b of abi.split('.')) for (const c of plat.split('.')) tags.push(`${a}-${b}-${c}`);
  return { project: normalizeName(name), version, ...(build ? { build } : {}), tags };
}

/** sdists: `{name}-{version}.tar.gz` (or the old `.zip`). */
export function parseSdistFilename(filename: string): { project: string; version: string } | undefined {
  const m = /^(.+)-([^-]+)\.(tar\.gz|zip)$/.exec(filename);
  return m ? { project: normalizeName(m[1]), version: m[2] } : undefined;
}

/** A ranking of tags for one target: lower is better, undefined is incompatible. */
export class TagRanking {
  private readonly rank = new Map<string, number>();
  constructor(readonly target: Pick<PythonTarget, 'python' | 'arch' | 'glibc'>) {
    supportedTags(target).forEach((t, i) => {
      if (!this.rank.has(t)) this.rank.set(t, i);
    });
  }
  /** The best (lowest) priority among a wheel's tags, or undefined when none is supported. */
  of(filename: string): number | undefined {
    const w = parseWheelFilename(filename);
    if (!w) return undefined;
    let best: number | undefined;
    for (const t of w.tags) {
      const r = this.rank.get(t);
      if (r !== undefined && (best === undefined || r < best)) best = r;
    }
    return best;
  }
}
