import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BundleWriter, type ManifestSigner } from '../bundle/writer.js';
import { openBundle, type OpenedBundle } from '../bundle/reader.js';
import { PARTIAL_DIR, type Artifact, type Manifest } from '../bundle/manifest.js';
import {
  CARRYING_KINDS,
  carriedHeld,
  kindOf,
  plannedItems,
  type CarryOutcome,
  type CarryWant,
  type ToolFile,
} from '../kinds/index.js';
import { filesAtSize } from '../bundle/intact.js';
import { assertBundlePath, filePathForUrl } from '../bundle/paths.js';
import { FerryError, toErrorValue, type ErrorValue } from '../base/errors/index.js';
import { Job, type JobContext, type JobRegistry } from '../base/jobs/job.js';
import { noSpaceError } from './no-space.js';
import { unreachableGroups } from './unreachable.js';
export { unreachableGroups, unreachableOf, type UnreachableGroup } from './unreachable.js';
import { checkSignature, KeyStore } from '../bundle/keys/keystore.js';
import { discardPartial, downloadToFile } from './download/download-file.js';
import { HttpClient, type HttpClientOptions, type TlsSettings } from './download/http-client.js';
import { Limiter } from './download/limit.js';
import { DEFAULT_SEGMENT_MIN_BYTES } from './download/segmented.js';
import { checkMirrors, mirrorUrl, type MirrorMap } from './download/mirrors.js';
import { mergeProxyConfig, proxyConfigFromEnv, type ProxyConfig } from './download/proxy.js';
import { CredentialStore, defaultAuthFiles, type RegistrySettings } from './oci/auth.js';
import { formatImageRef, parseImageRef } from './oci/reference.js';
import { pullImage, type BlobStore } from './oci/pull.js';
import { RegistryClient } from './oci/registry-client.js';
import type { ExtraFile, Plan, PlanChart } from '../plan/plan.js';
import { chartIndexYaml, findChartEntry, MAX_INDEX_BYTES } from './helm-index.js';
import { tarballCachePath } from './tarball.js';
import type { RepoSigner } from '../bundle/keys/repo-key.js';

/**
 * plan → bundle. Works out which artifacts the bundle already holds (a finished bundle whose
 * contents match the plan is left untouched, without a single request), downloads the rest in
 * parallel into resumable partials, verifies every byte against the plan's checksums or the
 * registry's digests, and only then moves it into place. Artifacts a new plan no longer names
 * are dropped with their files. The manifest is written and signed only when nothing failed;
 * otherwise the journal and partials stay, and the same command resumes.
 */

export interface FetchOptions {
  out: string;
  /** Transfers at once (files and blobs together). */
  concurrency?: number;
  /**
   * Connections one large transfer may open to its host (segmented download); total
   * connections stay within concurrency × this. 1: one connection per transfer.
   */
  connectionsPerHost?: number;
  /** URL prefix → mirror prefix, for files and the Kubespray tarball. */
  mirrors?: MirrorMap;
  /** Registry host → mirror base URL. */
  registryMirrors?: Record<string, string>;
  insecureRegistries?: string[];
  /** The profile's proxy; the environment fills what it leaves out. */
  proxy?: ProxyConfig;
  registries?: Record<string, RegistrySettings>;
  authFile?: string;
  /** The profile's extra files (when the plan does not already list them). */
  extraFiles?: ExtraFile[];
  env?: NodeJS.ProcessEnv;
  /** undefined: sign with the user's key when one exists; null: do not sign. */
  signer?: ManifestSigner | null;
  /** The Kubespray tarball already on disk (from loading the catalog). */
  kubesprayTarballFile?: string;
  /** Timeouts and retry policy (tests shorten them). */
  http?: Omit<HttpClientOptions, 'proxy' | 'tls'>;
  /**
   * Ferry's own executables to carry under tools/ (kinds/tool: findTools). [] carries none and
   * drops any the bundle had; undefined leaves the bundle's tools as they are.
   */
  tools?: ToolFile[];
  /** Signs the OS package repositories; default: this machine's repository key (made on first use). */
  repoSigner?: RepoSigner;
}

export type ItemStatus = 'present' | 'started' | 'done' | 'failed' | 'removed';

export interface FetchItemEvent {
  id: string;
  kind: 'file' | 'image' | 'kubespray';
  name: string;
  status: ItemStatus;
  /**
   * 'started': bytes of this artifact on disk so far (resumed ones included), repeated while it
   * downloads; 'done': bytes this run downloaded for it.
   */
  bytes?: number;
  /** 'started': the artifact's size once a response (Content-Length) or the image's blob list said it. */
  total?: number;
  error?: ErrorValue;
}

/** Per-artifact progress events: often enough for a moving bar, rarely enough to keep job.items small. */
const ITEM_PROGRESS_MS = 1000;

export interface FetchResult {
  bundle: string;
  bundleId: string;
  /** The bundle already matched the plan: nothing was downloaded or written. */
  upToDate: boolean;
  counts: { total: number; present: number; fetched: number; failed: number; removed: number };
  bytesDownloaded: number;
  requests: number;
  seconds: number;
  signedBy?: string;
  failures: Array<{ id: string; name: string; error: ErrorValue }>;
  /** The Ferry executables the bundle carries, when the fetch was given some. */
  tools?: CarryOutcome['tools'];
}

type Want =
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
function itemKind(w: Want): FetchItemEvent['kind'] {
  return w.kind === 'chart' ? 'file' : w.kind;
}

/** The manifest artifacts one want becomes. */
function artifactIds(w: Want): string[] {
  return w.kind === 'chart' ? [w.id, w.indexId] : [w.id];
}

export const DEFAULT_CONCURRENCY = 6;
/** Like a browser's six per host, below aria2's `-x16` maximum. */
export const DEFAULT_CONNECTIONS_PER_HOST = 4;

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
function heldArtifacts(w: Want, get: (id: string) => Artifact | undefined): Artifact[] | undefined {
  const a = get(w.id);
  if (!matches(a, w)) return undefined;
  if (w.kind !== 'chart') return [a!];
  const i = get(w.indexId);
  if (!i || i.kind !== 'file' || i.url !== w.chart.indexUrl || i.paths.length !== 1) return undefined;
  if (i.paths[0] !== w.chart.indexPath) return undefined;
  return [a!, i];
}

/** The published checksum as the manifest records it: 'sha256:<hex>' or 'sha512:<hex>' (gVisor). */
function recordedChecksum(c: string): string | undefined {
  const v = c.toLowerCase();
  return /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/.test(v) ? v : undefined;
}

const FETCHED_KINDS = new Set(['file', 'image', 'kubespray']);

/**
 * A finished bundle that already is what this plan asks for (checked by name, size and plan
 * bytes), signed as this fetch would sign it, with no journal left over. A fetch killed between
 * the manifest and its signature, or before `.ferry-partial/` went, is not finished: the writer
 * then takes it up again, which downloads nothing and signs and cleans up.
 */
async function upToDate(
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

function clientFor(opts: FetchOptions, env: NodeJS.ProcessEnv): Promise<HttpClient> {
  return (async () => {
    const tls: Record<string, TlsSettings> = {};
    for (const h of opts.insecureRegistries ?? []) tls[h] = { insecure: true };
    for (const [h, s] of Object.entries(opts.registries ?? {})) {
      if (s.insecure) tls[h] = { ...tls[h], insecure: true };
      if (s.caFile) {
        let ca: string;
        try {
          ca = await fs.readFile(s.caFile, 'utf8');
        } catch (err) {
          throw new FerryError(
            'CONFIG',
            `Cannot read the CA file for ${h} (${s.caFile}): ${(err as Error).message}`,
            {
              artifact: s.caFile,
              hint: 'Fix registries.' + h + '.caFile in the profile.',
            },
          );
        }
        tls[h] = { ...tls[h], ca };
      }
    }
    const perHost = opts.connectionsPerHost ?? DEFAULT_CONNECTIONS_PER_HOST;
    const conc = opts.concurrency ?? DEFAULT_CONCURRENCY;
    return new HttpClient({
      // undici's pool per origin must hold every segment of every transfer, or they queue there.
      connectionsPerOrigin: Math.max(16, conc * perHost),
      segments: { connections: perHost, minBytes: DEFAULT_SEGMENT_MIN_BYTES },
      ...(opts.http ?? {}),
      proxy: mergeProxyConfig(proxyConfigFromEnv(env), opts.proxy),
      tls,
    });
  })();
}

export async function fetchBundle(plan: Plan, opts: FetchOptions, ctx: JobContext): Promise<FetchResult> {
  const started = Date.now();
  const env = opts.env ?? process.env;
  const dir = path.resolve(opts.out);
  const wants = wantedArtifacts(plan, opts.extraFiles);
  const planJson = planBytes(plan);
  if (opts.mirrors) checkMirrors(opts.mirrors);
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new FerryError('USAGE', `Concurrency ${concurrency} is out of range.`, {
      hint: 'Use a whole number from 1 to 64.',
    });
  }
  const perHost = opts.connectionsPerHost ?? DEFAULT_CONNECTIONS_PER_HOST;
  if (!Number.isInteger(perHost) || perHost < 1 || perHost > 16) {
    throw new FerryError('USAGE', `Connections per host ${perHost} is out of range.`, {
      hint: 'Use a whole number from 1 to 16.',
    });
  }
  // What the kinds carry from sections of their own (wheels), counted with the downloads.
  const carried: CarryWant = { plan, ...(opts.tools ? { tools: opts.tools } : {}) };
  const planned = plannedItems(carried);
  const p = ctx.progress;
  p.setPhase('checking');
  p.itemsTotal = wants.length + planned.length;
  ctx.report();

  const result: FetchResult = {
    bundle: dir,
    bundleId: '',
    upToDate: false,
    counts: { total: wants.length + planned.length, present: 0, fetched: 0, failed: 0, removed: 0 },
    bytesDownloaded: 0,
    requests: 0,
    seconds: 0,
    failures: [],
  };

  const signer =
    opts.signer === undefined ? await KeyStore.fromEnv(env).signer() : (opts.signer ?? undefined);
  const current = await upToDate(dir, wants, planJson, signer, carried);
  if (current) {
    for (const w of wants)
      ctx.item({ id: w.id, kind: itemKind(w), name: w.name, status: 'present' } satisfies FetchItemEvent);
    for (const c of planned) ctx.item({ id: c.id, kind: 'file', name: c.name, status: 'present' });
    p.itemsDone = wants.length;
    p.setPhase('done');
    ctx.report();
    return {
      ...result,
      bundleId: current.id,
      upToDate: true,
      counts: { ...result.counts, present: wants.length + planned.length },
      ...(opts.tools
        ? {
            tools: opts.tools.map((t) => ({
              platform: t.platform,
              version: t.version,
              state: 'present' as const,
            })),
          }
        : {}),
      seconds: (Date.now() - started) / 1000,
    };
  }

  const client = await clientFor(opts, env);
  const credentials = new CredentialStore(opts.registries ?? {}, env);
  if (opts.authFile) credentials.loadAuthFile(opts.authFile, true);
  else for (const f of defaultAuthFiles(env)) credentials.loadAuthFile(f, false);
  const registry = new RegistryClient(client, {
    credentials,
    registryMirrors: opts.registryMirrors,
    insecure: opts.insecureRegistries,
    log: (level, message) => ctx.log(level, message),
  });
  const writer = await BundleWriter.open(dir);
  result.bundleId = writer.id;
  let finished = false;
  try {
    // What the bundle holds already, and what the new plan no longer wants.
    const wantIds = new Set(wants.flatMap(artifactIds));
    for (const a of writer.listArtifacts()) {
      if (!FETCHED_KINDS.has(a.kind) || wantIds.has(a.id)) continue;
      await writer.removeArtifact(a.id);
      result.counts.removed++;
      ctx.item({ id: a.id, kind: a.kind as FetchItemEvent['kind'], name: a.id, status: 'removed' });
    }
    const todo: Want[] = [];
    for (const w of wants) {
      const held = heldArtifacts(w, (id) => writer.artifact(id));
      const paths = held?.flatMap((a) => a.paths);
      if (paths && (await filesAtSize(dir, paths, (q) => writer.file(q)?.size))) {
        result.counts.present++;
        p.itemsDone++;
        ctx.item({ id: w.id, kind: itemKind(w), name: w.name, status: 'present' } satisfies FetchItemEvent);
      } else todo.push(w);
    }
    p.bytesTotal = 0;
    p.setPhase('downloading');
    ctx.report();

    // What each unfinished artifact still needs, for a full disk's message: its size once a
    // response or a blob list said it, and where its partial bytes are.
    const sizes = new Map<string, { total?: number; have: number; partial?: string }>();
    const transfers = new Limiter(concurrency);
    const imageSlots = new Limiter(Math.max(2, concurrency));
    const inflight = new Map<string, Promise<void>>();
    const countedBlobs = new Set<string>();
    const onBytes = (n: number) => {
      result.bytesDownloaded += n;
      p.addBytes(n);
      ctx.report();
    };
    const store: BlobStore = {
      hasBlob: (d) => writer.hasBlob(d),
      addBlobBytes: (b) => writer.addBlobBytes(b),
      resumePath: (k) => writer.resumePath(k),
      commitBlob: (t, d, s) => writer.commitBlob(t, d, s),
      blobFile: (d) => writer.blobFile(d),
    };

    const runOne = async (w: Want): Promise<void> => {
      let bytes = 0;
      const size = { have: 0 } as { total?: number; have: number; partial?: string };
      sizes.set(w.id, size);
      // This artifact's own bar: bytes on disk of its total, sent as 'started' items.
      let have = 0;
      let total: number | undefined;
      let lastItem = 0;
      const started = (force: boolean) => {
        const now = Date.now();
        if (!force && now - lastItem < ITEM_PROGRESS_MS) return;
        lastItem = now;
        ctx.item({
          id: w.id,
          kind: itemKind(w),
          name: w.name,
          status: 'started',
          ...(force && have === 0 && total === undefined ? {} : { bytes: have }),
          ...(total !== undefined ? { total } : {}),
        } satisfies FetchItemEvent);
      };
      const begin = () => {
        p.current = w.name;
        started(true);
      };
      const track = (n: number) => {
        bytes += n;
        have += n;
        size.have = have;
        onBytes(n);
        started(false);
      };
      // What this artifact adds to the overall total; replaced (not added to) when a retry's
      // response says it again, so a dropped connection does not inflate the total.
      let counted = 0;
      const grow = (n: number | undefined, already: number) => {
        have = already;
        size.have = already;
        if (n === undefined) return;
        total = n;
        size.total = n;
        const adds = n - already + bytes;
        p.bytesTotal = (p.bytesTotal ?? 0) + adds - counted;
        counted = adds;
        started(true);
        ctx.report();
      };
      if (w.kind === 'chart') {
        await transfers.run(async () => {
          begin();
          await fetchChart(w, { client, writer, mirrors: opts.mirrors, signal: ctx.signal, track, grow });
        });
      } else if (w.kind === 'file' || w.kind === 'kubespray') {
        await transfers.run(async () => {
          begin();
          const cached = w.kind === 'kubespray' ? await cachedTarball(opts, w, env) : undefined;
          if (cached) {
            // The sha256 recorded when the tarball was first downloaded guards the cached copy.
            const recorded = await fs.readFile(cached + '.sha256', 'utf8').catch(() => '');
            const sha = /^([0-9a-f]{64}) /.exec(recorded)?.[1];
            await writer.addFileFromPath(cached, w.path, {
              signal: ctx.signal,
              ...(sha ? { expectSha256: sha } : {}),
            });
          } else {
            const tmp = writer.resumePath(w.url);
            size.partial = tmp;
            const r = await downloadToFile(client, {
              url: mirrorUrl(w.url, opts.mirrors),
              dest: tmp,
              ...(w.kind === 'file' && w.checksum.startsWith('sha256:')
                ? { expectSha256: w.checksum.slice(7).toLowerCase() }
                : {}),
              ...(w.kind === 'file' && w.checksum.startsWith('sha512:')
                ? { expectSha512: w.checksum.slice(7).toLowerCase() }
                : {}),
              label: w.url,
              checksumHint:
                w.kind === 'file' && w.key === 'extra'
                  ? 'Check the sha256 of this extra file in the profile, and the file at the URL; run the fetch again once they agree.'
                  : undefined,
              signal: ctx.signal,
              onBytes: track,
              onSize: grow,
            });
            await writer.commitFile(tmp, w.path, r);
            await discardPartial(tmp);
          }
        });
        const a: Artifact =
          w.kind === 'file'
            ? {
                id: w.id,
                kind: 'file',
                key: w.key,
                url: w.url,
                ...(w.arch ? { arch: w.arch } : {}),
                ...(recordedChecksum(w.checksum) ? { checksum: recordedChecksum(w.checksum) } : {}),
                paths: [w.path],
              }
            : { id: w.id, kind: 'kubespray', version: w.version, url: w.url, paths: [w.path] };
        await writer.addArtifact(a);
      } else {
        const img = await imageSlots.run(() => {
          begin();
          return pullImage(registry, store, w.ref, w.platforms, {
            transfers,
            inflight,
            signal: ctx.signal,
            onBytes: track,
            onBlobsPlanned: (blobs) => {
              // Configs are read before the blob list exists: their bytes are part of the image too.
              const early = total === undefined ? bytes : 0;
              total = (total ?? 0) + early + blobs.reduce((a, b) => a + b.size, 0);
              size.total = total;
              p.bytesTotal = (p.bytesTotal ?? 0) + early;
              for (const b of blobs) {
                if (countedBlobs.has(b.digest)) continue;
                countedBlobs.add(b.digest);
                p.bytesTotal = (p.bytesTotal ?? 0) + b.size;
              }
              started(true);
              ctx.report();
            },
            onResumed: (_d, already) => {
              have += already;
              p.bytesTotal = Math.max(0, (p.bytesTotal ?? 0) - already);
            },
            log: (level, message) => ctx.log(level, message),
          });
        });
        await writer.addArtifact({
          id: w.id,
          kind: 'image',
          key: w.key,
          ref: w.ref,
          platforms: img.platforms,
          digest: img.digest,
          mediaType: img.mediaType,
          size: img.size,
          paths: img.paths,
        });
      }
      sizes.delete(w.id);
      result.counts.fetched++;
      p.itemsDone++;
      ctx.item({ id: w.id, kind: itemKind(w), name: w.name, status: 'done', bytes } satisfies FetchItemEvent);
      ctx.report();
    };

    await Promise.all(
      todo.map(async (w) => {
        try {
          await runOne(w);
        } catch (err) {
          const ev = toErrorValue(err);
          if (ev.code === 'CANCELLED' || ctx.signal.aborted) return;
          result.counts.failed++;
          p.itemsFailed++;
          result.failures.push({ id: w.id, name: w.name, error: ev });
          ctx.item({
            id: w.id,
            kind: itemKind(w),
            name: w.name,
            status: 'failed',
            error: ev,
          } satisfies FetchItemEvent);
          ctx.report();
        }
      }),
    );
    // What the plan lists outside files and images (OS packages and their signed repositories,
    // wheels, Ferry's own tools): each kind carries its own section. A kind's per-item failures
    // count with the downloads' when it counts its items (`planned`); a section that fails as a
    // whole is thrown after the downloads' failures are.
    const sectionErrors: unknown[] = [];
    for (const k of CARRYING_KINDS) {
      const counted = !!k.planned;
      const out = await k.carry!(carried, {
        client,
        writer,
        mirrors: opts.mirrors,
        signal: ctx.signal,
        concurrency,
        onBytes,
        keysDir: KeyStore.fromEnv(env).dir,
        log: (level, message) => ctx.log(level, message),
        // A package or a wheel is a file to the app's download list.
        onItem: (ev) => {
          if (counted) {
            if (ev.status === 'present') result.counts.present++;
            if (ev.status === 'done') result.counts.fetched++;
            if (ev.status === 'failed') {
              result.counts.failed++;
              p.itemsFailed++;
              result.failures.push({ id: ev.id, name: ev.name, error: ev.error! });
            } else if (ev.status !== 'started') p.itemsDone++;
          }
          ctx.item({ ...ev, kind: 'file' } satisfies FetchItemEvent);
          if (counted) ctx.report();
        },
        ...(opts.repoSigner ? { repoSigner: opts.repoSigner } : {}),
      }).catch((err: unknown) => {
        if (!ctx.signal.aborted) sectionErrors.push(err);
        return undefined;
      });
      if (ctx.signal.aborted) break;
      result.counts.removed += out?.removed ?? 0;
      if (out?.tools) result.tools = out.tools;
    }
    result.requests = client.requests;
    if (ctx.signal.aborted)
      throw new FerryError('CANCELLED', 'Cancelled; run the same command again to resume.');
    if (result.failures.length) {
      const checksum = result.failures.find((f) => f.error.code === 'CHECKSUM');
      // A full disk fails every download still running, each with the same ENOSPC: one error that
      // says which disk and how much more it must hold is what the user can act on.
      if (!checksum && result.failures.some((f) => f.error.code === 'NO_SPACE'))
        throw await noSpaceError(dir, sizes, result);
      const groups = unreachableGroups(result.failures);
      const kept = `the ${result.counts.present + result.counts.fetched} finished artifacts are kept`;
      if (!checksum && groups.length) {
        // One cause for many artifacts: say it once, not once per artifact.
        const hints = [...new Set(groups.map((g) => g.error.hint).filter(Boolean))];
        throw new FerryError(
          'NETWORK',
          `${result.failures.length} of ${result.counts.total} artifacts failed; the bundle is not finished. ${groups
            .map((g) => `${g.error.message} (${g.count} artifact${g.count === 1 ? '' : 's'})`)
            .join(' ')}`,
          {
            artifact: dir,
            details: { failures: result.failures, counts: result.counts, unreachable: groups },
            hint: `${hints.join(' ')} Until then ${kept}.`,
          },
        );
      }
      const first = checksum ?? result.failures[0];
      throw new FerryError(
        first.error.code,
        `${result.failures.length} of ${result.counts.total} artifacts failed; the bundle is not finished. First: ${first.error.artifact ? `${first.error.artifact}: ` : ''}${first.error.message}`,
        {
          artifact: dir,
          details: { failures: result.failures, counts: result.counts },
          hint: `${first.error.hint ? first.error.hint + ' ' : ''}Then run the same command again: ${kept}.`,
        },
      );
    }
    if (sectionErrors.length) throw sectionErrors[0];

    p.setPhase('finishing');
    p.current = undefined;
    ctx.report();
    await writer.addBytes('plan.json', planJson);
    await writer.addArtifact({ id: 'meta:plan', kind: 'meta', name: 'Plan', paths: ['plan.json'] });
    await writer.setKubespray({
      version: plan.kubespray,
      kubeVersion: plan.kubeVersion,
      arches: plan.arches,
    });
    await dropUnreferenced(writer);
    const manifest = await writer.finalize(signer ? { signer } : {}).catch(async (err: unknown) => {
      // Every byte is in; only the plan, manifest or signature did not fit.
      throw toErrorValue(err).code === 'NO_SPACE' ? await noSpaceError(dir, sizes, result, err) : err;
    });
    finished = true;
    result.bundleId = manifest.id;
    if (signer) result.signedBy = (signer as { fingerprint?: string }).fingerprint;
    p.setPhase('done');
    ctx.report();
    return { ...result, seconds: (Date.now() - started) / 1000 };
  } finally {
    if (!finished) await writer.close();
    result.requests = client.requests;
    await client.close();
  }
}

/**
 * A Helm chart: its repository's index.yaml (through the mirrors, size-capped, never kept) gives
 * the digest, the chart is downloaded and verified against it, and Ferry's own one-entry index
 * goes beside it. Both become file artifacts, so verify, export, import and serve treat them
 * like any other file.
 */
async function fetchChart(
  w: Want & { kind: 'chart' },
  o: {
    client: HttpClient;
    writer: BundleWriter;
    mirrors?: MirrorMap;
    signal: AbortSignal;
    track: (n: number) => void;
    grow: (size: number | undefined, already: number) => void;
  },
): Promise<void> {
  const c = w.chart;
  const indexTmp = o.writer.resumePath(c.indexUrl);
  // The upstream index changes with every release: always read the current one.
  await discardPartial(indexTmp);
  const cap = new AbortController();
  let got = 0;
  let tooBig = false;
  let idx;
  try {
    idx = await downloadToFile(o.client, {
      url: mirrorUrl(c.indexUrl, o.mirrors),
      dest: indexTmp,
      label: c.indexUrl,
      signal: AbortSignal.any([o.signal, cap.signal]),
      onBytes: (n) => {
        got += n;
        if (got > MAX_INDEX_BYTES && !tooBig) {
          tooBig = true;
          cap.abort();
        }
      },
      onSize: (size) => {
        if (size !== undefined && size > MAX_INDEX_BYTES && !tooBig) {
          tooBig = true;
          cap.abort();
        }
      },
    });
  } catch (err) {
    await discardPartial(indexTmp);
    if (tooBig)
      throw new FerryError('HOSTILE', `${c.indexUrl} is larger than ${MAX_INDEX_BYTES >> 20} MiB.`, {
        artifact: c.indexUrl,
        hint: 'Check that the URL (or its --mirror) serves a Helm repository index.yaml.',
      });
    throw err;
  }
  let bytes: Buffer;
  try {
    if (idx.size > MAX_INDEX_BYTES)
      throw new FerryError('HOSTILE', `${c.indexUrl} is larger than ${MAX_INDEX_BYTES >> 20} MiB.`, {
        artifact: c.indexUrl,
      });
    bytes = await fs.readFile(indexTmp);
  } finally {
    await discardPartial(indexTmp);
  }
  const entry = findChartEntry(bytes, c.name, c.version, c.indexUrl);

  const tmp = o.writer.resumePath(c.url);
  const r = await downloadToFile(o.client, {
    url: mirrorUrl(c.url, o.mirrors),
    dest: tmp,
    expectSha256: entry.digest,
    label: c.url,
    checksumHint: `The ${c.name} chart ${c.version} does not match the digest ${c.indexUrl} gives for it; check the repository (or its --mirror), then run the fetch again.`,
    signal: o.signal,
    onBytes: o.track,
    onSize: o.grow,
  });
  await o.writer.commitFile(tmp, c.path, r);
  await discardPartial(tmp);
  await o.writer.addBytes(c.indexPath, chartIndexYaml(entry, c.path.slice(c.path.lastIndexOf('/') + 1)));
  await o.writer.addArtifact({
    id: w.id,
    kind: 'file',
    key: c.key,
    url: c.url,
    checksum: `sha256:${entry.digest}`,
    paths: [c.path],
  });
  await o.writer.addArtifact({
    id: w.indexId,
    kind: 'file',
    key: `${c.key}_index`,
    url: c.indexUrl,
    paths: [c.indexPath],
  });
}

/** Files no artifact names any more (a replanned bundle) go, so the bundle is what the plan says. */
async function dropUnreferenced(writer: BundleWriter): Promise<void> {
  const keep = new Set<string>(['plan.json', 'images/oci-layout', 'images/index.json']);
  for (const a of writer.listArtifacts()) for (const q of kindOf(a).ownedPaths(a)) keep.add(q);
  for (const f of writer.listFiles()) if (!keep.has(f.path)) await writer.removeFile(f.path);
}

async function cachedTarball(
  opts: FetchOptions,
  w: { version: string },
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const candidates = [opts.kubesprayTarballFile];
  try {
    candidates.push(tarballCachePath(w.version, env));
  } catch {
    /* a version that is not a tag has no cache entry */
  }
  for (const c of candidates) {
    if (!c) continue;
    try {
      if ((await fs.stat(c)).isFile()) return c;
    } catch {
      /* not there */
    }
  }
  return undefined;
}

/** Run a fetch as a Job (the app's job registry, or a standalone job for the CLI). */
export function startFetchJob(plan: Plan, opts: FetchOptions, registry?: JobRegistry): Job<FetchResult> {
  const run = (ctx: JobContext) => fetchBundle(plan, opts, ctx);
  return registry ? registry.start('fetch', run) : new Job('fetch', run);
}
