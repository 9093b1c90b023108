import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  compareEvr,
  depMatches,
  formatDep,
  parseEvr,
  rpmvercmp,
} from '../../../src-main/core/kinds/rpm/evr.js';
import type { RpmDep } from '../../../src-main/core/kinds/rpm/package.js';
import { lacks } from '../../helpers/tools.js';

// rpm's own tests/rpmvercmp.at vectors (RPMVERCMP(a, b, expected)).
const VECTORS: [string, string, number][] = [
  ['1.0', '1.0', 0],
  ['1.0', '2.0', -1],
  ['2.0', '1.0', 1],
  ['2.0.1', '2.0.1', 0],
  ['2.0', '2.0.1', -1],
  ['2.0.1', '2.0', 1],
  ['2.0.1a', '2.0.1a', 0],
  ['2.0.1a', '2.0.1', 1],
  ['2.0.1', '2.0.1a', -1],
  ['5.5p1', '5.5p1', 0],
  ['5.5p1', '5.5p2', -1],
  ['5.5p2', '5.5p1', 1],
  ['5.5p10', '5.5p10', 0],
  ['5.5p1', '5.5p10', -1],
  ['5.5p10', '5.5p1', 1],
  ['10xyz', '10.1xyz', -1],
  ['10.1xyz', '10xyz', 1],
  ['xyz10', 'xyz10', 0],
  ['xyz10', 'xyz10.1', -1],
  ['xyz10.1', 'xyz10', 1],
  ['xyz.4', 'xyz.4', 0],
  ['xyz.4', '8', -1],
  ['8', 'xyz.4', 1],
  ['xyz.4', '2', -1],
  ['2', 'xyz.4', 1],
  ['5.5p2', '5.6p1', -1],
  ['5.6p1', '5.5p2', 1],
  ['5.6p1', '6.5p1', -1],
  ['6.5p1', '5.6p1', 1],
  ['6.0.rc1', '6.0', 1],
  ['6.0', '6.0.rc1', -1],
  ['10b2', '10a1', 1],
  ['10a2', '10b2', -1],
  ['1.0aa', '1.0aa', 0],
  ['1.0a', '1.0aa', -1],
  ['1.0aa', '1.0a', 1],
  ['10.0001', '10.0001', 0],
  ['10.0001', '10.1', 0],
  ['10.1', '10.0001', 0],
  ['10.0001', '10.0039', -1],
  ['10.0039', '10.0001', 1],
  ['4.999.9', '5.0', -1],
  ['5.0', '4.999.9', 1],
  ['20101121', '20101121', 0],
  ['20101121', '20101122', -1],
  ['20101122', '20101121', 1],
  ['2_0', '2_0', 0],
  ['2.0', '2_0', 0],
  ['2_0', '2.0', 0],
  ['a', 'a', 0],
  ['a+', 'a+', 0],
  ['a+', 'a_', 0],
  ['a_', 'a+', 0],
  ['+a', '+a', 0],
  ['+a', '_a', 0],
  ['_a', '+a', 0],
  ['+_', '+_', 0],
  ['_+', '+_', 0],
  ['_+', '_', 0],
  ['+', '_', 0],
  ['_', '+', 0],
  ['1.0~rc1', '1.0~rc1', 0],
  ['1.0~rc1', '1.0', -1],
  ['1.0', '1.0~rc1', 1],
  ['1.0~rc1', '1.0~rc2', -1],
  ['1.0~rc2', '1.0~rc1', 1],
  ['1.0~rc1~git123', '1.0~rc1~git123', 0],
  ['1.0~rc1~git123', '1.0~rc1', -1],
  ['1.0~rc1', '1.0~rc1~git123', 1],
  ['1.0^', '1.0^', 0],
  ['1.0^', '1.0', 1],
  ['1.0', '1.0^', -1],
  ['1.0^git1', '1.0^git1', 0],
  ['1.0^git1', '1.0', 1],
  ['1.0', '1.0^git1', -1],
  ['1.0^git1', '1.0^git2', -1],
  ['1.0^git2', '1.0^git1', 1],
  ['1.0^git1', '1.01', -1],
  ['1.01', '1.0^git1', 1],
  ['1.0^20160101', '1.0^20160101', 0],
  ['1.0^20160101', '1.0.1', -1],
  ['1.0.1', '1.0^20160101', 1],
  ['1.0^20160101^git1', '1.0^20160101^git1', 0],
  ['1.0^20160102', '1.0^20160101^git1', 1],
  ['1.0^20160101^git1', '1.0^20160102', -1],
  ['1.0~rc1^git1', '1.0~rc1^git1', 0],
  ['1.0~rc1^git1', '1.0~rc1', 1],
  ['1.0~rc1', '1.0~rc1^git1', -1],
  ['1.0^git1~pre', '1.0^git1~pre', 0],
  ['1.0^git1', '1.0^git1~pre', 1],
  ['1.0^git1~pre', '1.0^git1', -1],
];

/** Deterministic PRNG so a failure reproduces with the same pairs. */
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

/**
 * Asks rpm itself: one `rpm --eval` whose embedded Lua reads "a<TAB>b" lines from stdin and calls
 * rpm.vercmp on each, one answer per line. rpm 4.18's rpm.vercmp parses both as EVRs
 * (rpmverParse, then rpmverCmp: epoch, then rpmvercmp on version and on release), so a string
 * without ':' and '-' is compared by plain rpmvercmp. Stdin rather than an argument: the kernel
 * caps one argument at 128 KiB. The Lua avoids '%' so macro expansion leaves it alone; rpm's
 * print does not end lines, hence the single joined print.
 */
function rpmOrder(pairs: [string, string][]): number[] {
  const lua =
    'local r = {} for l in io.lines() do local t = l:find(string.char(9), 1, true) ' +
    'r[#r + 1] = rpm.vercmp(l:sub(1, t - 1), l:sub(t + 1)) end print(table.concat(r, string.char(10)))';
  const out = execFileSync('rpm', ['--eval', `%{lua: ${lua}}`], {
    input: pairs.map(([a, b]) => `${a}\t${b}`).join('\n') + '\n',
    maxBuffer: 64 << 20,
  });
  return out.toString().trim().split('\n').map(Number);
}

describe('rpmvercmp', () => {
  it.each(VECTORS)('%s vs %s is %i (rpm tests/rpmvercmp.at)', (a, b, want) => {
    expect(rpmvercmp(a, b)).toBe(want);
  });

  it('compares epoch first, then version, then release', () => {
    expect(
      compareEvr({ epoch: 1, version: '1.0', release: '1' }, { epoch: 0, version: '9.9', release: '9' }),
    ).toBe(1);
    expect(
      compareEvr({ epoch: 0, version: '1.0', release: '2' }, { epoch: 0, version: '1.0', release: '10' }),
    ).toBe(-1);
    expect(
      compareEvr(
        { epoch: 0, version: '1.0', release: '1.el9' },
        { epoch: 0, version: '1.0', release: '1.el9' },
      ),
    ).toBe(0);
  });

  it('parses [epoch:]version[-release]', () => {
    expect(parseEvr('2:1.4.7-3.el9')).toEqual({ epoch: 2, version: '1.4.7', release: '3.el9' });
    expect(parseEvr('1.0')).toEqual({ epoch: 0, version: '1.0', release: '' });
    expect(parseEvr('1.0-a-b')).toEqual({ epoch: 0, version: '1.0-a', release: 'b' });
  });
});

const p = (name: string, flags?: RpmDep['flags'], evr?: string): RpmDep => {
  if (!flags || !evr) return { name };
  const e = parseEvr(evr);
  return { name, flags, epoch: e.epoch, ver: e.version, ...(e.release ? { rel: e.release } : {}) };
};

describe('depMatches (rpm range overlap)', () => {
  it.each([
    // [requirement, provide, overlaps]
    [p('foo', 'GE', '1.2'), p('foo', 'EQ', '1.2-3.el9'), true],
    [p('foo', 'GT', '1.2'), p('foo', 'EQ', '1.2-3.el9'), false],
    [p('foo', 'GT', '1.2-2'), p('foo', 'EQ', '1.2-3.el9'), true],
    [p('foo', 'EQ', '1.2'), p('foo', 'EQ', '1.2-3'), true],
    [p('foo', 'EQ', '1.2-4'), p('foo', 'EQ', '1.2-3'), false],
    [p('foo', 'LT', '1.2'), p('foo', 'EQ', '1.2-3'), false],
    [p('foo', 'LE', '1.2'), p('foo', 'EQ', '1.2-3'), true],
    [p('foo', 'LT', '2.0'), p('foo', 'EQ', '1.9.9'), true],
    [p('foo', 'GE', '2.0'), p('foo', 'EQ', '1:1.0'), true],
    [p('foo', 'GE', '1:2.0'), p('foo', 'EQ', '1.0-1'), false],
    [p('foo', 'GE', '2.0'), p('foo'), true],
    [p('foo'), p('foo', 'EQ', '0.1'), true],
    [p('foo', 'GE', '2.0'), p('foo', 'GE', '3.0'), true],
    [p('foo', 'LT', '2.0'), p('foo', 'GT', '3.0'), false],
    [p('foo', 'GE', '1.0~rc1'), p('foo', 'EQ', '1.0~beta'), false],
    [p('foo', 'GE', '1.0'), p('foo', 'EQ', '1.0^git1'), true],
    [p('foo', 'GE', '1.0'), p('bar', 'EQ', '1.0'), false],
  ])('%o needs %o: %s', (req, prov, want) => {
    expect(depMatches(req, prov)).toBe(want);
  });

  it('prints a dependency as rpm does', () => {
    expect(formatDep(p('foo', 'GE', '1:2.0-3'))).toBe('foo >= 1:2.0-3');
    expect(formatDep(p('/bin/sh'))).toBe('/bin/sh');
  });
});

describe.skipIf(lacks('rpm'))('rpmvercmp against rpm.vercmp (rpm --eval lua)', () => {
  it('agrees with rpm on thousands of generated pairs', () => {
    const rand = rng(Number(process.env.FERRY_VERCMP_SEED ?? 20261204));
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    // Pieces that stress every branch: leading zeros, long digit runs, letters of both cases,
    // tilde and caret at the end and in the middle, separators that count for nothing.
    const pieces = [
      '0',
      '00',
      '1',
      '01',
      '9',
      '10',
      '123',
      '99999999999999999999',
      'a',
      'A',
      'z',
      'rc',
      'git',
      'el9',
      'p',
      '.',
      '.',
      '.',
      '_',
      '+',
      '~',
      '~',
      '^',
      '^',
      'α',
    ];
    const gen = (): string => {
      const n = 1 + Math.floor(rand() * 6);
      let s = '';
      for (let i = 0; i < n; i++) s += pick(pieces);
      return s;
    };
    const pairs: [string, string][] = [];
    for (let i = 0; i < 3000; i++) {
      const a = gen();
      // Half the pairs share a prefix, where the interesting cases live.
      pairs.push([a, rand() < 0.5 ? gen() : a + gen()]);
    }
    for (const [a, b] of VECTORS) pairs.push([a, b]);
    // Whole EVRs, through parseEvr + compareEvr: epochs, and releases present on one side only.
    const evr = (): string => {
      const e = rand() < 0.3 ? `${pick(['0', '1', '2', '10'])}:` : '';
      const v = `${pick(['1', '2', '1.0', '10'])}${gen()}`;
      return rand() < 0.7 ? `${e}${v}-${gen()}` : `${e}${v}`;
    };
    const evrPairs: [string, string][] = [];
    for (let i = 0; i < 1500; i++) {
      const a = evr();
      evrPairs.push([a, rand() < 0.5 ? evr() : a.replace(/-.*/, '') + pick(['', '-1', '-0', `-${gen()}`])]);
    }
    const evrWant = rpmOrder(evrPairs);
    const evrWrong = evrPairs
      .map(([a, b], i) => ({ a, b, rpm: evrWant[i], ferry: compareEvr(parseEvr(a), parseEvr(b)) }))
      .filter((r) => r.rpm !== r.ferry);
    expect(evrWrong.slice(0, 10)).toEqual([]);
    const want = rpmOrder(pairs);
    expect(want.length).toBe(pairs.length);
    const wrong = pairs
      .map(([a, b], i) => ({ a, b, rpm: want[i], ferry: rpmvercmp(a, b) }))
      .filter((r) => r.rpm !== r.ferry);
    expect(wrong.slice(0, 10)).toEqual([]);
    // Not a test that cannot fail: the pairs cover all three outcomes.
    expect(new Set(want)).toEqual(new Set([-1, 0, 1]));
  });
});
