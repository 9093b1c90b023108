import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { FerryError } from '../base/errors/index.js';
import { dataDir } from '../base/config/dirs.js';
import { HttpClient } from './download/http-client.js';
import { mergeProxyConfig, proxyConfigFromEnv, type ProxyConfig } from './download/proxy.js';
import { CredentialStore, defaultAuthFiles, type RegistrySettings } from './oci/auth.js';
import { Limiter } from './download/limit.js';
import { mirrorUrl, type MirrorMap } from './download/mirrors.js';
import { formatPlatform, parsePlatform, selectPlatforms, type Platform } from './oci/platform.js';
import { manifestReference, parseImageRef } from './oci/reference.js';
import { RegistryClient } from './oci/registry-client.js';

/**
 * The bundle's size before a byte of it is downloaded. Files: a HEAD request each (redirects
 * followed; a server that refuses HEAD is asked for one byte with Range, whose Content-Range
 * names the total), cached by URL and checksum, since a file with a published checksum does not
 * change size. Images: the registry's manifests, summing the config and layers of the planned
 * platforms, each blob counted once over the whole plan (images that share a base layer carry
 * it once, as the bundle's blob store does). Whatever cannot be sized is reported as unknown
 * with the reason, never guessed.
 */

export interface SizedArtifact {
  kind: 'file' | 'image' | 'chart' | 'kubespray' | 'debs' | 'rpms' | 'wheels';
  key: string;
  /** URL or image reference. */
  name: string;
  /**
   * Bytes this artifact adds to the bundle: for images, the blobs no earlier image of the plan
   * already brings (so the artifacts add up to the total). Null: not known.
   */
  bytes: number | null;
  /** Images: every blob of the planned platforms, shared ones included. */
  imageBytes?: number;
  /** The largest single file this artifact puts on the drive (an image's largest blob). */
  largestFile?: number;
  /** Why the size is unknown. */
  unknown?: string;
  /**
   * The room chart's group when the key does not name a Kubespray component: OS packages
   * ('os packages debian-12') and wheels ('python 3.11 x86_64'), as core/plan/room names them.
   */
  group?: string;
}

export interface PlanSizes {
  artifacts: SizedArtifact[];
  /** Sum of what is known. */
  knownBytes: number;
  /** How many artifacts could not be sized (the total is then a lower bound). */
  unsized: number;
  /** Image bytes not counted twice because several images share those blobs. */
  sharedImageBytes: number;
}

/**
 * What sizing needs of a plan (the catalog's plan and a plan file's alike). Its optional fields
 * take undefined too, as the zod-parsed plan gives every `.optional()`.
 */
export interface SizablePlan {
  files: ReadonlyArray<{ key: string; url: string; checksum: string; enabled?: boolean | undefined }>;
  images: ReadonlyArray<{ key: string; ref: string; platforms: string[]; enabled?: boolean | undefined }>;
  charts?: ReadonlyArray<{ key: string; url: string; version: string }> | undefined;
  kubesprayTarball?: { url: string } | undefined;
  /** OS package sets (kinds/deb): every size is in the signed Packages stanza already. */
  debs?:
    | ReadonlyArray<{
        os: string;
        packages: ReadonlyArray<{ filename: string; size: number }>;
      }>
    | undefined;
  /** RPM sets (kinds/rpm): sizes from primary, itself verified through the repomd. */
  rpms?:
    | ReadonlyArray<{
        os: string;
        packages: ReadonlyArray<{ location: string; repoArch: string; size: number }>;
      }>
    | undefined;
  /** Wheel sets (kinds/python): sizes where the index gave them (PEP 700). */
  python?:
    | ReadonlyArray<{
        target: { python: string; arch: string };
        wheels: ReadonlyArray<{ filename: string; size?: number | undefined }>;
      }>
    | undefined;
}

export interface SizeOptions {
  client: HttpClient;
  registry: RegistryClient;
  mirrors?: MirrorMap | undefined;
  /** JSON cache of file sizes (default: none). */
  cacheFile?: string;
  signal?: AbortSignal | undefined;
  /** Requests at once. */
  concurrency?: number;
  /** The Kubespray tarball on this machine (plan's cache), when there is one. */
  localTarball?: string | undefined;
}

const CacheSchema = z.object({
  v: z.literal(1),
  files: z.record(
    z.string(),
    z.object({ size: z.number().int().nonnegative(), checksum: z.string(), at: z.number() }),
  ),
});
type Cache = z.infer<typeof CacheSchema>;
/** Without a checksum (the Kubespray tarball's URL) a cached size is trusted for a day. */
const UNCHECKED_TTL_MS = 24 * 3600_000;

async function loadCache(file: string | undefined): Promise<Cache> {
  if (!file) return { v: 1, files: {} };
  try {
    return CacheSchema.parse(JSON.parse(await fs.readFile(file, 'utf8')));
  } catch {
    return { v: 1, files: {} };
  }
}

async function saveCache(file: string | undefined, cache: Cache): Promise<void> {
  if (!file) return;
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(cache));
    await fs.rename(tmp, file);
  } catch {
    /* a cache that cannot be written only costs requests next time */
  }
}

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function reason(err: unknown): string {
  if (err instanceof FerryError) return err.message;
  return (err as Error)?.message ?? String(err);
}

/** Content-Length through redirects; a one-byte Range when HEAD is refused or says nothing. */
export async function remoteSize(client: HttpClient, url: string, signal?: AbortSignal): Promise<number> {
  const head = await client.send(url, { method: 'HEAD', signal, headers: { 'accept-encoding': 'identity' } });
  await head.body.dump().catch(() => undefined);
  const len = header(head.headers, 'content-length');
  if (head.status >= 200 && head.status < 300 && len !== undefined && /^\d+$/.test(len)) return Number(len);
  if (head.status === 404) throw new FerryError('NOT_FOUND', `${url} answered 404.`, { artifact: url });
  const res = await client.send(url, {
    signal,
    headers: { 'accept-encoding': 'identity', range: 'bytes=0-0' },
  });
  const cr = /\/(\d+)$/.exec(header(res.headers, 'content-range') ?? '');
  const glen = header(res.headers, 'content-length');
  // Never read the body: a server that ignores Range would send the whole file.
  res.body.on('error', () => undefined);
  res.body.destroy();
  if (res.status === 206 && cr) return Number(cr[1]);
  if (res.status === 200 && glen !== undefined && /^\d+$/.test(glen)) return Number(glen);
  throw new FerryError('HTTP', `${url} answered ${head.status} to HEAD and ${res.status} without a size.`, {
    artifact: url,
  });
}

export async function sizePlan(plan: SizablePlan, opts: SizeOptions): Promise<PlanSizes> {
  const cache = await loadCache(opts.cacheFile);
  const lim = new Limiter(opts.concurrency ?? 8);
  const now = Date.now();
  let cacheDirty = false;

  const sizeFile = async (
    kind: SizedArtifact['kind'],
    key: string,
    url: string,
    checksum: string,
  ): Promise<SizedArtifact> => {
    const hit = cache.files[url];
    if (hit && hit.checksum === checksum && (checksum !== '' || now - hit.at < UNCHECKED_TTL_MS))
      return { kind, key, name: url, bytes: hit.size };
    try {
      const size = await lim.run(() => remoteSize(opts.client, mirrorUrl(url, opts.mirrors), opts.signal));
      cache.files[url] = { size, checksum, at: now };
      cacheDirty = true;
      return { kind, key, name: url, bytes: size };
    } catch (err) {
      if (opts.signal?.aborted) throw new FerryError('CANCELLED', 'Cancelled.');
      return { kind, key, name: url, bytes: null, unknown: reason(err) };
    }
  };

  const files = plan.files
    .filter((f) => f.enabled !== false)
    .map((f) => sizeFile('file', f.key, f.url, f.checksum));
  const charts = (plan.charts ?? []).map((c) => sizeFile('chart', c.key, c.url, `chart:${c.version}`));
  const kt = plan.kubesprayTarball;
  // A tarball plan downloaded (or found cached) is sized from disk, without a second request.
  const localTarball = opts.localTarball
    ? await fs.stat(opts.localTarball).catch(() => undefined)
    : undefined;
  const tarball = kt
    ? [
        localTarball?.isFile()
          ? Promise.resolve<SizedArtifact>({
              kind: 'kubespray',
              key: 'kubespray',
              name: kt.url,
              bytes: localTarball.size,
            })
          : sizeFile('kubespray', 'kubespray', kt.url, ''),
      ]
    : [];

  // Images: manifests only; blob sizes come from the descriptors.
  const images = plan.images.filter((i) => i.enabled !== false);
  const blobLists = await Promise.all(
    images.map(async (img) => {
      try {
        return { blobs: await lim.run(() => imageBlobs(opts.registry, img.ref, img.platforms, opts.signal)) };
      } catch (err) {
        if (opts.signal?.aborted) throw new FerryError('CANCELLED', 'Cancelled.');
        return { error: reason(err) };
      }
    }),
  );
  const seen = new Set<string>();
  let shared = 0;
  const imageSizes: SizedArtifact[] = images.map((img, i) => {
    const r = blobLists[i];
    if (!r.blobs) return { kind: 'image', key: img.key, name: img.ref, bytes: null, unknown: r.error };
    let own = 0;
    let all = 0;
    let largest = 0;
    for (const [digest, size] of r.blobs) {
      all += size;
      largest = Math.max(largest, size);
      if (seen.has(digest)) shared += size;
      else {
        seen.add(digest);
        own += size;
      }
    }
    return { kind: 'image', key: img.key, name: img.ref, bytes: own, imageBytes: all, largestFile: largest };
  });

  const artifacts = [
    ...(await Promise.all([...files, ...charts, ...tarball])),
    ...imageSizes,
    ...indexedSizes(plan),
  ];
  if (cacheDirty) await saveCache(opts.cacheFile, cache);
  return {
    artifacts,
    knownBytes: artifacts.reduce((a, x) => a + (x.bytes ?? 0), 0),
    unsized: artifacts.filter((x) => x.bytes === null).length,
    sharedImageBytes: shared,
  };
}

/**
 * OS packages and wheels, sized from what plan resolved (no request): the indexes they were
 * resolved from are signed (InRelease) or pinned by sha256, and give each file's size. Each OS
 * has its own repository in the bundle (repos/<os>/pool), so a .deb two OSes share is stored
 * twice; wheels share one python/files/ folder, so a file two targets share counts once, for
 * the first target that lists it. A wheel the index gave no size for is one unsized artifact.
 */
export function indexedSizes(plan: Pick<SizablePlan, 'debs' | 'rpms' | 'python'>): SizedArtifact[] {
  const out: SizedArtifact[] = [];
  // One RPM repository per OS and architecture (repos/<os>/<arch>/): a noarch package is stored
  // once per architecture, as it is counted here.
  for (const set of plan.rpms ?? []) {
    const seen = new Map<string, number>();
    for (const p of set.packages) seen.set(`${p.repoArch}/${p.location}`, p.size);
    out.push({
      kind: 'rpms',
      key: `rpms:${set.os}`,
      name: `OS packages for ${set.os} (${seen.size})`,
      bytes: [...seen.values()].reduce((a, b) => a + b, 0),
      largestFile: Math.max(0, ...seen.values()),
      group: `os packages ${set.os}`,
    });
  }
  for (const set of plan.debs ?? []) {
    const seen = new Map<string, number>();
    for (const p of set.packages) seen.set(p.filename, p.size);
    const group = `os packages ${set.os}`;
    out.push({
      kind: 'debs',
      key: `debs:${set.os}`,
      name: `OS packages for ${set.os} (${seen.size})`,
      bytes: [...seen.values()].reduce((a, b) => a + b, 0),
      largestFile: Math.max(0, ...seen.values()),
      group,
    });
  }
  const counted = new Set<string>();
  for (const set of plan.python ?? []) {
    const group = `python ${set.target.python} ${set.target.arch}`;
    let own = 0;
    let largest = 0;
    let n = 0;
    for (const w of set.wheels) {
      if (counted.has(w.filename)) continue;
      counted.add(w.filename);
      if (w.size === undefined) {
        out.push({
          kind: 'wheels',
          key: `python:${w.filename}`,
          name: w.filename,
          bytes: null,
          unknown: 'the package index gave no size for this file (PEP 700); it is known once downloaded',
          group,
        });
        continue;
      }
      own += w.size;
      largest = Math.max(largest, w.size);
      n++;
    }
    out.push({
      kind: 'wheels',
      key: `python:${set.target.python}-${set.target.arch}`,
      name: `Python ${set.target.python} ${set.target.arch} wheels (${n} not counted before)`,
      bytes: own,
      largestFile: largest,
      group,
    });
  }
  return out;
}

/** digest → size of every blob (and manifest) an image brings for the given platforms. */
async function imageBlobs(
  registry: RegistryClient,
  refString: string,
  platforms: string[],
  signal?: AbortSignal,
): Promise<Map<string, number>> {
  const ref = parseImageRef(refString);
  const top = await registry.getManifest(ref, manifestReference(ref), signal);
  const out = new Map<string, number>([[top.digest, top.bytes.length]]);
  const addManifest = (m: typeof top) => {
    if (m.parsed.kind !== 'manifest') return;
    for (const d of [m.parsed.config, ...m.parsed.layers]) out.set(d.digest, d.size);
  };
  if (top.parsed.kind === 'index') {
    const wanted: Platform[] = platforms.map(parsePlatform);
    const picks = selectPlatforms(top.parsed.manifests, wanted);
    const missing = picks.filter((p) => !p.entry).map((p) => formatPlatform(p.want));
    if (missing.length)
      throw new FerryError('UNSUPPORTED', `${refString} has no image for ${missing.join(', ')}.`);
    const digests = [...new Set(picks.map((p) => p.entry!.digest))];
    const children = await Promise.all(
      digests.map((d) => registry.getManifest(ref, d, signal, top.endpoint)),
    );
    for (const c of children) {
      out.set(c.digest, c.bytes.length);
      addManifest(c);
    }
  } else addManifest(top);
  return out;
}

/** Bytes per group of artifacts (a component), and how many in it could not be sized. */
export function sizesBy(
  sizes: PlanSizes,
  groupOf: (a: SizedArtifact) => string,
): Array<{ name: string; bytes: number; unsized: number; count: number }> {
  const m = new Map<string, { name: string; bytes: number; unsized: number; count: number }>();
  for (const a of sizes.artifacts) {
    const name = groupOf(a);
    const g = m.get(name) ?? { name, bytes: 0, unsized: 0, count: 0 };
    g.count++;
    if (a.bytes === null) g.unsized++;
    else g.bytes += a.bytes;
    m.set(name, g);
  }
  return [...m.values()].sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
}

/** FAT32 keeps no file of 4 GiB or more. */
export const FAT32_MAX_FILE = 2 ** 32 - 1;

/** Whether a drive can hold the bundle, judged before downloading. */
export function roomCheck(
  sizes: PlanSizes,
  drive: { freeBytes: number; fsType?: string },
): { fits: boolean; problems: string[] } {
  const problems: string[] = [];
  const need = sizes.knownBytes;
  if (need > drive.freeBytes)
    problems.push(`The bundle needs at least ${need} bytes; the drive has ${drive.freeBytes} free.`);
  if (/^(vfat|fat32|msdos|fat)$/i.test(drive.fsType ?? '')) {
    for (const a of sizes.artifacts) {
      const largest = a.largestFile ?? a.bytes ?? 0;
      if (largest > FAT32_MAX_FILE)
        problems.push(`${a.name} has a file of ${largest} bytes: FAT32 holds no file of 4 GiB or more.`);
    }
  }
  return { fits: problems.length === 0, problems };
}

/** Where sizing reaches the network from: the same sources and credentials a fetch would use. */
export interface OnlineSizeOptions {
  env: NodeJS.ProcessEnv;
  proxy?: ProxyConfig;
  mirrors?: MirrorMap;
  registryMirrors?: Record<string, string>;
  insecureRegistries?: string[];
  /** Per-registry credentials and TLS from the profile. */
  registries?: Record<string, RegistrySettings>;
  /** An auth.json to use instead of the default Docker/Podman ones. */
  authFile?: string;
  localTarball?: string;
  signal?: AbortSignal;
}

/**
 * sizePlan over its own short-lived clients, for `ferry plan` and the app's plan.sizes alike.
 * Short timeouts and few retries: a plan that cannot reach the network still shows, its sizes
 * marked unknown. Sizes are cached under the data dir.
 */
export async function sizePlanOnline(plan: SizablePlan, o: OnlineSizeOptions): Promise<PlanSizes> {
  const insecure = o.insecureRegistries ?? [];
  const client = new HttpClient({
    proxy: mergeProxyConfig(proxyConfigFromEnv(o.env), o.proxy ?? {}),
    tls: Object.fromEntries(insecure.map((h) => [h, { insecure: true }])),
    connectTimeoutMs: 10_000,
    idleTimeoutMs: 20_000,
    retry: { attempts: 2, baseMs: 300 },
  });
  const credentials = new CredentialStore(o.registries ?? {}, o.env);
  if (o.authFile) credentials.loadAuthFile(o.authFile, true);
  else for (const f of defaultAuthFiles(o.env)) credentials.loadAuthFile(f, false);
  const registry = new RegistryClient(client, {
    credentials,
    registryMirrors: o.registryMirrors,
    insecure,
  });
  try {
    return await sizePlan(plan, {
      client,
      registry,
      mirrors: o.mirrors,
      cacheFile: path.join(dataDir(o.env), 'cache', 'sizes.json'),
      localTarball: o.localTarball,
      signal: o.signal,
    });
  } finally {
    await client.close();
  }
}
