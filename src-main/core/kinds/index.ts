import type { Artifact } from '../bundle/manifest.js';
import type { ArtifactKind } from './kind.js';
import { fileKind } from './file/index.js';
import { imageKind } from './image/index.js';
import { kubesprayKind } from './kubespray/index.js';
import { metaKind } from './meta/index.js';
import { debKind, repoKind, rpmKind, wheelKind } from './carried.js';
import { toolKind } from './tool/kind.js';

export type { ArtifactKind } from './kind.js';
export { kubesprayRelease } from './kubespray/index.js';

/**
 * Every artifact kind the manifest knows, keyed by its `kind`. The mapped type makes a kind the
 * manifest schema gains without an entry here a type error; test/unit/kinds/registry.test.ts
 * checks the same against the zod union at run time.
 */
export const KINDS: { readonly [K in Artifact['kind']]: ArtifactKind<Extract<Artifact, { kind: K }>> } = {
  file: fileKind,
  image: imageKind,
  kubespray: kubesprayKind,
  meta: metaKind,
  deb: debKind,
  rpm: rpmKind,
  wheel: wheelKind,
  tool: toolKind,
  repo: repoKind,
};

/** The kind module of one artifact, typed for it. */
export function kindOf<A extends Artifact>(a: A): ArtifactKind<A> {
  return KINDS[a.kind as A['kind']] as unknown as ArtifactKind<A>;
}

/** The human name of an artifact, as its kind gives it. */
export function artifactName(a: Artifact): string {
  return kindOf(a).name(a);
}

/** How many artifacts of each kind (every kind present, zero when absent). */
export function countKinds(artifacts: readonly Artifact[]): Record<Artifact['kind'], number> {
  const out = Object.fromEntries(Object.keys(KINDS).map((k) => [k, 0])) as Record<Artifact['kind'], number>;
  for (const a of artifacts) out[a.kind]++;
  return out;
}

/** The upstream hosts clients would pull the bundle's artifacts from, sorted (registry mirrors). */
export function upstreamHosts(artifacts: readonly Artifact[]): string[] {
  const hosts = new Set<string>();
  for (const a of artifacts) {
    const h = kindOf(a).serve.upstream?.(a);
    if (h) hosts.add(h);
  }
  return [...hosts].sort();
}
