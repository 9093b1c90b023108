import fs from 'node:fs/promises';
import type { BundleSource } from '../../bundle/source.js';
import { loadKubespray, type KubesprayData } from '../../plan/catalog/index.js';
import { FerryError } from '../../base/errors/index.js';
import { kubesprayRelease } from '../../kinds/index.js';
import { parsePlan, type Plan } from '../../plan/plan.js';

/** The Kubespray release the bundle carries, loaded from its own (verified) tarball. */
export async function loadBundleKubespray(src: BundleSource, signal?: AbortSignal): Promise<KubesprayData> {
  const release = kubesprayRelease(src.manifest);
  const rel = release?.tarball;
  const file = rel ? src.filePath(rel) : undefined;
  if (!release || !rel || !file) {
    throw new FerryError(
      'NOT_FOUND',
      `Bundle ${src.id} holds no verified Kubespray tarball, so Ferry cannot tell which variables its Kubespray version has.`,
      {
        artifact: 'kubespray/',
        hint: 'Fetch the bundle with its Kubespray release (the default), or pass --kubespray DIR|TARBALL.',
      },
    );
  }
  return loadKubespray({ tarball: file, tag: release.artifact.version }, { signal });
}

/** The plan the bundle was made from (plan.json), if it has one. */
export async function readBundlePlan(src: BundleSource): Promise<Plan | undefined> {
  const file = src.filePath('plan.json');
  const e = src.entry('plan.json');
  if (!file || !e) return undefined;
  if (e.size > 16 * 1024 * 1024)
    throw new FerryError('HOSTILE', 'plan.json of the bundle is oversized.', { artifact: 'plan.json' });
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw new FerryError(
      'INTEGRITY',
      `plan.json of bundle ${src.id} is not JSON: ${(err as Error).message}`,
      { artifact: 'plan.json' },
    );
  }
  return parsePlan(json, 'plan.json');
}

/** Raw (unevaluated) defaults of the tag's kubespray defaults role: what `generateVars` decides on. */
export function rawDefaults(data: KubesprayData): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of data.defaults.entries()) out.set(String(k), v);
  for (const [k, v] of data.vars.entries()) out.set(String(k), v);
  return out;
}
