/** Bundle format v1: create, read and describe bundles (docs/bundle-format.md). */
export * from './manifest.js';
export * from './paths.js';
export * from './oci-layout.js';
export { BundleWriter, TOOL, type ManifestSigner } from './writer.js';
export { openBundle, walkBundleTree, type OpenedBundle, type TreeEntry } from './reader.js';
export { directorySource, type BundleSource } from './source.js';
