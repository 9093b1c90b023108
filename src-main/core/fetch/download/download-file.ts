import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { FerryError, isAbort } from '../../base/errors/index.js';
import { childSignal } from './abort-fanout.js';
import {
  httpError,
  isUnreachable,
  retryAfterMs,
  wrapNetworkError,
  type HeadersFor,
  type HttpClient,
  type HttpResponse,
} from './http-client.js';
import { redactUrl } from './proxy.js';
import { InlineHash, sharedHashWorkers, type Hasher, type HashWorkers } from './hash-workers.js';
import { pumpBodyToFile } from './body-pump.js';
import { backoffMs, isNetworkError, isRetriableStatus, sleep } from './retry.js';
import {
  collapseToPrefix,
  hasSegmentState,
  segmentedDownload,
  segmentStatePath,
  type SegmentSettings,
} from './segmented.js';

/**
 * Download one URL into a stable partial file, hashing in the same pass as writing, resuming
 * with HTTP Range after a dropped connection, a cancel or a crash. The partial's sidecar
 * remembers the validator (ETag / Last-Modified) the bytes came with, so a resume sends If-Range
 * and a changed upstream file restarts from zero instead of being spliced. Nothing here moves
 * the file into a bundle: the caller commits it after this returns a verified digest.
 */

export interface DownloadRequest {
  /** Where the bytes come from (after mirrors). */
  url: string;
  /** Stable partial path (BundleWriter.resumePath): the same artifact always resumes here. */
  dest: string;
  /** Published sha256 (hex). A mismatch is never accepted. */
  expectSha256?: string | undefined;
  /** Published sha512 (hex; Kubespray uses it for gVisor). Checked as well as sha256 is computed. */
  expectSha512?: string | undefined;
  expectSize?: number | undefined;
  /** What errors name: the original URL, or image ref and digest. */
  label: string;
  /** What the user should do when the bytes do not match (default: generic advice). */
  checksumHint?: string | undefined;
  headersFor?: HeadersFor | undefined;
  /** On 401: refresh credentials (e.g. a registry token) and return true to try again. */
  onUnauthorized?: ((res: HttpResponse) => Promise<boolean>) | undefined;
  signal?: AbortSignal | undefined;
  /** New bytes received (progress). */
  onBytes?: ((n: number) => void) | undefined;
  /** Once per response: total size if known and how many bytes are already on disk. */
  onSize?: ((total: number | undefined, already: number) => void) | undefined;
  /**
   * Where hashing runs. Default: in this thread while this is the only download in the
   * process, in the process-wide worker threads while several run at once.
   */
  hashers?: HashWorkers;
  /** Segmented download settings (default: the client's; false: one connection). */
  segments?: SegmentSettings | false;
}

export interface DownloadResult {
  sha256: string;
  size: number;
  /** Bytes that were already on disk from an earlier attempt or run. */
  resumedFrom: number;
  /** Responses it took. */
  attempts: number;
}

const SidecarSchema = z.object({
  url: z.string(),
  etag: z.string().optional(),
  lastModified: z.string().optional(),
});
type Sidecar = z.infer<typeof SidecarSchema>;

const WRITE_BUFFER = 1 << 20;
/** The commit fsyncs the partial; flushing it while downloading keeps that fsync short. */
const SYNC_EVERY = 32 << 20;

export function sidecarPath(dest: string): string {
  return dest + '.json';
}

export async function discardPartial(dest: string): Promise<void> {
  await fs.rm(dest, { force: true });
  await fs.rm(sidecarPath(dest), { force: true });
  await fs.rm(segmentStatePath(dest), { force: true });
}

async function readSidecar(dest: string): Promise<Sidecar | undefined> {
  try {
    return SidecarSchema.parse(JSON.parse(await fs.readFile(sidecarPath(dest), 'utf8')));
  } catch {
    return undefined;
  }
}

async function partialSize(dest: string): Promise<number> {
  try {
    const st = await fs.lstat(dest);
    return st.isFile() ? st.size : 0;
  } catch {
    return 0;
  }
}

async function hashExisting(dest: string, session: Hasher, parent?: AbortSignal): Promise<void> {
  const { signal, release } = childSignal(parent);
  try {
    for await (const chunk of createReadStream(dest, { highWaterMark: WRITE_BUFFER, signal })) {
      session.update(chunk as Buffer);
      await session.drain();
    }
  } finally {
    release();
  }
}

function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Downloads running in this process: the hashing placement follows it. */
let active = 0;

export async function downloadToFile(client: HttpClient, req: DownloadRequest): Promise<DownloadResult> {
  active++;
  try {
    return await download(client, req);
  } finally {
    active--;
  }
}

function openHasher(req: DownloadRequest, algos: string[]): Hasher {
  if (req.hashers) return req.hashers.open(algos);
  return active <= 1 ? new InlineHash(algos) : sharedHashWorkers().open(algos);
}

async function download(client: HttpClient, req: DownloadRequest): Promise<DownloadResult> {
  const policy = client.retry;
  const sourceUrl = new URL(req.url);
  await fs.mkdir(path.dirname(req.dest), { recursive: true });
  let failures = 0;
  let attempts = 0;
  let restartedAfterMismatch = false;
  let authRetried = false;
  let firstResume: number | undefined;
  const algos = req.expectSha512 ? ['sha256', 'sha512'] : ['sha256'];
  let session: Hasher | undefined;
  const seg = req.segments === false ? undefined : (req.segments ?? client.opts.segments);
  /** After a fallback to one connection, the rest of this download stays on one. */
  let segOff = !seg || seg.connections < 2;
  let segRestarts = 0;
  /** A first answer the segmented path got and handed over (a 200 from a server without ranges). */
  let pending: HttpResponse | undefined;

  for (;;) {
    if (req.signal?.aborted) throw new FerryError('CANCELLED', 'Cancelled.');
    if (!segOff && seg) {
      const resumable = await hasSegmentState(req.dest);
      const fresh = !resumable && (await partialSize(req.dest)) === 0;
      const big = req.expectSize === undefined || req.expectSize >= seg.minBytes;
      if (resumable || (fresh && big)) {
        const out = await segmentedDownload(
          client,
          {
            url: req.url,
            dest: req.dest,
            label: req.label,
            expectSize: req.expectSize,
            headersFor: req.headersFor,
            onUnauthorized: req.onUnauthorized,
            signal: req.signal,
            onBytes: req.onBytes,
            onSize: req.onSize,
            writeSidecar: async (etag, lastModified) => {
              const sc: Sidecar = { url: req.url };
              if (etag) sc.etag = etag;
              if (lastModified) sc.lastModified = lastModified;
              await fs.writeFile(sidecarPath(req.dest), JSON.stringify(sc));
            },
            // Off the thread that serves the sockets: the frontier reads and hashes while they run.
            openHasher: () => (req.hashers ?? sharedHashWorkers()).open(algos),
          },
          seg,
        ).catch((err: unknown) => {
          throw err instanceof FerryError ? withLabel(err, req.label) : err;
        });
        attempts += out.attempts;
        if (out.kind === 'done') {
          const [sha, s512] = out.sha;
          firstResume ??= out.resumedFrom;
          const bad512 = req.expectSha512 && s512 !== req.expectSha512;
          if ((req.expectSha256 && sha !== req.expectSha256) || bad512) {
            await discardPartial(req.dest);
            if (out.resumedFrom > 0 && !restartedAfterMismatch) {
              restartedAfterMismatch = true;
              continue;
            }
            throw checksumError(req, bad512 ? `sha512:${s512}` : `sha256:${sha}`, out.size);
          }
          return { sha256: sha, size: out.size, resumedFrom: firstResume, attempts };
        }
        if (out.kind === 'restart' && ++segRestarts < 3) continue;
        segOff = true;
        pending = out.kind === 'plain' ? out.response : undefined;
      } else segOff = true;
    } else if (await hasSegmentState(req.dest)) await collapseToPrefix(req.dest);
    // Where to continue from: only bytes that came from this same URL count.
    let sidecar = await readSidecar(req.dest);
    let offset = await partialSize(req.dest);
    if (offset > 0 && sidecar?.url !== req.url) {
      await discardPartial(req.dest);
      offset = 0;
      sidecar = undefined;
    }
    if (req.expectSize !== undefined && offset > req.expectSize) {
      await discardPartial(req.dest);
      offset = 0;
      sidecar = undefined;
    }
    firstResume ??= offset;
    session?.drop();
    session = openHasher(req, algos);
    if (offset > 0) await hashExisting(req.dest, session, req.signal);
    // A crash between the last byte and the commit leaves a complete partial: no request needed.
    if (req.expectSize !== undefined && offset === req.expectSize && offset > 0) {
      const [sha, s512] = await session.digest();
      const ok512 = !req.expectSha512 || s512 === req.expectSha512;
      if ((!req.expectSha256 || sha === req.expectSha256) && ok512)
        return { sha256: sha, size: offset, resumedFrom: offset, attempts };
      await discardPartial(req.dest);
      continue;
    }

    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (offset > 0) {
      headers.range = `bytes=${offset}-`;
      const validator =
        sidecar?.etag && !sidecar.etag.startsWith('W/') ? sidecar.etag : sidecar?.lastModified;
      if (validator) headers['if-range'] = validator;
    }
    let res: HttpResponse | undefined;
    let waitMs: number | undefined;
    let got = 0;
    try {
      if (pending) {
        res = pending;
        pending = undefined;
      } else {
        attempts++;
        res = await client.send(sourceUrl, { headers, headersFor: req.headersFor, signal: req.signal });
      }
      if (res.status === 401 && req.onUnauthorized && !authRetried) {
        await res.body.dump().catch(() => undefined);
        authRetried = true;
        if (await req.onUnauthorized(res)) continue;
        throw httpError(401, res.url);
      }
      authRetried = false;
      let appendAt: number;
      if (res.status === 206 && offset > 0) {
        const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header(res, 'content-range') ?? '');
        if (!m || Number(m[1]) !== offset) {
          // A range we did not ask for: start over rather than guess.
          await res.body.dump().catch(() => undefined);
          await discardPartial(req.dest);
          if (++failures >= policy.attempts)
            throw new FerryError('HTTP', `${redactUrl(res.url.href)} sent a wrong byte range.`, {
              artifact: req.label,
            });
          continue;
        }
        appendAt = offset;
      } else if (res.status === 200) {
        appendAt = 0; // the server ignored Range (or If-Range said the file changed): from zero
      } else if (res.status === 416 && offset > 0) {
        await res.body.dump().catch(() => undefined);
        // "bytes */N" with N what we hold: the partial is the whole file already (the disk filled,
        // or the process died, between its last byte and the commit). Its hash decides.
        const whole = /^bytes \*\/(\d+)$/.exec(header(res, 'content-range') ?? '');
        if (whole && Number(whole[1]) === offset) {
          const [sha, s512] = await session.digest();
          session = undefined;
          if (
            (!req.expectSha256 || sha === req.expectSha256) &&
            (!req.expectSha512 || s512 === req.expectSha512)
          ) {
            req.onSize?.(offset, offset);
            return { sha256: sha, size: offset, resumedFrom: firstResume, attempts };
          }
        }
        await discardPartial(req.dest);
        if (++failures >= policy.attempts) throw httpError(416, res.url);
        continue;
      } else {
        const text = await readSome(res);
        const err = httpError(res.status, res.url, text);
        if (!isRetriableStatus(res.status) || ++failures >= policy.attempts) throw withLabel(err, req.label);
        waitMs = retryAfterMs(policy, res.headers['retry-after']) ?? backoffMs(policy, failures);
        await sleep(waitMs, req.signal);
        continue;
      }

      // The size first: a disk that fills on the very first write still knows what it needed.
      const len = header(res, 'content-length');
      const remaining = len !== undefined && /^\d+$/.test(len) ? Number(len) : undefined;
      req.onSize?.(remaining === undefined ? undefined : appendAt + remaining, appendAt);
      if (appendAt === 0) {
        const sc: Sidecar = { url: req.url };
        const etag = header(res, 'etag');
        const lm = header(res, 'last-modified');
        if (etag) sc.etag = etag;
        if (lm) sc.lastModified = lm;
        await fs.writeFile(sidecarPath(req.dest), JSON.stringify(sc));
      }
      if (appendAt === 0 && offset > 0) {
        session.drop();
        session = openHasher(req, algos);
      }
      const h = session;

      const fh = await fs.open(req.dest, appendAt === 0 ? 'w' : 'r+');
      try {
        await fh.truncate(appendAt);
        await pumpBodyToFile(res.body, fh, h, {
          at: appendAt,
          syncEvery: SYNC_EVERY,
          onBytes: (n) => {
            got += n;
            req.onBytes?.(n);
          },
        });
      } finally {
        await fh.close();
      }
      const size = appendAt + got;
      if (remaining !== undefined && got !== remaining) {
        throw Object.assign(new Error(`response ended after ${got} of ${remaining} bytes`), {
          code: 'UND_ERR_SOCKET',
        });
      }
      const [sha, sha512] = await h.digest();
      session = undefined;
      if (
        (req.expectSha256 && sha !== req.expectSha256) ||
        (req.expectSha512 && sha512 !== req.expectSha512)
      ) {
        await discardPartial(req.dest);
        if (appendAt > 0 && !restartedAfterMismatch) {
          // The old bytes may be from another version of the file: one clean try from zero.
          restartedAfterMismatch = true;
          continue;
        }
        throw checksumError(
          req,
          req.expectSha512 && sha512 !== req.expectSha512 ? `sha512:${sha512}` : `sha256:${sha}`,
          size,
        );
      }
      return { sha256: sha, size, resumedFrom: firstResume, attempts };
    } catch (err) {
      // A body nobody reads (a full disk on the sidecar, the open or the first write) parks its
      // connection for ever, and the client's close then waits for it: free it here, whatever failed.
      if (res && !res.body.destroyed) res.body.destroy();
      session?.drop();
      session = undefined;
      if (isAbort(err) || req.signal?.aborted) throw new FerryError('CANCELLED', 'Cancelled.');
      if (!isNetworkError(err) || isUnreachable(err))
        throw err instanceof FerryError ? withLabel(err, req.label) : err;
      // A connection that moved bytes is not a failure to give up on: a flaky link finishes.
      if (got === 0 && ++failures >= policy.attempts)
        throw withLabel(wrapNetworkError(err, sourceUrl) as FerryError, req.label);
      await sleep(backoffMs(policy, Math.max(failures, 1)), req.signal);
    }
  }
}

function withLabel(err: unknown, label: string): unknown {
  if (err instanceof FerryError && err.artifact !== label) {
    return new FerryError(err.code, err.message, {
      hint: err.hint,
      artifact: label,
      details: err.details,
      cause: err,
    });
  }
  return err;
}

function checksumError(req: DownloadRequest, actual: string, size: number): FerryError {
  const mirrored = req.label !== req.url ? ` (downloaded from ${redactUrl(req.url)})` : '';
  const expected = actual.startsWith('sha512:') ? `sha512:${req.expectSha512}` : `sha256:${req.expectSha256}`;
  return new FerryError(
    'CHECKSUM',
    `${req.label}${mirrored} does not match its published checksum: expected ${expected}, got ${actual} (${size} bytes). The file was discarded.`,
    {
      artifact: req.label,
      details: { url: req.label, source: redactUrl(req.url), expected, actual, size },
      hint:
        req.checksumHint ??
        'The server (or a mirror or proxy on the way) sent different bytes. Check the mirror settings and run the fetch again; if it persists, the published checksum or the upstream file is wrong — report it, do not override it.',
    },
  );
}

async function readSome(res: HttpResponse): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of res.body) {
      chunks.push(c as Buffer);
      n += (c as Buffer).length;
      if (n > 4096) {
        res.body.destroy();
        break;
      }
    }
  } catch {
    /* the error status is what matters */
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, 4096);
}
