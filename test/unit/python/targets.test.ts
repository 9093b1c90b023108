import { describe, expect, it } from 'vitest';
import { resolveTarget } from '../../../src-main/core/kinds/python/targets.js';

describe('python deploy-host targets', () => {
  it('derives Python and glibc from the named OS', () => {
    expect(resolveTarget({ os: 'debian-12', kubesprayTag: 'v2.31.0' })).toEqual({
      python: '3.11',
      arch: 'x86_64',
      glibc: '2.36',
    });
    expect(resolveTarget({ os: 'ubuntu-22.04', kubesprayTag: 'v2.30.0' }).glibc).toBe('2.35');
    expect(resolveTarget({ os: 'rocky-9', kubesprayTag: 'v2.31.0', arch: 'aarch64' })).toEqual({
      python: '3.11',
      arch: 'aarch64',
      glibc: '2.34',
    });
  });
  it('refuses a Python the tag does not support, with the reason', () => {
    expect(() => resolveTarget({ os: 'ubuntu-22.04', kubesprayTag: 'v2.31.0' })).toThrow(
      /needs Python ≥ 3.11, not 3.10/,
    );
    expect(resolveTarget({ os: 'ubuntu-22.04', kubesprayTag: 'v2.29.1' }).python).toBe('3.10');
  });
  it('lets flags override the OS', () => {
    expect(
      resolveTarget({ os: 'debian-12', python: '3.12', glibc: '2.34', kubesprayTag: 'v2.31.0' }),
    ).toMatchObject({ python: '3.12', glibc: '2.34' });
  });
});
