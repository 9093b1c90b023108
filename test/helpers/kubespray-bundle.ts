import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { create as tarCreate } from 'tar';
import { computePlan, loadKubespray, type Plan } from '../../src-main/core/plan/catalog/index.js';
import { kubesprayDataDir } from './tools.js';
import { makeImage, writeTestBundle } from './oci-fixtures.js';

/** A Kubespray release tarball made from the shared role data (kubespray-<ver>/roles/…), as GitHub lays it out. */
export async function kubesprayTarball(tag: string, out: string): Promise<string> {
  await tarCreate(
    {
      gzip: true,
      file: out,
      cwd: path.join(kubesprayDataDir, tag),
      prefix: `kubespray-${tag.replace(/^v/, '')}`,
    },
    ['roles'],
  );
  return out;
}

/**
 * A bundle shaped exactly like the plan Kubespray's data gives for these variables: every planned
 * file and chart (random bytes at its files/<host>/<path>), every planned image (made-up content, the
 * planned platforms), the Kubespray tarball and plan.json.
 */
export async function writePlanBundle(
  dir: string,
  tag: string,
  vars: Record<string, unknown>,
  arches = ['amd64', 'arm64'],
): Promise<Plan> {
  const data = await loadKubespray({ dir: path.join(kubesprayDataDir, tag), tag });
  const plan = computePlan(data, { arches, vars });
  const tarball = await kubesprayTarball(tag, path.join(path.dirname(dir), `kubespray-${tag}.tar.gz`));
  const fs = await import('node:fs/promises');
  await writeTestBundle(dir, {
    files: [
      ...plan.files
        .filter((f) => f.enabled)
        .map((f) => ({ url: f.url, content: randomBytes(64), key: f.key, arch: f.arch })),
      // A cilium plan's chart and the index Ferry writes beside it (fetch-chart.test.ts fetches real ones).
      ...(plan.charts ?? []).flatMap((c) => [
        { url: c.url, content: randomBytes(64), key: c.key },
        { url: c.indexUrl, content: randomBytes(64), key: `${c.key}_index` },
      ]),
    ],
    images: plan.images
      .filter((i) => i.enabled)
      .map((i) => ({
        ref: i.ref,
        key: i.key,
        image: makeImage({ platforms: i.platforms, layers: 1, layerBytes: 64 }),
      })),
    kubespray: { version: tag, arches, tarball: await fs.readFile(tarball) },
    plan: { ...plan, vars },
  });
  return plan;
}
