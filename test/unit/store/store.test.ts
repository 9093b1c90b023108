import { describe, expect, it } from 'vitest';
import { bundleDirName, Store } from '../../../src-main/core/media/store/index.js';

describe('store naming', () => {
  it('uses tame bundle ids as folder names and hashes anything else', () => {
    expect(bundleDirName('93d9f5e8-4a0c-442a-b16f-d5f5f80fab13')).toBe(
      '93d9f5e8-4a0c-442a-b16f-d5f5f80fab13',
    );
    for (const hostile of ['../../etc', 'a/b', '.hidden', 'x.', 'C:\\x', 'a'.repeat(300)]) {
      expect(bundleDirName(hostile)).toMatch(/^id-[0-9a-f]{40}$/);
    }
  });

  it('names blobs only by a sha256', () => {
    const s = new Store('/tmp/ferry-store-unit');
    expect(s.blobPath('a'.repeat(64))).toBe('/tmp/ferry-store-unit/blobs/sha256/' + 'a'.repeat(64));
    expect(() => s.blobPath('../../etc/passwd')).toThrow(/not a sha256/);
  });

  it('keeps versions of one bundle id side by side', () => {
    const s = new Store('/tmp/ferry-store-unit');
    expect(s.bundleDir('b1', '1'.repeat(64))).not.toBe(s.bundleDir('b1', '2'.repeat(64)));
  });
});
