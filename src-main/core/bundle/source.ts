import path from 'node:path';
import type { Manifest, FileEntry } from './manifest.js';
import type { OpenedBundle } from './reader.js';

/**
 * Where a bundle's bytes live, independent of layout: a bundle folder on disk or media, or the
 * local content-addressed store that import fills. Servers, push and export read through this,
 * so they work the same from `--bundle DIR` and from `--store DIR`.
 */
export interface BundleSource {
  /** The bundle id (manifest.id). */
  readonly id: string;
  readonly manifest: Manifest;
  /** The manifest entry of a bundle path, if the bundle lists it. */
  entry(rel: string): FileEntry | undefined;
  /** Absolute path of the bytes of a bundle path listed in the manifest. */
  filePath(rel: string): string | undefined;
}

export function directorySource(b: OpenedBundle): BundleSource {
  const byPath = new Map(b.manifest.files.map((f) => [f.path, f]));
  return {
    id: b.manifest.id,
    manifest: b.manifest,
    entry: (rel) => byPath.get(rel),
    filePath: (rel) => (byPath.has(rel) ? path.join(b.dir, ...rel.split('/')) : undefined),
  };
}
