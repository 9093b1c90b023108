import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ManifestSigner } from '../bundle/writer.js';
import { openBundle, type OpenedBundle } from '../bundle/reader.js';
import { PARTIAL_DIR, type Artifact, type Manifest } from '../bundle/manifest.js';
import { carriedHeld, kindOf, type CarryWant } from '../kinds/index.js';
import { filesAtSize } from '../bundle/intact.js';
import { assertBundlePath, filePathForUrl } from '../bundle/paths.js';
import { FerryError } from '../base/errors/index.js';
import { checkSignature } from '../bundle/keys/keystore.js';
import { formatImageRef, parseImageRef } from './oci/reference.js';
import type { ExtraFile, Plan, PlanChart } from '../plan/plan.js';
import type { FetchItemEvent } from './options.js';

/**
 * What a plan wants (one want per URL / image reference, the Kubespray tarball, each chart with
 * its index) and what of it a bundle already holds: the held-or-not test for one want, and for a
 * finished bundle as a whole (up to date: no request at all).
 */

export type Want =
  | {
      kind: 'file';
      id: string;
      key: string;
      url: string;
      arch?: string;
      checksum: string;
      path: string;
      name: string;
    }
  | { kind: 'image'; id: string; key: string; ref: string; platforms: string[]; name: string }
  | { kind: 'kubespray'; id: string; version: string; url: string; path: string; name: string }
  | {
      kind: 'chart';
      id: string;
      key: string;
      /** The manifest artifact of Ferry's index.yaml for this chart. */
      indexId: string;
      chart: PlanChart;
      name: string;
    };

function dirOf(p: string): string {
  return p.slice(0, p.lastIndexOf('/'));
}

/** Item events and the app know files, images and Kubespray: a chart and its index are files. */
export function itemKind(w: Want): FetchItemEvent['kind'] {
  return w.kind === 'chart' ? 'file' : w.kind;
}

/** The manifest artifacts one want becomes. */
export function artifactIds(w: Want): string[] {
  return w.kind === 'chart' ? [w.id, w.indexId] : [w.id];
}

function filePath(p: string | undefined, url: string): string {
  if (p) {
    assertBundlePath(p, `file path for ${url}`);
    return p;
  }
  return filePathForUrl(url);
}

/** The artifacts a plan asks for, one per URL / reference. */
export function wantedArtifacts(plan: Plan, extraFiles: ExtraFile[] = []): Want[] {
  const out: Want[] = [];
  const seen = new Set<string>();
  if (plan.kubesprayTarball) {
    const t = plan.kubesprayTarball;
    out.push({
      kind: 'kubespray',
      id: `kubespray:${plan.kubespray}`,
      version: plan.kubespray,
      url: t.url,
      path: filePath(t.path, t.url),
      name: `Kubespray ${plan.kubespray}`,
    });
  }
  for (const f of plan.files) {
    if (f.enabled === false || seen.has(f.url)) continue;
    if (!f.checksum) {
      throw new FerryError(
        'CHECKSUM',
        `${f.key} (${f.url}) has no published checksum; Ferry does not carry unverified files.`,
        {
          artifact: f.url,
          hint: 'Pick a version Kubespray has a checksum for, or add the file as an extra file with its sha256 in the profile.',
        },
      );
    }
    seen.add(f.url);
    out.push({
      kind: 'file',
      id: `file:${f.url}`,
      key: f.key,
      url: f.url,
      ...(f.arch ? { arch: f.arch } : {}),
      checksum: f.checksum,
      path: filePath(f.path, f.url),
      name: `${f.key}${f.arch ? ` (${f.arch})` : ''} ${f.url}`,
    });
  }
  for (const e of extraFiles) {
    if (seen.has(e.url)) continue;
    seen.add(e.url);
    const checksum = e.sha256.startsWith('sha256:') ? e.sha256 : `sha256:${e.sha256}`;
    const p = e.path
      ? e.path.startsWith('files/')
        ? e.path
        : `files/${e.path.replace(/^\/+/, '')}`
      : undefined;
    out.push({
      kind: 'file',
      id: `file:${e.url}`,
      key: 'extra',
      url: e.url,
      checksum,
      path: filePath(p, e.url),
      name: `extra ${e.url}`,
    });
  }
  for (const c of plan.charts ?? []) {
    if (seen.has(c.url)) continue;
    seen.add(c.url);
    assertBundlePath(c.path, `chart path for ${c.url}`);
    assertBundlePath(c.indexPath, `index path for ${c.indexUrl}`);
    // The index names the chart by a relative URL, so both must be served from one folder.
    if (dirOf(c.indexPath) !== dirOf(c.path)) {
      throw new FerryError('CONFIG', `The ${c.name} chart and its index must share a folder in the bundle.`, {
        artifact: c.path,
        hint: 'Make the plan again with `ferry plan`; do not edit the paths of its charts.',
      });
    }
    out.push({
      kind: 'chart',
      id: `file:${c.url}`,
      key: c.key,
      indexId: `file:${c.indexUrl}`,
      chart: c,
      name: `${c.key} ${c.url}`,
    });
  }
  const images = new Map<string, Want & { kind: 'image' }>();
  for (const i of plan.images) {
    if (i.enabled === false) continue;
    const ref = formatImageRef(parseImageRef(i.ref));
    const have = images.get(ref);
    if (have) {
      for (const p of i.platforms) if (!have.platforms.includes(p)) have.platforms.push(p);
      continue;
    }
    images.set(ref, {
      kind: 'image',
      id: `image:${ref}`,
      key: i.key,
      ref,
      platforms: [...i.platforms],
      name: ref,
    });
  }
  for (const w of images.values()) {
    w.platforms.sort();
    out.push(w);
  }
  return out;
}

export function planBytes(plan: Plan): Buffer {
  return Buffer.from(JSON.stringify(plan, null, 2) + '\n');
}

/** Does the bundle hold this artifact as the plan wants it? */
function matches(a: Artifact | undefined, w: Want): boolean {
  if (a && w.kind === 'chart')
    // The digest came from the repository's index when it was fetched; the manifest keeps it.
    return (
      a.kind === 'file' &&
      a.url === w.chart.url &&
      !!a.checksum &&
      a.paths.length === 1 &&
      a.paths[0] === w.chart.path
    );
  if (!a || a.kind !== w.kind) return false;
  const k = kindOf(a);
  if (!k.fetch) return false;
  if (w.kind === 'file')
    return k.fetch.holds(a, { url: w.url, checksum: recordedChecksum(w.checksum), paths: [w.path] });
  if (w.kind === 'image') return k.fetch.holds(a, { ref: w.ref, platforms: w.platforms });
  return k.fetch.holds(a, { version: w.version, url: w.url });
}

/** The want's artifacts when the bundle holds every one of them as the plan wants it. */
export function heldArtifacts(w: Want, get: (id: string) => Artifact | undefined): Artifact[] | undefined {
  const a = get(w.id);
  if (!matches(a, w)) return undefined;
  if (w.kind !== 'chart') return [a!];
  const i = get(w.indexId);
  if (!i || i.kind !== 'file' || i.url !== w.chart.indexUrl || i.paths.length !== 1) return undefined;
  if (i.paths[0] !== w.chart.indexPath) return undefined;
  return [a!, i];
}

/** The published checksum as the manifest records it: 'sha256:<hex>' or 'sha512:<hex>' (gVisor). */
export function recordedChecksum(c: string): string | undefined {
  const v = c.toLowerCase();
  return /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/.test(v) ? v : undefined;
}

export const FETCHED_KINDS = new Set(['file', 'image', 'kubespray']);

/**
 * A finished bundle that already is what this plan asks for (checked by name, size and plan
 * bytes), signed as this fetch would sign it, with no journal left over. A fetch killed between
 * the manifest and its signature, or before `.ferry-partial/` went, is not finished: the writer
 * then takes it up again, which downloads nothing and signs and cleans up.
 */
export async function upToDate(
  dir: string,
  wants: Want[],
  plan: Buffer,
  signer: ManifestSigner | undefined,
  carried: CarryWant,
): Promise<Manifest | undefined> {
  const journal = await fs.lstat(path.join(dir, PARTIAL_DIR)).then(
    () => true,
    () => false,
  );
  if (journal) return undefined;
  let b: OpenedBundle;
  try {
    b = await openBundle(dir);
  } catch {
    return undefined;
  }
  if (!(await signedAsWanted(b, signer))) return undefined;
  const m = b.manifest;
  const files = new Map(m.files.map((f) => [f.path, f]));
  const planEntry = files.get('plan.json');
  if (!planEntry || planEntry.sha256 !== createHash('sha256').update(plan).digest('hex')) return undefined;
  const byId = new Map(m.artifacts.map((a) => [a.id, a]));
  const wantIds = new Set(wants.flatMap(artifactIds));
  if (m.artifacts.some((a) => FETCHED_KINDS.has(a.kind) && !wantIds.has(a.id))) return undefined;
  for (const w of wants) {
    const held = heldArtifacts(w, (id) => byId.get(id));
    if (!held) return undefined;
    const paths = held.flatMap((a) => a.paths);
    if (!(await filesAtSize(dir, paths, (p) => files.get(p)?.size))) return undefined;
  }
  // What the kinds carry from their own plan sections (OS packages, wheels) and the tools.
  if (!(await carriedHeld(dir, m, carried))) return undefined;
  return m;
}

/**
 * With a key: a signature over these exact manifest bytes, by that key (a bundle signed by an
 * earlier key is signed again). Without one: no signature, or any valid one, is as a fetch leaves it.
 */
async function signedAsWanted(b: OpenedBundle, signer: ManifestSigner | undefined): Promise<boolean> {
  if (!b.signatureBytes) return signer === undefined;
  // No trusted keys: 'unknown-key' is what a signature that verifies gets.
  const s = await checkSignature(b.manifestBytes, b.signatureBytes, []);
  if (s.status !== 'unknown-key') return false;
  const fp = (signer as { fingerprint?: string } | undefined)?.fingerprint;
  return fp === undefined || s.fingerprint === fp;
}
