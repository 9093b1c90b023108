import { parse, stringify } from 'yaml';
import { FerryError } from '../base/errors/index.js';

/**
 * A Helm repository's index.yaml, read and written. Upstream's (helm.cilium.io's is several MB:
 * every version ever released) is read only for the one entry Ferry carries: its digest is the
 * chart's published sha256, which Kubespray's data does not have. The index Ferry writes into
 * the bundle lists only that entry, with a relative URL, so the chart resolves against whatever
 * address files_repo has on the offline side (Helm resolves entry URLs against the repository
 * URL).
 */

/** Larger than any real index (helm.cilium.io's is a few MB); keeps a hostile one out of memory. */
export const MAX_INDEX_BYTES = 64 << 20;

export interface ChartEntry {
  name: string;
  version: string;
  /** sha256 hex of the chart archive. */
  digest: string;
  /** The entry's metadata as upstream gives it (apiVersion, appVersion, description, created, …). */
  meta: Record<string, unknown>;
}

/** Metadata Ferry copies from upstream's entry; Helm validates name, version and apiVersion. */
const KEEP = [
  'apiVersion',
  'name',
  'version',
  'appVersion',
  'kubeVersion',
  'description',
  'type',
  'home',
  'icon',
  'keywords',
  'sources',
  'annotations',
  'created',
] as const;

/** The entry for `name` `version` in an upstream index, or a CONFIG/INTEGRITY error that says what to do. */
export function findChartEntry(bytes: Buffer, name: string, version: string, indexUrl: string): ChartEntry {
  if (bytes.length > MAX_INDEX_BYTES) {
    throw new FerryError('HOSTILE', `${indexUrl} is larger than ${MAX_INDEX_BYTES >> 20} MiB.`, {
      artifact: indexUrl,
    });
  }
  let doc: unknown;
  try {
    // Aliases stay capped (yaml's default), so a small hostile index cannot expand without bound.
    doc = parse(bytes.toString('utf8'), { maxAliasCount: 100, uniqueKeys: false });
  } catch (err) {
    throw new FerryError(
      'INTEGRITY',
      `${indexUrl} is not a Helm repository index: ${(err as Error).message}`,
      {
        artifact: indexUrl,
        hint: 'Check that the URL (or its --mirror) serves a Helm repository index.yaml.',
      },
    );
  }
  const entries = (doc as { entries?: unknown } | null)?.entries;
  const list =
    entries && typeof entries === 'object' ? (entries as Record<string, unknown>)[name] : undefined;
  if (!Array.isArray(list)) {
    throw new FerryError('INTEGRITY', `${indexUrl} lists no chart named '${name}'.`, {
      artifact: indexUrl,
      hint: 'Check that the URL (or its --mirror) serves the chart repository Kubespray installs from.',
    });
  }
  const bare = (v: unknown) => String(v ?? '').replace(/^v/, '');
  const hit = list.find(
    (e): e is Record<string, unknown> =>
      !!e && typeof e === 'object' && bare((e as { version?: unknown }).version) === version,
  );
  if (!hit) {
    const known = list
      .map((e) => bare((e as { version?: unknown })?.version))
      .filter((v) => /^\d+\.\d+\.\d+$/.test(v))
      .slice(0, 8);
    throw new FerryError('NOT_FOUND', `${indexUrl} lists no ${name} chart ${version}.`, {
      artifact: `${name}-${version}.tgz`,
      hint: `Set cilium_version to a version the repository has${known.length ? ` (e.g. ${known.join(', ')})` : ''}, or point --mirror ${indexUrl.replace(/index\.yaml$/, '')}=… at a repository that has ${name} ${version}.`,
    });
  }
  const digest = String(hit.digest ?? '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(digest)) {
    throw new FerryError(
      'CHECKSUM',
      `${indexUrl} gives no sha256 digest for ${name} ${version} ('${String(hit.digest ?? '')}'); Ferry does not carry unverified files.`,
      { artifact: `${name}-${version}.tgz` },
    );
  }
  const meta: Record<string, unknown> = {};
  for (const k of KEEP) if (hit[k] !== undefined && hit[k] !== null) meta[k] = hit[k];
  return { name, version, digest, meta };
}

/**
 * Ferry's own index.yaml for one chart: what `helm repo`/the cilium CLI need to find it. Built
 * only from upstream's entry, so it is the same bytes on every fetch of the same chart.
 */
export function chartIndexYaml(entry: ChartEntry, fileName: string): string {
  const created = typeof entry.meta.created === 'string' ? entry.meta.created : '1970-01-01T00:00:00Z';
  const e: Record<string, unknown> = {
    apiVersion: 'v2',
    ...entry.meta,
    name: entry.name,
    version: entry.version,
    created,
    digest: entry.digest,
    urls: [fileName],
  };
  const index = { apiVersion: 'v1', entries: { [entry.name]: [e] }, generated: created };
  return stringify(index, { lineWidth: 0 });
}
