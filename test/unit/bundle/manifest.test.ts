import { describe, expect, it } from 'vitest';
import { MAX_MANIFEST_BYTES, parseManifest } from '../../../src-main/core/bundle/manifest.js';
import { FerryError } from '../../../src-main/core/base/errors/index.js';

const sha = 'a'.repeat(64);
function manifest(
  files: Array<{ path: string; size?: number; sha256?: string }>,
  extra: Record<string, unknown> = {},
) {
  return JSON.stringify({
    format: 'ferry-bundle',
    version: 1,
    id: 'b1',
    createdAt: '2026-11-26T00:00:00Z',
    tool: 'ferry test',
    artifacts: [],
    files: files.map((f) => ({ size: 1, sha256: sha, ...f })),
    ...extra,
  });
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as FerryError).code;
  }
  return undefined;
}

describe('manifest parsing', () => {
  it('accepts a well-formed manifest', () => {
    expect(parseManifest(manifest([{ path: 'files/a/b' }])).files).toHaveLength(1);
  });

  it('refuses text that is not JSON, naming the file', () => {
    expect(() => parseManifest('{"format":')).toThrow(/manifest.json is not valid JSON/);
  });

  it('refuses JSON that is not the schema, naming the field', () => {
    expect(() => parseManifest(manifest([{ path: 'files/a', size: -1 }]))).toThrow(/files\.0\.size/);
    expect(() => parseManifest(manifest([], { version: 0 }))).toThrow(/version/);
    expect(() => parseManifest(manifest([], { version: 3 }))).toThrow(
      /bundle format v3; this Ferry reads up to v2/,
    );
    expect(() => parseManifest(manifest([], { surprise: true }))).toThrow(/bundle format v2/);
  });

  it('treats escaping paths as hostile', () => {
    expect(code(() => parseManifest(manifest([{ path: '../outside' }])))).toBe('HOSTILE');
    expect(code(() => parseManifest(manifest([{ path: '/etc/shadow' }])))).toBe('HOSTILE');
  });

  it('refuses a path listed twice, or twice up to case', () => {
    expect(() => parseManifest(manifest([{ path: 'files/a' }, { path: 'files/a' }]))).toThrow(/twice/);
    expect(() => parseManifest(manifest([{ path: 'files/A' }, { path: 'files/a' }]))).toThrow(
      /case-insensitive/,
    );
  });

  it('refuses the reserved names as files', () => {
    expect(code(() => parseManifest(manifest([{ path: 'manifest.json' }])))).toBe('HOSTILE');
    expect(code(() => parseManifest(manifest([{ path: '.ferry-partial/journal.jsonl' }])))).toBe('HOSTILE');
  });

  it('refuses an oversized manifest before parsing it', () => {
    const big = Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20);
    expect(code(() => parseManifest(big))).toBe('HOSTILE');
  });
});
