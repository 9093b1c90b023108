import { describe, expect, it } from 'vitest';
import type { FileEntry, WheelArtifact } from '../../../src-main/core/bundle/manifest.js';
import { kindOf } from '../../../src-main/core/kinds/index.js';

const h = (c: string) => c.repeat(64);
const f = 'ansible_core-2.18.12-py3-none-any.whl';
const wheel = (o: Partial<WheelArtifact> = {}): WheelArtifact => ({
  id: `wheel:${f}`,
  kind: 'wheel',
  project: 'ansible-core',
  version: '2.18.12',
  filename: f,
  sha256: h('a'),
  paths: [`python/files/${f}`, `python/files/${f}.metadata`],
  ...o,
});
const listed = (entries: FileEntry[]) => new Map(entries.map((e) => [e.path, e]));

describe('the wheel kind', () => {
  const files = listed([
    { path: `python/files/${f}`, size: 10, sha256: h('a') },
    { path: `python/files/${f}.metadata`, size: 3, sha256: h('b') },
  ]);
  it('accepts the wheel with its PEP 658 metadata beside it, or alone', () => {
    expect(kindOf(wheel()).verify.record(wheel(), files)).toEqual([]);
    const alone = wheel({ paths: [`python/files/${f}`] });
    expect(kindOf(alone).verify.record(alone, files)).toEqual([]);
  });
  it('refuses a record whose sha256 is not its file’s, or that names other paths', () => {
    const lying = wheel({ sha256: h('c') });
    expect(
      kindOf(lying)
        .verify.record(lying, files)
        .map((p) => p.error),
    ).toEqual([
      `the wheel record declares sha256 ${h('c')} (the index's), the manifest's file list sha256 ${h('a')}`,
    ]);
    const stray = wheel({ paths: [`python/files/${f}`, 'files/example.com/x'] });
    expect(kindOf(stray).verify.record(stray, files)[0]).toMatchObject({ path: 'files/example.com/x' });
  });
  it('is the same download when filename and sha256 agree', () => {
    const k = kindOf(wheel());
    expect(k.fetch!.holds(wheel(), { filename: f, sha256: h('a') })).toBe(true);
    expect(k.fetch!.holds(wheel(), { filename: f, sha256: h('d') })).toBe(false);
    expect(k.name(wheel())).toBe(f);
  });
});
