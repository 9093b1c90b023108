import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../../src-main/core/base/format/bytes.js';
import { formatBytes as cliFormatBytes } from '../../../src-main/core/base/jobs/progress.js';
import { bytes as appBytes } from '../../../src-renderer/src/format.js';

describe('the one byte formatter', () => {
  it('counts in binary units, one decimal below 100 and none from 100 on', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(150e6)).toBe('143 MiB');
    expect(formatBytes(16e9)).toBe('14.9 GiB');
    expect(formatBytes(4 * 1024 ** 3 - 1)).toBe('4.0 GiB');
    expect(formatBytes(2 * 1024 ** 4)).toBe('2.0 TiB');
  });

  it('rounding to 1024 of a unit moves on to the next one', () => {
    expect(formatBytes(1024 * 1024 - 1)).toBe('1.0 MiB');
    expect(formatBytes(1024 ** 3 - 1000)).toBe('1.0 GiB');
  });

  it('an unknown size is a dash, not NaN B', () => {
    expect(formatBytes(null)).toBe('—');
    expect(formatBytes(undefined)).toBe('—');
    expect(formatBytes(Number.NaN)).toBe('—');
    expect(formatBytes(Infinity)).toBe('—');
  });

  it('the CLI and the app write the same bundle size alike (they said 3.2 GiB and 3.4 GB)', () => {
    const size = 3.4e9;
    expect(cliFormatBytes(size)).toBe('3.2 GiB');
    expect(appBytes(size)).toBe('3.2 GiB');
  });
});
