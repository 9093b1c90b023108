/**
 * The `tool` artifact kind: Ferry's own standalone executables, carried in the bundle under
 * `tools/` so the offline deploy host runs import, serve and deploy from the stick itself.
 * source.ts finds them on the connected machine; bundle.ts puts them in a bundle and gives back
 * their executable bit wherever a copy lands; kind.ts is its entry in the registry (kinds/index.ts).
 */
export * from './paths.js';
export * from './source.js';
export * from './bundle.js';
