import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  parseVersion,
  satisfiesVersion,
  versionError,
} from '../../../src-main/core/kinds/deb/version.js';

const sign = (n: number): number => Math.sign(n);

describe('dpkg version comparison', () => {
  it('splits epoch, upstream and revision at the first colon and the last hyphen', () => {
    expect(parseVersion('1:1.4.7-1+b2')).toEqual({ epoch: 1, upstream: '1.4.7', revision: '1+b2' });
    expect(parseVersion('2.36-9+deb12u14')).toEqual({ epoch: 0, upstream: '2.36', revision: '9+deb12u14' });
    expect(parseVersion('1.2-3-4')).toEqual({ epoch: 0, upstream: '1.2-3', revision: '4' });
    expect(parseVersion('7.88.1')).toEqual({ epoch: 0, upstream: '7.88.1', revision: '' });
  });

  // Cases from dpkg's own lib/dpkg/t/t-version.c and the Debian Policy's examples (§5.6.12).
  it.each([
    ['1.0~rc1', '1.0', -1],
    ['1.0', '1.0+b1', -1],
    ['1.0~~', '1.0~~a', -1],
    ['1.0~~a', '1.0~', -1],
    ['1.0~', '1.0', -1],
    ['1.0', '1.0a', -1],
    ['0:1.0', '1.0', 0],
    ['1.0-0', '1.0', 0],
    ['1:0.1', '9.9', 1],
    ['1.0-1', '1.0-1~bpo1', 1],
    ['1.001', '1.1', 0],
    ['1.10', '1.9', 1],
    ['1.0.a', '1.0+a', 1],
    ['2.6.32-5', '2.6.32-5.1', -1],
    ['a', '', 1],
    ['1.2.3', '1.2.3.0', -1],
  ])('%s vs %s', (a, b, want) => {
    expect(sign(compareVersions(a, b))).toBe(want);
    expect(sign(compareVersions(b, a))).toBe(want === 0 ? 0 : -want);
  });

  it('applies relation operators as dpkg does', () => {
    expect(satisfiesVersion('2.36-9', '>=', '2.34')).toBe(true);
    expect(satisfiesVersion('3.11.2-1', '<<', '3.12')).toBe(true);
    expect(satisfiesVersion('3.12.0-1', '<<', '3.12')).toBe(false);
    expect(satisfiesVersion('1:2', '>>', '2')).toBe(true);
    expect(satisfiesVersion('1.0-0', '=', '1.0')).toBe(true);
  });

  it('names what is wrong with a malformed version', () => {
    expect(versionError('a1')).toMatch(/start with digit/);
    expect(versionError('x:1')).toMatch(/epoch/);
    expect(versionError('1.0-')).toMatch(/revision/);
    expect(versionError('1 0')).toMatch(/spaces/);
    expect(versionError('1:2.3-4+b1')).toBeUndefined();
  });
});
