import { randomBytes } from 'node:crypto';
import { filePathForUrl } from '../../../src-main/core/bundle/paths.js';
import type { Plan } from '../../../src-main/core/plan/plan.js';
import type { FileHost } from './file-host.js';

/**
 * Plans that point at the world. Real Kubespray checksums cannot match our bytes, so these plans
 * list files on the world's file host with the checksums of the bytes it serves.
 */
export interface PlanSpec {
  files?: Array<{
    key: string;
    url: string;
    checksum: string;
    arch?: string;
    path?: string;
    enabled?: boolean;
  }>;
  images?: Array<{ key: string; ref: string; platforms?: string[]; enabled?: boolean }>;
  kubespray?: string;
  kubesprayTarball?: { url: string; path?: string };
  arches?: string[];
}

export function makePlan(spec: PlanSpec): Plan {
  const kubespray = spec.kubespray ?? 'v2.29.1';
  return {
    kubespray,
    kubeVersion: 'v1.33.4',
    arches: spec.arches ?? ['amd64'],
    files: (spec.files ?? []).map((f) => ({
      key: f.key,
      ...(f.arch ? { arch: f.arch } : {}),
      url: f.url,
      checksum: f.checksum,
      path: f.path ?? filePathForUrl(f.url),
      enabled: f.enabled ?? true,
    })),
    images: (spec.images ?? []).map((i) => ({
      key: i.key,
      ref: i.ref,
      platforms: i.platforms ?? ['linux/amd64'],
      enabled: i.enabled ?? true,
    })),
    vars: {},
    ...(spec.kubesprayTarball
      ? {
          kubesprayTarball: {
            url: spec.kubesprayTarball.url,
            path: spec.kubesprayTarball.path ?? `kubespray/kubespray-${kubespray}.tar.gz`,
          },
        }
      : {}),
  };
}

/** Host `count` random files of `size` bytes under /dl/<name>-<i>.bin and return plan entries for them. */
export function hostRandomFiles(
  host: FileHost,
  count: number,
  size: number,
  name = 'file',
): NonNullable<PlanSpec['files']> {
  return Array.from({ length: count }, (_, i) => {
    const f = host.add(`/dl/${name}-${i}.bin`, randomBytes(size));
    return { key: `${name}${i}`, url: f.url, checksum: f.checksum };
  });
}
