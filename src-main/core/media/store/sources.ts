import fs from 'node:fs';
import type { FileEntry, Manifest } from '../../bundle/manifest.js';
import type { BundleSource } from '../../bundle/source.js';
import { FerryError } from '../../base/errors/index.js';
import { Store, type StoredBundle } from './store.js';

/**
 * The files a stored bundle consists of, with a delta's base resolved: its own files plus, for
 * every path its artifacts name that it does not list, the entry from its base (recursively).
 */
export async function resolveFiles(
  store: Store,
  b: StoredBundle,
  depth = 0,
): Promise<Map<string, FileEntry>> {
  const own = new Map(b.manifest.files.map((f) => [f.path, f]));
  if (!b.manifest.base) return own;
  if (depth > 32)
    throw new FerryError('INTEGRITY', `The delta chain of ${b.manifest.id} is too long or circular.`);
  const base = await store.get(b.manifest.base.id, b.manifest.base.manifestSha256);
  if (!base) {
    throw new FerryError(
      'NOT_FOUND',
      `Bundle ${b.manifest.id} is a delta of ${b.manifest.base.id}, which is not in the store.`,
      {
        artifact: b.manifest.base.id,
        hint: 'Import the base bundle first.',
      },
    );
  }
  const baseFiles = await resolveFiles(store, base, depth + 1);
  const merged = new Map(own);
  for (const a of b.manifest.artifacts) {
    for (const p of a.paths) {
      if (!merged.has(p)) {
        const e = baseFiles.get(p);
        if (e) merged.set(p, { path: e.path, size: e.size, sha256: e.sha256 });
      }
    }
  }
  return merged;
}

/**
 * A stored bundle as a BundleSource: the manifest is the bundle's own with a delta's base folded in
 * (files complete, no `base`), so a server sees a whole bundle; paths map to blobs by sha256.
 */
export async function storeSource(store: Store, b: StoredBundle): Promise<BundleSource> {
  const files = await resolveFiles(store, b);
  const manifest: Manifest = {
    ...b.manifest,
    files: [...files.values()].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0)),
  };
  delete (manifest as { base?: unknown }).base;
  return {
    id: b.manifest.id,
    manifest,
    entry: (rel) => files.get(rel),
    filePath: (rel) => {
      const e = files.get(rel);
      if (!e) return undefined;
      const p = store.blobPath(e.sha256);
      return fs.existsSync(p) ? p : undefined;
    },
  };
}

/**
 * Every complete bundle in the store at `storeDir`, as BundleSources (for `ferry serve --store DIR`),
 * one per bundle id: its most recently imported complete version. Incomplete bundles (damaged or
 * missing artifacts awaiting repair) are left out.
 */
export async function storeSources(storeDir: string): Promise<BundleSource[]> {
  const store = new Store(storeDir);
  const out: BundleSource[] = [];
  const latest = new Map<string, StoredBundle>();
  for (const b of await store.list()) if (b.record.status === 'complete') latest.set(b.record.bundleId, b);
  for (const b of latest.values()) {
    try {
      out.push(await storeSource(store, b));
    } catch {
      // A delta whose base was removed cannot be served; `ferry store ls` shows why.
    }
  }
  return out;
}
