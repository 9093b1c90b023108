import type { Artifact, Manifest } from '../bundle/manifest.js';
import type { ArtifactKind, CarryWant } from './kind.js';
import { fileKind } from './file/index.js';
import { imageKind } from './image/index.js';
import { kubesprayKind } from './kubespray/index.js';
import { metaKind } from './meta/index.js';
import { rpmKind } from './rpm/kind.js';
import { debKind, repoKind } from './deb/kind.js';
import { wheelKind } from './python/kind.js';
import { wheelCarry } from './python/carry.js';
import { toolKind } from './tool/kind.js';

export type { ArtifactKind, CarryContext, CarryOutcome, CarryWant } from './kind.js';
export { kubesprayRelease } from './kubespray/index.js';
// The wheel kind's offline side, for serve (the /simple/ index) and deploy (the venv).
export { PythonIndex } from './python/serve.js';
export { createVenv, type VenvOptions, type VenvResult } from './python/venv.js';

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
  wheel: { ...wheelKind, ...wheelCarry },
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

const ALL_KINDS: readonly ArtifactKind[] = Object.values(KINDS) as ArtifactKind[];

/** The kinds that carry a section of their own (kinds/kind.ts `carry`), in registry order. */
export const CARRYING_KINDS: readonly ArtifactKind[] = ALL_KINDS.filter((k) => k.carry);

/** Every item the carrying kinds will count (fetch's totals and progress). */
export function plannedItems(want: CarryWant): Array<{ id: string; name: string }> {
  return ALL_KINDS.flatMap((k) => k.planned?.(want) ?? []);
}

/** Does a finished bundle hold all that every carrying kind would carry? */
export async function carriedHeld(dir: string, m: Manifest, want: CarryWant): Promise<boolean> {
  for (const k of ALL_KINDS) if (k.held && !(await k.held(dir, m, want))) return false;
  return true;
}

/** The extra [url, bundle path] pairs the kinds ask the file server to answer. */
export function servedAliases(artifacts: readonly Artifact[]): Array<[string, string]> {
  return ALL_KINDS.flatMap((k) => k.serve.aliases?.(artifacts) ?? []);
}

/** The offline variables every kind contributes for this bundle (apt repositories, pip, …). */
export async function kindVars(
  src: Parameters<NonNullable<ArtifactKind['vars']>>[0],
  filesUrl: string,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const k of ALL_KINDS) if (k.vars) Object.assign(out, await k.vars(src, filesUrl));
  return out;
}

// The tool kind's exec-bit helpers, for export and import (stages reach a kind only through this
// module). Only bundle.ts: the finding code (source.ts) is the CLI's to call.
export { makeExecutable, markToolsExecutable, toolArtifacts } from './tool/bundle.js';
export type { ToolFile } from './tool/source.js';
