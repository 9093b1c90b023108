/**
 * The local content-addressed store (default: `<dataDir()>/store`), filled by `ferry import`.
 *
 * For servers: `storeSources(storeDir): Promise<BundleSource[]>` returns every complete bundle in
 * the store as a BundleSource (src-main/core/bundle/source.ts). Each source's `manifest` is the
 * bundle's own manifest with a delta's base folded in (complete `files`, no `base`), `entry(rel)`
 * gives the file entry for a bundle path, and `filePath(rel)` the blob on disk
 * (`<store>/blobs/sha256/<hex>`), or undefined when the path is not part of the bundle. Bundles
 * that are incomplete (damaged or missing artifacts, awaiting repair) are not returned.
 *
 * Layout and guarantees: see store.ts. Listing and gc: `Store.list()`, `gcStore()`.
 */
export * from './store.js';
export { storeSources, storeSource, resolveFiles } from './sources.js';
export { gcStore, type GcResult } from './gc.js';
