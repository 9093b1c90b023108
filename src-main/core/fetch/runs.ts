import fs from 'node:fs/promises';
import type { Artifact } from '../bundle/manifest.js';
import type { BundleWriter } from '../bundle/writer.js';
import { FerryError } from '../base/errors/index.js';
import type { JobContext } from '../base/jobs/job.js';
import { discardPartial, downloadToFile } from './download/download-file.js';
import type { HttpClient } from './download/http-client.js';
import type { Limiter } from './download/limit.js';
import { mirrorUrl, type MirrorMap } from './download/mirrors.js';
import { pullImage, type BlobStore } from './oci/pull.js';
import type { RegistryClient } from './oci/registry-client.js';
import { chartIndexYaml, findChartEntry, MAX_INDEX_BYTES } from './helm-index.js';
import { tarballCachePath } from './tarball.js';
import type { ArtifactMeter } from './metering.js';
import type { FetchOptions } from './options.js';
import { recordedChecksum, type Want } from './wants.js';

/**
 * The per-kind download runs of one fetch: a file or the Kubespray tarball (from the cache when
 * it is there), a Helm chart with its index, an image through the OCI client. Each verifies what
 * it downloads, puts it into the bundle and records its artifact; progress goes to its meter.
 */

/** What the runs share within one fetch. */
export interface RunContext {
  client: HttpClient;
  registry: RegistryClient;
  writer: BundleWriter;
  store: BlobStore;
  /** Transfers at once (files and blobs together). */
  transfers: Limiter;
  /** Images pulled at once (their blobs take transfer slots). */
  imageSlots: Limiter;
  /** Blobs being downloaded, by digest: two images sharing one wait for the same transfer. */
  inflight: Map<string, Promise<void>>;
  opts: FetchOptions;
  env: NodeJS.ProcessEnv;
  job: JobContext;
}

/** Download one want into the bundle and record its artifact(s). */
export async function runWant(w: Want, m: ArtifactMeter, r: RunContext): Promise<void> {
  if (w.kind === 'chart') {
    await r.transfers.run(async () => {
      m.begin();
      await fetchChart(w, {
        client: r.client,
        writer: r.writer,
        mirrors: r.opts.mirrors,
        signal: r.job.signal,
        track: m.track,
        grow: m.grow,
      });
    });
  } else if (w.kind === 'file' || w.kind === 'kubespray') await runFile(w, m, r);
  else await runImage(w, m, r);
}

async function runFile(
  w: Want & { kind: 'file' | 'kubespray' },
  m: ArtifactMeter,
  r: RunContext,
): Promise<void> {
  const { writer, opts } = r;
  const signal = r.job.signal;
  await r.transfers.run(async () => {
    m.begin();
    const cached = w.kind === 'kubespray' ? await cachedTarball(opts, w, r.env) : undefined;
    if (cached) {
      // The sha256 recorded when the tarball was first downloaded guards the cached copy.
      const recorded = await fs.readFile(cached + '.sha256', 'utf8').catch(() => '');
      const sha = /^([0-9a-f]{64}) /.exec(recorded)?.[1];
      await writer.addFileFromPath(cached, w.path, {
        signal,
        ...(sha ? { expectSha256: sha } : {}),
      });
    } else {
      const tmp = writer.resumePath(w.url);
      m.size.partial = tmp;
      const res = await downloadToFile(r.client, {
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
        signal,
        onBytes: m.track,
        onSize: m.grow,
      });
      await writer.commitFile(tmp, w.path, res);
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
}

async function runImage(w: Want & { kind: 'image' }, m: ArtifactMeter, r: RunContext): Promise<void> {
  const img = await r.imageSlots.run(() => {
    m.begin();
    return pullImage(r.registry, r.store, w.ref, w.platforms, {
      transfers: r.transfers,
      inflight: r.inflight,
      signal: r.job.signal,
      onBytes: m.track,
      onBlobsPlanned: m.blobsPlanned,
      onResumed: m.resumed,
      log: (level, message) => r.job.log(level, message),
    });
  });
  await r.writer.addArtifact({
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
    mirrors?: MirrorMap | undefined;
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
