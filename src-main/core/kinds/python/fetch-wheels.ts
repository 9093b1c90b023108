import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { BundleWriter } from '../../bundle/writer.js';
import type { WheelArtifact } from '../../bundle/manifest.js';
import { FerryError, toErrorValue, type ErrorValue } from '../../base/errors/index.js';
import { discardPartial, downloadToFile } from '../../fetch/download/download-file.js';
import type { HttpClient } from '../../fetch/download/http-client.js';
import { Limiter } from '../../fetch/download/limit.js';
import { mirrorUrl, type MirrorMap } from '../../fetch/download/mirrors.js';
import { redactUrl } from '../../fetch/download/proxy.js';
import { backoffMs, isNetworkError, sleep } from '../../fetch/download/retry.js';
import { createReadStream } from 'node:fs';
import { wheelKind } from './kind.js';
import { metadataFromWheel } from './metadata.js';
import { SAFE_FILENAME } from './resolve.js';
import { PYPI_REPO_ID, writeStaticIndex } from './static-index.js';
import type { ResolvedWheel, ResolvedWheelSet } from './set.js';

/**
 * The connected side's half of carrying Python: every file of the plan's wheel sets (the union
 * over targets; a pure wheel shared by two targets is fetched once) downloaded through Ferry's
 * download layer into `python/files/<filename>`, verified against the index's sha256 while it
 * streams, with its PEP 658 core metadata beside it as `<filename>.metadata` (the index's file,
 * checked against the index's hash, or METADATA taken from the verified wheel), and recorded as
 * a `wheel` artifact. Wheel artifacts the plan no longer names are dropped.
 */

export const PYTHON_FILES = 'python/files';

export function wheelPath(filename: string): string {
  return `${PYTHON_FILES}/${filename}`;
}

export function wheelArtifactId(filename: string): string {
  return `wheel:${filename}`;
}

export interface WheelFetchOptions {
  client: HttpClient;
  writer: BundleWriter;
  mirrors?: MirrorMap | undefined;
  signal?: AbortSignal | undefined;
  concurrency?: number;
  onBytes?: ((n: number) => void) | undefined;
  /**
   * Files at least this large (default 16 MiB: ansible's wheel is ~51 MB) come in `parts`
   * parallel byte ranges (default 4) when the server honours Range: on a link that caps each
   * connection, the largest file would otherwise set the pace of the whole fetch.
   */
  segment?: { minBytes: number; parts: number };
  /** Per-wheel events for the job's item list. */
  onItem?: (
    id: string,
    name: string,
    status: 'present' | 'started' | 'done' | 'failed',
    error?: ErrorValue,
  ) => void;
}

export interface WheelFetchResult {
  total: number;
  present: number;
  fetched: number;
  removed: number;
  failures: Array<{ id: string; name: string; error: ErrorValue }>;
}

/** One entry per filename across the targets; two targets that disagree on a file's hash are refused. */
export function wheelsOf(sets: readonly ResolvedWheelSet[] | undefined): ResolvedWheel[] {
  const byName = new Map<string, ResolvedWheel>();
  for (const s of sets ?? []) {
    for (const w of s.wheels) {
      const have = byName.get(w.filename);
      if (!SAFE_FILENAME.test(w.filename) || w.filename.length > 255) {
        throw new FerryError(
          'HOSTILE',
          `The plan names a Python distribution '${w.filename}', which is not a file name.`,
          {
            artifact: w.filename,
            hint: 'Make the plan again with ferry plan; do not edit its python section by hand.',
          },
        );
      }
      if (have && have.sha256 !== w.sha256) {
        throw new FerryError(
          'INTEGRITY',
          `The plan lists ${w.filename} twice with different sha256 (${have.sha256} and ${w.sha256}).`,
          { artifact: w.filename, hint: 'Make the plan again: the index changed while it was resolved.' },
        );
      }
      if (!have) byName.set(w.filename, w);
    }
  }
  return [...byName.values()];
}

function artifactFor(w: ResolvedWheel, withMetadata: boolean): WheelArtifact {
  const p = wheelPath(w.filename);
  return {
    id: wheelArtifactId(w.filename),
    kind: 'wheel',
    project: w.project,
    version: w.version,
    filename: w.filename,
    sha256: w.sha256,
    url: w.url,
    ...(w.requiresPython ? { requiresPython: w.requiresPython } : {}),
    paths: withMetadata ? [p, p + '.metadata'] : [p],
  };
}

async function intact(writer: BundleWriter, paths: string[]): Promise<boolean> {
  for (const p of paths) {
    const f = writer.file(p);
    if (!f) return false;
    const st = await fs.lstat(path.join(writer.dir, ...p.split('/'))).catch(() => undefined);
    if (!st?.isFile() || st.size !== f.size) return false;
  }
  return true;
}

/** Is the bundle's wheel artifact the one the plan names, with its files in place? */
async function held(writer: BundleWriter, w: ResolvedWheel): Promise<boolean> {
  const a = writer.artifact(wheelArtifactId(w.filename));
  if (!a || a.kind !== 'wheel' || !wheelKind.fetch!.holds(a, { filename: w.filename, sha256: w.sha256 }))
    return false;
  const f = writer.file(wheelPath(w.filename));
  return !!f && f.sha256 === w.sha256 && (await intact(writer, a.paths));
}

export async function fetchWheels(
  sets: readonly ResolvedWheelSet[] | undefined,
  o: WheelFetchOptions,
): Promise<WheelFetchResult> {
  const wheels = wheelsOf(sets);
  const result: WheelFetchResult = { total: wheels.length, present: 0, fetched: 0, removed: 0, failures: [] };
  const want = new Set(wheels.map((w) => wheelArtifactId(w.filename)));
  for (const a of o.writer.listArtifacts()) {
    if (a.kind !== 'wheel' || want.has(a.id)) continue;
    await o.writer.removeArtifact(a.id);
    result.removed++;
  }
  const limit = new Limiter(o.concurrency ?? 6);
  await Promise.all(
    wheels.map((w) =>
      limit.run(async () => {
        const id = wheelArtifactId(w.filename);
        if (await held(o.writer, w)) {
          result.present++;
          o.onItem?.(id, w.filename, 'present');
          return;
        }
        try {
          o.onItem?.(id, w.filename, 'started');
          await fetchOne(w, o);
          result.fetched++;
          o.onItem?.(id, w.filename, 'done');
        } catch (err) {
          const error = toErrorValue(err);
          if (error.code === 'CANCELLED' || o.signal?.aborted) throw err;
          result.failures.push({ id, name: w.filename, error });
          o.onItem?.(id, w.filename, 'failed', error);
        }
      }),
    ),
  );
  // The static PEP 503 copy of the index, once the bundle holds every wheel (or none: then it goes).
  if (!result.failures.length) await writeStaticIndex(o.writer, sets);
  return result;
}

async function fetchOne(w: ResolvedWheel, o: WheelFetchOptions): Promise<void> {
  const rel = wheelPath(w.filename);
  const seg = o.segment ?? { minBytes: 16 << 20, parts: 4 };
  const size = w.size ?? (seg.parts > 1 ? await sizeOf(w, o) : undefined);
  if (
    size !== undefined &&
    size >= seg.minBytes &&
    seg.parts > 1 &&
    (await segmented(w, size, rel, seg.parts, o))
  ) {
    await finish(w, rel, o);
    return;
  }
  const tmp = o.writer.resumePath(w.url);
  const r = await downloadToFile(o.client, {
    url: mirrorUrl(w.url, o.mirrors),
    dest: tmp,
    expectSha256: w.sha256,
    expectSize: w.size,
    label: w.filename,
    checksumHint: `${w.filename} is not the file the index listed when the plan was made (${redactUrl(w.url)}). Check the index and any mirror or proxy; if the index changed, make the plan again.`,
    signal: o.signal,
    onBytes: o.onBytes,
  });
  await o.writer.commitFile(tmp, rel, r);
  await discardPartial(tmp);
  await finish(w, rel, o);
}

async function finish(w: ResolvedWheel, rel: string, o: WheelFetchOptions): Promise<void> {
  const isWheel = w.filename.endsWith('.whl');
  if (isWheel) await o.writer.addBytes(rel + '.metadata', await metadataBytes(w, rel, o));
  await o.writer.addArtifact(artifactFor(w, isWheel));
}

/** The index's PEP 658 file when the plan recorded its hash, else METADATA out of the verified wheel. */
async function metadataBytes(w: ResolvedWheel, rel: string, o: WheelFetchOptions): Promise<Buffer> {
  if (w.metadataSha256) {
    const res = await o.client.fetchBytes(mirrorUrl(w.url + '.metadata', o.mirrors), {
      signal: o.signal,
      maxBytes: 16 << 20,
    });
    const got = createHash('sha256').update(res.body).digest('hex');
    if (got !== w.metadataSha256) {
      throw new FerryError(
        'CHECKSUM',
        `${w.filename}.metadata does not match the sha256 the index listed: expected ${w.metadataSha256}, got ${got}.`,
        {
          artifact: w.filename,
          hint: 'Check the index and any mirror or proxy; if the index changed, make the plan again.',
        },
      );
    }
    return res.body;
  }
  const bytes = await fs.readFile(path.join(o.writer.dir, ...rel.split('/')));
  return Buffer.from(metadataFromWheel(bytes, w.filename));
}

/** Does a finished bundle's manifest hold every wheel of the plan, with its files in place? */
export async function wheelsInManifest(
  dir: string,
  manifest: {
    artifacts: readonly { id: string; kind: string; paths: string[] }[];
    files: readonly { path: string; size: number }[];
  },
  sets: readonly ResolvedWheelSet[] | undefined,
): Promise<boolean> {
  const wheels = wheelsOf(sets);
  const byId = new Map(manifest.artifacts.map((a) => [a.id, a]));
  const listed = new Map(manifest.files.map((f) => [f.path, f.size]));
  const sizes = (p: string) => listed.get(p);
  // A bundle without wheels has no static index; one with wheels has it (an older bundle gets it).
  if (!wheels.length) return !byId.has(PYPI_REPO_ID);
  const pages = byId.get(PYPI_REPO_ID);
  if (!pages || pages.kind !== 'repo') return false;
  for (const p of pages.paths) {
    const st = await fs.lstat(path.join(dir, ...p.split('/'))).catch(() => undefined);
    if (!st?.isFile() || st.size !== sizes(p)) return false;
  }
  for (const w of wheels) {
    const a = byId.get(wheelArtifactId(w.filename));
    if (!a || a.kind !== 'wheel' || (a as unknown as WheelArtifact).sha256 !== w.sha256) return false;
    for (const p of a.paths) {
      const st = await fs.lstat(path.join(dir, ...p.split('/'))).catch(() => undefined);
      if (!st?.isFile() || st.size !== sizes(p)) return false;
    }
  }
  return true;
}

class NoRanges extends Error {}

/** The size a HEAD reports, for indexes that do not list sizes (PEP 503 HTML); undefined if none. */
async function sizeOf(w: ResolvedWheel, o: WheelFetchOptions): Promise<number | undefined> {
  try {
    const res = await o.client.send(mirrorUrl(w.url, o.mirrors), {
      method: 'HEAD',
      headers: { 'accept-encoding': 'identity' },
      signal: o.signal,
    });
    await res.body.dump().catch(() => undefined);
    const len = String(res.headers['content-length'] ?? '');
    return res.status === 200 && /^\d+$/.test(len) ? Number(len) : undefined;
  } catch {
    return undefined; // the download itself will say what is wrong
  }
}

/**
 * One file in parallel byte ranges into one preallocated temp file; a range that drops resumes
 * where it stopped. The whole file is then hashed in order and must equal the index's sha256
 * before it is committed. False, with nothing kept, when the server does not honour Range or a
 * range fails for good: the caller then streams the file whole (retries, resume, hashing as it
 * goes), so this path only ever speeds a fetch up.
 */
async function segmented(
  w: ResolvedWheel,
  size: number,
  rel: string,
  parts: number,
  o: WheelFetchOptions,
): Promise<boolean> {
  const url = mirrorUrl(w.url, o.mirrors);
  const tmp = o.writer.tempPath(w.filename);
  const fh = await fs.open(tmp, 'w');
  // One failing range stops the others: their bytes would be thrown away.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const step = Math.ceil(size / parts);
  const policy = o.client.retry;
  const range = async (i: number): Promise<void> => {
    let pos = i * step;
    const end = Math.min(size, pos + step) - 1;
    for (let failures = 0; pos <= end;) {
      const res = await o.client.send(url, {
        headers: { range: `bytes=${pos}-${end}`, 'accept-encoding': 'identity' },
        signal: stop.signal,
      });
      const cr = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
      if (res.status !== 206 || !cr || Number(cr[1]) !== pos || Number(cr[3]) !== size) {
        res.body.destroy();
        throw new NoRanges();
      }
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          if (pos + chunk.length > end + 1) throw new NoRanges();
          await fh.write(chunk, 0, chunk.length, pos);
          pos += chunk.length;
          o.onBytes?.(chunk.length);
        }
      } catch (err) {
        res.body.destroy();
        if (err instanceof NoRanges || !isNetworkError(err) || ++failures >= policy.attempts) throw err;
        await sleep(backoffMs(policy, failures), stop.signal);
      }
    }
  };
  let ok = false;
  try {
    await fh.truncate(size);
    const runs = Array.from({ length: parts }, (_, i) =>
      range(i).catch((err: unknown) => {
        stop.abort();
        throw err;
      }),
    );
    const settled = await Promise.allSettled(runs);
    ok = settled.every((r) => r.status === 'fulfilled');
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await fh.close().catch(() => undefined);
    if (!ok) await fs.rm(tmp, { force: true });
  }
  if (o.signal?.aborted) throw new FerryError('CANCELLED', 'Cancelled.');
  if (!ok) return false;
  const h = createHash('sha256');
  for await (const c of createReadStream(tmp, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  const got = h.digest('hex');
  if (got !== w.sha256) {
    await fs.rm(tmp, { force: true });
    throw new FerryError(
      'CHECKSUM',
      `${w.filename} (downloaded from ${redactUrl(url)}) does not match its published checksum: expected sha256:${w.sha256}, got sha256:${got} (${size} bytes). The file was discarded.`,
      {
        artifact: w.filename,
        hint: `${w.filename} is not the file the index listed when the plan was made. Check the index and any mirror or proxy; if the index changed, make the plan again.`,
      },
    );
  }
  await o.writer.commitFile(tmp, rel, { size, sha256: got });
  return true;
}
