import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { FerryError } from '../../base/errors/index.js';
import type { BundleSource } from '../../bundle/source.js';
import type { CredentialStore } from '../../fetch/oci/auth.js';
import { PushClient } from '../../fetch/oci/push-client.js';
import type { ProgressTracker } from '../../base/jobs/progress.js';
import { readLocated } from '../fileserver/location.js';
import {
  loadRegistryContent,
  type BlobLocation,
  type ManifestRecord,
  type Repository,
} from '../registry/content.js';
import { targetRepository, type PushTarget } from './target.js';

/**
 * `ferry push`: copy every verified image of the bundle into a registry the site already runs.
 * Per blob: HEAD first (already there → skip), else a cross-repository mount from a repository
 * this run already filled, else an upload — monolithic (POST + one PUT) up to `chunkSize`,
 * chunked (POST, PATCH…, PUT) above it. Manifests go by digest first, then the tag, so a tag
 * never points at something incomplete. Names are Kubespray style under the target prefix.
 * The protocol itself is core/fetch/oci/push-client.ts, next to the pull client; this file
 * decides what goes where and counts it.
 */

export interface PushOptions {
  sources: BundleSource[];
  target: PushTarget;
  credentials?: CredentialStore;
  /** Extra CA (PEM) for the target registry. */
  ca?: string;
  /** Plain HTTP (or HTTPS without verification when `scheme` is https). */
  insecure?: boolean;
  scheme?: 'https' | 'http';
  /** Blobs larger than this are uploaded in chunks of this size. Default 32 MiB. */
  chunkSize?: number;
  /** Force every blob through chunked upload (registries that refuse monolithic PUTs). */
  alwaysChunked?: boolean;
  concurrency?: number;
  signal?: AbortSignal;
  progress?: ProgressTracker;
  onItem?: (item: PushItem) => void;
  log?: (level: 'info' | 'warn', message: string) => void;
}

export interface PushItem {
  ref: string;
  target: string;
  status: 'pushed' | 'present' | 'failed' | 'skipped';
  blobs: { uploaded: number; mounted: number; present: number };
  bytesUploaded: number;
  error?: string;
  /** Set when the bundle holds only some platforms of an index and a reduced index was pushed. */
  reducedIndex?: { digest: string; upstreamDigest: string; platforms: number };
}

export interface PushSummary {
  registry: string;
  prefix: string;
  images: PushItem[];
  counts: {
    pushed: number;
    present: number;
    failed: number;
    skipped: number;
    blobsUploaded: number;
    blobsMounted: number;
    blobsPresent: number;
    bytesUploaded: number;
  };
  seconds: number;
}

const DEFAULT_CHUNK = 32 * 1024 * 1024;

export async function pushImages(o: PushOptions): Promise<PushSummary> {
  const started = Date.now();
  const content = await loadRegistryContent(o.sources);
  const scheme = o.scheme ?? (o.insecure && !o.ca ? 'http' : 'https');
  const client = new PushClient({
    host: o.target.host,
    scheme,
    credentials: o.credentials,
    ...(o.ca ? { ca: o.ca } : {}),
    ...(o.insecure ? { insecure: true } : {}),
    signal: o.signal,
  });
  const chunk = Math.max(1024, o.chunkSize ?? DEFAULT_CHUNK);
  const items: PushItem[] = [];
  // Where each blob already lives on the target in this run, for cross-repository mounts.
  const placed = new Map<string, string>();
  const inflight = new Map<string, Promise<unknown>>();

  // Kubespray-style names under the prefix: two upstreams with one path would land on one name.
  const byTarget = new Map<string, Repository[]>();
  for (const repo of content.repositories.values()) {
    const t = targetRepository(o.target, repo.path);
    byTarget.set(t, [...(byTarget.get(t) ?? []), repo]);
  }
  const progress = o.progress;
  if (progress) {
    progress.setPhase('pushing');
    progress.itemsTotal = content.images.length;
    const sizes = new Map<string, number>();
    for (const r of content.repositories.values()) for (const [d, b] of r.blobs) sizes.set(d, b.size);
    progress.bytesTotal = [...sizes.values()].reduce((a, b) => a + b, 0);
  }

  const repos = [...byTarget.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  // Counting through a Transform: a 'data' listener on the file stream would start it flowing
  // before undici reads it, and the first chunks would be lost.
  const counted = (stream: NodeJS.ReadableStream) =>
    stream.pipe(
      new Transform({
        transform(c: Buffer, _e, cb) {
          progress?.addBytes(c.length);
          cb(null, c);
        },
      }),
    );

  const uploadBlob = async (t: string, digest: string, b: BlobLocation, item: PushItem): Promise<void> => {
    if (await client.hasBlob(t, digest)) {
      item.blobs.present++;
      progress?.addBytes(b.size);
      placed.set(digest, t);
      return;
    }
    const start = await client.startUpload(t, digest, placed.get(digest));
    if (start.mounted) {
      item.blobs.mounted++;
      progress?.addBytes(b.size);
      placed.set(digest, t);
      return;
    }
    if (!o.alwaysChunked && b.size <= chunk) {
      await client.putBlob(t, start.location, digest, b.size, () => counted(readLocated(b)));
    } else {
      await client.putBlobChunked(t, start.location, digest, b.size, chunk, (off, end) =>
        counted(readLocated(b, off, end)),
      );
    }
    item.blobs.uploaded++;
    item.bytesUploaded += b.size;
    placed.set(digest, t);
  };

  // One upload per blob at a time across the run: a layer shared by ten images is sent once and mounted nine times.
  const ensureBlob = async (t: string, digest: string, b: BlobLocation, item: PushItem) => {
    const prev = inflight.get(digest) ?? Promise.resolve();
    const p = prev.catch(() => undefined).then(() => uploadBlob(t, digest, b, item));
    inflight.set(digest, p);
    try {
      await p;
    } finally {
      if (inflight.get(digest) === p) inflight.delete(digest);
    }
  };

  /**
   * Registries refuse an index whose platform manifests they do not have (MANIFEST_BLOB_UNKNOWN),
   * and a bundle usually holds only the platforms the cluster needs. Such an index is pushed
   * reduced to the platforms present: a new digest (reported), same tag, same platform manifests.
   */
  const reduceIndex = async (
    repo: Repository,
    top: ManifestRecord,
  ): Promise<{ bytes: Buffer; digest: string; platforms: number } | undefined> => {
    if (!/index|manifest\.list/.test(top.mediaType)) return undefined;
    const json = JSON.parse(top.body.toString('utf8')) as {
      manifests: Array<{ digest: string }>;
    };
    const kept = json.manifests.filter((d) => repo.manifests.has(d.digest));
    if (kept.length === json.manifests.length) return undefined;
    const bytes = Buffer.from(JSON.stringify({ ...json, manifests: kept }));
    return {
      bytes,
      digest: 'sha256:' + createHash('sha256').update(bytes).digest('hex'),
      platforms: kept.length,
    };
  };

  const putManifest = async (
    t: string,
    reference: string,
    m: ManifestRecord,
    body?: { bytes: Buffer; digest: string },
  ) => {
    // The manifest's bytes verified at start, not a re-read.
    const bytes = body?.bytes ?? m.body;
    m = body ? { ...m, digest: body.digest } : m;
    const got = await client.putManifest(t, reference, m.mediaType, bytes);
    if (got && got !== m.digest) {
      throw new FerryError(
        'INTEGRITY',
        `${o.target.host}/${t}: the registry stored manifest ${m.digest} as ${got}.`,
        {
          artifact: `${o.target.host}/${t}:${reference}`,
          hint: 'The registry rewrites manifests (some convert formats); nodes pulling by digest would fail. Use another registry or project.',
        },
      );
    }
  };

  // A tag's row: what it is in the bundle and what it becomes on the target, nothing sent yet.
  const itemFor = (
    repo: { fullName: string },
    t: string,
    tag: string,
    status: PushItem['status'],
  ): PushItem => ({
    ref: `${repo.fullName}:${tag}`,
    target: `${o.target.host}/${t}:${tag}`,
    status,
    blobs: { uploaded: 0, mounted: 0, present: 0 },
    bytesUploaded: 0,
  });
  const tasks: Array<() => Promise<void>> = [];
  for (const [t, group] of repos) {
    if (group.length > 1) {
      for (const repo of group) {
        for (const tag of repo.tags.keys()) {
          const item: PushItem = {
            ...itemFor(repo, t, tag, 'skipped'),
            error: `${group.map((g) => g.fullName).join(' and ')} would both become ${t}`,
          };
          items.push(item);
          o.onItem?.(item);
        }
      }
      continue;
    }
    const repo = group[0];
    for (const [tag, digest] of repo.tags) {
      const item = itemFor(repo, t, tag, 'pushed');
      items.push(item);
      tasks.push(async () => {
        try {
          const top = repo.manifests.get(digest)!;
          const reduced = await reduceIndex(repo, top);
          if (reduced)
            item.reducedIndex = {
              digest: reduced.digest,
              upstreamDigest: digest,
              platforms: reduced.platforms,
            };
          if ((await client.manifestDigest(t, tag, top.mediaType)) === (reduced?.digest ?? digest)) {
            item.status = 'present';
            for (const b of repo.blobs.values()) progress?.addBytes(b.size);
            return;
          }
          for (const [d, b] of repo.blobs) await ensureBlob(t, d, b, item);
          for (const m of repo.manifests.values()) if (m.digest !== digest) await putManifest(t, m.digest, m);
          await putManifest(t, tag, top, reduced);
        } catch (err) {
          if (err instanceof FerryError && err.code === 'CANCELLED') throw err;
          item.status = 'failed';
          item.error = (err as Error).message;
          o.log?.('warn', `${item.ref}: ${item.error}`);
        } finally {
          if (progress) {
            progress.itemsDone++;
            if (item.status === 'failed') progress.itemsFailed++;
          }
          o.onItem?.(item);
        }
      });
    }
  }
  // Fail fast on an unreachable registry or bad credentials instead of once per image.
  try {
    await client.ping();
  } catch (err) {
    await client.close();
    throw err;
  }
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: Math.max(1, o.concurrency ?? 3) }, async () => {
        while (next < tasks.length) await tasks[next++]();
      }),
    );
  } finally {
    await client.close();
  }
  const counts = {
    pushed: items.filter((i) => i.status === 'pushed').length,
    present: items.filter((i) => i.status === 'present').length,
    failed: items.filter((i) => i.status === 'failed').length,
    skipped: items.filter((i) => i.status === 'skipped').length,
    blobsUploaded: items.reduce((s, i) => s + i.blobs.uploaded, 0),
    blobsMounted: items.reduce((s, i) => s + i.blobs.mounted, 0),
    blobsPresent: items.reduce((s, i) => s + i.blobs.present, 0),
    bytesUploaded: items.reduce((s, i) => s + i.bytesUploaded, 0),
  };
  return {
    registry: o.target.host,
    prefix: o.target.prefix,
    images: items.sort((a, b) => a.ref.localeCompare(b.ref)),
    counts,
    seconds: (Date.now() - started) / 1000,
  };
}
