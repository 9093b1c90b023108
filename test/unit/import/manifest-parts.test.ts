import { describe, expect, it } from 'vitest';
import {
  parseManifest,
  serializeManifest,
  storedPaths,
  type Manifest,
} from '../../../src-main/core/bundle/manifest.js';

const base: Manifest = {
  format: 'ferry-bundle',
  version: 1,
  id: 'b',
  createdAt: '2026-01-01T00:00:00.000Z',
  tool: 'ferry',
  artifacts: [{ id: 'meta:x', kind: 'meta', name: 'x', paths: ['files/big'] }],
  files: [
    {
      path: 'files/big',
      size: 15,
      sha256: 'a'.repeat(64),
      parts: [
        { path: 'files/big.ferry-part-000', size: 10, sha256: 'b'.repeat(64) },
        { path: 'files/big.ferry-part-001', size: 5, sha256: 'c'.repeat(64) },
      ],
    },
  ],
};

describe('manifest parts (split files)', () => {
  it('round-trips, and a split file is stored at its parts', () => {
    const m = parseManifest(serializeManifest(base));
    expect(storedPaths(m.files[0]).map((p) => p.path)).toEqual([
      'files/big.ferry-part-000',
      'files/big.ferry-part-001',
    ]);
  });

  it('stays compatible: a file without parts is stored at its own path', () => {
    expect(storedPaths({ path: 'p', size: 1, sha256: 'd'.repeat(64) })).toEqual([
      { path: 'p', size: 1, sha256: 'd'.repeat(64) },
    ]);
  });

  it('refuses parts that do not add up, collide with a file, or escape', () => {
    const bad = (files: unknown) => serializeManifest({ ...base, files } as Manifest);
    expect(() => parseManifest(bad([{ ...base.files[0], size: 16 }]))).toThrow(/add up/);
    expect(() =>
      parseManifest(
        bad([base.files[0], { path: 'files/big.ferry-part-001', size: 5, sha256: 'c'.repeat(64) }]),
      ),
    ).toThrow(/twice|both/);
    expect(() =>
      parseManifest(bad([{ ...base.files[0], parts: [{ path: '../x', size: 15, sha256: 'b'.repeat(64) }] }])),
    ).toThrow(/'\.\.'/);
  });
});
