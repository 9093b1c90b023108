import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  evaluateMarker,
  parseMarker,
  targetEnvironment,
} from '../../../src-main/core/kinds/python/markers.js';
import {
  compareVersions,
  isSpecifier,
  isVersion,
  satisfiesSpec,
  specAllowsPrereleases,
} from '../../../src-main/core/kinds/python/pep440.js';
import { supportedTags } from '../../../src-main/core/kinds/python/tags.js';
import type { PythonTarget } from '../../../src-main/core/kinds/python/targets.js';
import { lacksCondition } from '../../helpers/tools.js';

/**
 * PEP 440 ordering and specifiers, PEP 508 markers and the wheel tag order, property-tested
 * against Debian 12's python3-packaging (23.0): random inputs from a seeded generator go to one
 * Python process as JSON, and every answer must equal Ferry's. The tag list is packaging's
 * `cpython_tags` + `compatible_tags` over `_manylinux.platform_tags` with the glibc the target
 * has (the module's probe of this machine's glibc replaced by the target's level).
 */

const DEBIAN_PYTHON = '/usr/bin/python3';
const hasPackaging = (() => {
  try {
    return (
      fs.existsSync(DEBIAN_PYTHON) &&
      execFileSync(DEBIAN_PYTHON, ['-c', 'import packaging; print(packaging.__version__)'], {
        encoding: 'utf8',
      }).trim() !== ''
    );
  } catch {
    return false;
  }
})();

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PY = `
import json, sys
from packaging.version import Version, InvalidVersion
from packaging.specifiers import SpecifierSet, InvalidSpecifier
from packaging.markers import Marker
from packaging import _manylinux, tags
q = json.load(sys.stdin)
out = {"valid": [], "cmp": [], "spec": [], "pre": [], "markers": [], "tags": []}
for v in q["valid"]:
    try:
        Version(v); out["valid"].append(True)
    except InvalidVersion:
        out["valid"].append(False)
for a, b in q["cmp"]:
    x, y = Version(a), Version(b)
    out["cmp"].append(-1 if x < y else 1 if x > y else 0)
for v, s in q["spec"]:
    try:
        out["spec"].append(SpecifierSet(s).contains(v, prereleases=True))
    except InvalidSpecifier:
        out["spec"].append("invalid")
for s in q["pre"]:
    try:
        out["pre"].append(bool(SpecifierSet(s).prereleases))
    except InvalidSpecifier:
        out["pre"].append("invalid")
for m, env in q["markers"]:
    try:
        out["markers"].append(Marker(m).evaluate(env))
    except Exception as e:
        out["markers"].append("error")
_manylinux._have_compatible_abi = lambda *a: True
for py, arch, glibc in q["tags"]:
    g = tuple(int(x) for x in glibc.split("."))
    _manylinux._get_glibc_version = lambda g=g: g
    p = list(_manylinux.platform_tags("linux_" + arch, arch)) + ["linux_" + arch]
    pv = tuple(int(x) for x in py.split("."))
    interp = "cp%d%d" % pv
    t = [str(x) for x in tags.cpython_tags(pv, [interp], p)] + [str(x) for x in tags.compatible_tags(pv, interp, p)]
    out["tags"].append(t)
print(json.dumps(out))
`;

function oracle(q: unknown): {
  valid: boolean[];
  cmp: number[];
  spec: (boolean | 'invalid')[];
  pre: (boolean | 'invalid')[];
  markers: (boolean | 'error')[];
  tags: string[][];
} {
  return JSON.parse(
    execFileSync(DEBIAN_PYTHON, ['-c', PY], {
      input: JSON.stringify(q),
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    }),
  );
}

function version(r: () => number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  let v = '';
  if (r() < 0.05) v += `${pick([0, 1, 2])}!`;
  const n = 1 + Math.floor(r() * 3);
  v += Array.from({ length: n }, () => pick([0, 0, 1, 2, 3, 10, 11])).join('.');
  if (r() < 0.3)
    v += pick(['a', 'b', 'rc', 'c', 'alpha', 'beta', 'pre', 'preview']) + pick(['', '0', '1', '2']);
  if (r() < 0.2) v += pick(['.post', '.post1', '-1', 'post2', '.rev', '.r3', '-2']);
  if (r() < 0.2) v += pick(['.dev', 'dev', '-dev']) + pick(['', '0', '3']);
  if (r() < 0.1) v += '+' + pick(['local', 'ubuntu.1', '1.2', 'abc.5']);
  return v;
}

function spec(r: () => number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const n = 1 + Math.floor(r() * 2);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const op = pick(['==', '!=', '<=', '>=', '<', '>', '~=', '==']);
    let v = version(r).replace(/\+.*$/, '');
    if (op === '~=' && !v.includes('.')) v += '.0';
    if ((op === '==' || op === '!=') && r() < 0.25)
      v = v.replace(/(a|b|rc|c|alpha|beta|pre|preview|\.post|-|post|\.rev|\.r|\.dev|dev|-dev).*$/, '') + '.*';
    parts.push(op + v);
  }
  return parts.join(', ');
}

const STRING_VARS = [
  'os_name',
  'sys_platform',
  'platform_system',
  'platform_machine',
  'platform_python_implementation',
  'implementation_name',
  'extra',
];
const VERSION_VARS = ['python_version', 'python_full_version', 'implementation_version'];

function marker(r: () => number, depth = 0): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  if (depth < 2 && r() < 0.35) {
    const l = marker(r, depth + 1);
    const rr = marker(r, depth + 1);
    const m = `${l} ${pick(['and', 'or'])} ${rr}`;
    return r() < 0.5 ? `(${m})` : m;
  }
  if (r() < 0.5) {
    const v = pick(VERSION_VARS);
    const op = pick(['<', '<=', '==', '!=', '>=', '>', '~=', 'in', 'not in']);
    let lit = pick(['3.9', '3.10', '3.11', '3.11.0', '3.12', '3.12.1', '3', '2.7', '3.11.*', '3.1']);
    if (op === '~=' && !lit.includes('.')) lit = '3.0';
    if (op === '~=' || op === 'in' || op === 'not in') lit = lit.replace('.*', '');
    return r() < 0.15 ? `'${lit}' ${op === '~=' ? '<' : op} ${v}` : `${v} ${op} "${lit}"`;
  }
  const v = pick(STRING_VARS);
  const op = pick(['==', '!=', 'in', 'not in', '==', '<']);
  const lit = pick([
    'linux',
    'Linux',
    'win32',
    'posix',
    'nt',
    'x86_64',
    'aarch64',
    'CPython',
    'PyPy',
    'cpython',
    'ssh',
    'Test_Extra',
    'x86',
    'arm',
  ]);
  return r() < 0.15 ? `'${lit}' ${op} ${v}` : `${v} ${op} '${lit}'`;
}

describe.skipIf(lacksCondition(!hasPackaging, "Debian's python3-packaging"))(
  'Ferry agrees with python3-packaging',
  () => {
    it('on PEP 440 validity, ordering, specifiers and pre-release handling (4000 cases each)', () => {
      const r = rng(Number(process.env.FERRY_PROP_SEED ?? 440));
      const valid = Array.from({ length: 4000 }, () =>
        r() < 0.1 ? version(r) + ['_x', '..1', 'v', '-foo', ''][Math.floor(r() * 5)] : version(r),
      );
      const cmp = Array.from({ length: 4000 }, () => [version(r), version(r)]);
      const specs = Array.from({ length: 4000 }, () => [version(r), spec(r)]);
      const pre = Array.from({ length: 500 }, () => spec(r));
      const o = oracle({ valid, cmp, spec: specs, pre, markers: [], tags: [] });
      expect(valid.map((v) => isVersion(v))).toEqual(o.valid);
      expect(cmp.map(([a, b]) => Math.sign(compareVersions(a, b)))).toEqual(o.cmp);
      const mine = specs.map(([v, s]) => (isSpecifier(s) ? satisfiesSpec(v, s, true) : 'invalid'));
      const bad = specs.map((c, i) => [...c, mine[i], o.spec[i]]).filter((x) => x[2] !== x[3]);
      expect(bad.slice(0, 5)).toEqual([]);
      expect(o.spec.filter((x) => x === 'invalid').length).toBeLessThan(300);
      expect(pre.map((s) => (isSpecifier(s) ? specAllowsPrereleases(s) : 'invalid'))).toEqual(o.pre);
      expect(o.pre.filter((x) => x === true).length).toBeGreaterThan(20);
    });

    it('on PEP 508 markers for deploy-host environments (2000 cases)', () => {
      const r = rng(508);
      const targets: PythonTarget[] = [
        { python: '3.10', arch: 'x86_64', glibc: '2.35' },
        { python: '3.11', arch: 'aarch64', glibc: '2.36' },
        { python: '3.12', arch: 'x86_64', glibc: '2.39' },
        { python: '3.13', arch: 'aarch64', glibc: '2.34' },
      ];
      const cases: Array<[string, Record<string, string>]> = [];
      for (let i = 0; i < 2000; i++) {
        const t = targets[i % targets.length];
        cases.push([marker(r), targetEnvironment(t, ['', 'ssh', 'test-extra'][i % 3])]);
      }
      const o = oracle({ valid: [], cmp: [], spec: [], pre: [], markers: cases, tags: [] });
      const mine = cases.map(([m, env]) => {
        try {
          return evaluateMarker(parseMarker(m), env);
        } catch {
          return 'error';
        }
      });
      const bad = cases
        .map((c, i) => [c[0], c[1].python_version, mine[i], o.markers[i]])
        .filter((x) => x[2] !== x[3]);
      expect(bad.slice(0, 5)).toEqual([]);
      // The generator must exercise both outcomes, or the test proves nothing.
      expect(o.markers.filter((x) => x === true).length).toBeGreaterThan(300);
      expect(o.markers.filter((x) => x === false).length).toBeGreaterThan(300);
    });

    it('on the full tag priority list for each target', () => {
      const targets: PythonTarget[] = [
        { python: '3.11', arch: 'x86_64', glibc: '2.34' },
        { python: '3.11', arch: 'aarch64', glibc: '2.36' },
        { python: '3.12', arch: 'x86_64', glibc: '2.39' },
        { python: '3.10', arch: 'aarch64', glibc: '2.35' },
        { python: '3.13', arch: 'x86_64', glibc: '2.17' },
      ];
      const o = oracle({
        valid: [],
        cmp: [],
        spec: [],
        pre: [],
        markers: [],
        tags: targets.map((t) => [t.python, t.arch, t.glibc]),
      });
      targets.forEach((t, i) => expect(supportedTags(t)).toEqual(o.tags[i]));
      // The numbers docs/packages.md quotes for cp311 / glibc 2.34 / x86_64.
      const t0 = supportedTags(targets[0]);
      expect(t0.length).toBe(864);
      expect(t0.indexOf('cp311-abi3-manylinux_2_28_x86_64')).toBe(40);
      expect(t0.indexOf('py3-none-any')).toBe(852);
    });
  },
);
