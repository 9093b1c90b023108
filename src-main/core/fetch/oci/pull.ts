import fs from 'node:fs/promises';
import { FerryError } from '../../base/errors/index.js';
import { discardPartial, sidecarPath } from '../download/download-file.js';
import type { Limiter } from '../download/limit.js';
import { ociBlobPath } from '../../bundle/oci-layout.js';
import type { Descriptor } from './media.js';
import { formatPlatform, parsePlatform, selectPlatforms, type Platform } from './platform.js';
import { formatImageRef, manifestReference, parseImageRef } from './reference.js';
import type { Endpoint, FetchedManifest, RegistryClient } from './registry-client.js';

/**
 * Pull one image into an OCI blob store (the bundle's images/ layout): the top manifest or
 * index exactly as upstream serves it, then for each planned platform its manifest, config and
 * layers. Blobs the store already has are skipped; a blob another image is fetching right now
 * is awaited, not fetched twice.
 */

export interface BlobStore {
  hasBlob(digest: string): boolean;
  addBlobBytes(data: Buffer): Promise<{ digest: string }>;
  resumePath(key: string): string;
  commitBlob(tmp: string, digest: string, size: number): Promise<unknown>;
  /** Absolute path of a committed blob (to read a config). */
  blobFile(digest: string): string;
}

export interface PullContext {
  transfers: Limiter;
  /** Shared by every image of one fetch: digest → the download in progress. */
  inflight: Map<string, Promise<void>>;
  signal?: AbortSignal;
  onBytes?: (n: number) => void;
  /** Blobs this image still needs (not in the store), once its manifests are known. */
  onBlobsPlanned?: (blobs: Descriptor[]) => void;
  /** Bytes of a blob already on disk from an interrupted run (not to be fetched again). */
  onResumed?: (digest: string, bytes: number) => void;
  log?: (level: 'info' | 'warn', message: string) => void;
}

export interface PulledImage {
  ref: string;
  digest: string;
  mediaType: string;
  size: number;
  platforms: string[];
  /** Every bundle path this image consists of. */
  paths: string[];
  /** Blobs downloaded by this image (not shared ones others fetched, not ones already present). */
  blobsFetched: number;
}

export async function pullImage(
  client: RegistryClient,
  store: BlobStore,
  refString: string,
  platforms: string[],
  ctx: PullContext,
): Promise<PulledImage> {
  const ref = parseImageRef(refString);
  const name = formatImageRef(ref);
  const top = await client.getManifest(ref, manifestReference(ref), ctx.signal);
  const manifests: Array<{ fetched: FetchedManifest; platform?: string }> = [];
  const wanted: Platform[] = platforms.map(parsePlatform);
  if (top.parsed.kind === 'index') {
    const picks = selectPlatforms(top.parsed.manifests, wanted);
    const missing = picks.filter((p) => !p.entry).map((p) => formatPlatform(p.want));
    if (missing.length) {
      const have = top.parsed.manifests
        .filter((m) => m.platform && m.platform.os !== 'unknown')
        .map((m) => formatPlatform(m.platform as Platform));
      throw new FerryError(
        'UNSUPPORTED',
        `${name} has no image for ${missing.join(', ')}; it offers ${have.join(', ') || 'no platforms'}.`,
        {
          artifact: name,
          details: { missing, available: have },
          hint: 'Remove that architecture from the plan, or use an image (tag) that is built for it.',
        },
      );
    }
    const unique = picks.filter((p, i) => picks.findIndex((q) => q.entry!.digest === p.entry!.digest) === i);
    // The platform manifests are independent: ask for them together.
    const children = await Promise.all(
      unique.map((p) => client.getManifest(ref, p.entry!.digest, ctx.signal, top.endpoint)),
    );
    unique.forEach((p, i) => {
      if (children[i].parsed.kind !== 'manifest') {
        throw new FerryError(
          'UNSUPPORTED',
          `${name}: the index entry for ${formatPlatform(p.want)} is itself an index, which Ferry does not follow.`,
          {
            artifact: name,
          },
        );
      }
      manifests.push({ fetched: children[i], platform: formatPlatform(p.entry!.platform as Platform) });
    });
  } else {
    manifests.push({ fetched: top });
  }

  // A single-platform image says which platform it is in its config: read that first (it is
  // small), so an image built for another architecture is refused before its layers are fetched.
  const recorded: string[] = [];
  let fetched = 0;
  for (const m of manifests) {
    if (m.platform) {
      recorded.push(m.platform);
      continue;
    }
    if (m.fetched.parsed.kind !== 'manifest') continue;
    const cfg = m.fetched.parsed.config;
    if (await fetchBlob(client, store, top.endpoint, ref.repository, cfg, `${name} blob ${cfg.digest}`, ctx))
      fetched++;
    const p = await readConfigPlatform(store.blobFile(cfg.digest));
    if (!p) {
      recorded.push(...platforms);
      continue;
    }
    recorded.push(p);
    const matching = wanted.filter(
      (w) => p === formatPlatform(w) || p.startsWith(`${w.os}/${w.architecture}`),
    );
    if (matching.length === 0) {
      throw new FerryError(
        'UNSUPPORTED',
        `${name} is built only for ${p}, not for ${platforms.join(', ')}.`,
        {
          artifact: name,
          details: { available: [p], missing: platforms },
          hint: 'Remove that architecture from the plan, or use an image (tag) that is built for it.',
        },
      );
    }
    if (matching.length < wanted.length) {
      ctx.log?.(
        'warn',
        `${name} is built only for ${p}; nodes of the other planned platforms cannot run it.`,
      );
    }
  }

  const blobs = new Map<string, Descriptor>();
  for (const m of manifests) {
    if (m.fetched.parsed.kind !== 'manifest') continue;
    for (const d of [m.fetched.parsed.config, ...m.fetched.parsed.layers]) blobs.set(d.digest, d);
  }
  ctx.onBlobsPlanned?.([...blobs.values()].filter((d) => !store.hasBlob(d.digest)));
  await Promise.all(
    [...blobs.values()].map(async (d) => {
      if (await fetchBlob(client, store, top.endpoint, ref.repository, d, `${name} blob ${d.digest}`, ctx))
        fetched++;
    }),
  );

  // Manifests last, so the layout never names a manifest whose blobs are missing.
  for (const m of manifests) if (m.fetched !== top) await store.addBlobBytes(m.fetched.bytes);
  await store.addBlobBytes(top.bytes);

  const paths = new Set<string>([ociBlobPath(top.digest)]);
  for (const m of manifests) paths.add(ociBlobPath(m.fetched.digest));
  for (const d of blobs.keys()) paths.add(ociBlobPath(d));
  return {
    ref: name,
    digest: top.digest,
    mediaType: top.mediaType,
    size: top.bytes.length,
    platforms: [...new Set(recorded)].sort(),
    paths: [...paths],
    blobsFetched: fetched,
  };
}

/** Returns true when this call downloaded the blob. */
async function fetchBlob(
  client: RegistryClient,
  store: BlobStore,
  ep: Endpoint,
  repository: string,
  d: Descriptor,
  label: string,
  ctx: PullContext,
): Promise<boolean> {
  if (store.hasBlob(d.digest)) return false;
  const running = ctx.inflight.get(d.digest);
  if (running) {
    await running;
    return false;
  }
  const p = ctx.transfers.run(async () => {
    if (store.hasBlob(d.digest)) return;
    const tmp = store.resumePath(d.digest);
    let reported = false;
    const r = await client.downloadBlob(ep, repository, d.digest, d.size, tmp, {
      label,
      signal: ctx.signal,
      onBytes: ctx.onBytes,
      onSize: (_total, already) => {
        if (!reported && already > 0) ctx.onResumed?.(d.digest, already);
        reported = true;
      },
    });
    if (r.size !== d.size) {
      await discardPartial(tmp);
      throw new FerryError('INTEGRITY', `${label} is ${r.size} bytes, the manifest says ${d.size}.`, {
        artifact: label,
      });
    }
    await store.commitBlob(tmp, d.digest, r.size);
    await fs.rm(sidecarPath(tmp), { force: true });
  });
  ctx.inflight.set(d.digest, p);
  try {
    await p;
    return true;
  } finally {
    ctx.inflight.delete(d.digest);
  }
}

async function readConfigPlatform(file: string): Promise<string | undefined> {
  try {
    const st = await fs.stat(file);
    if (st.size > 4 << 20) return undefined;
    const cfg = JSON.parse(await fs.readFile(file, 'utf8'));
    if (typeof cfg.os === 'string' && typeof cfg.architecture === 'string') {
      return `${cfg.os}/${cfg.architecture}${typeof cfg.variant === 'string' && cfg.variant ? `/${cfg.variant}` : ''}`;
    }
  } catch {
    /* a config that is not JSON is carried as it is */
  }
  return undefined;
}
