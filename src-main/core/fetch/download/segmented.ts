import fs from 'node:fs/promises';
import { z } from 'zod';
import { FerryError, isAbort } from '../../base/errors/index.js';
import { pumpBodyToFile } from './body-pump.js';
import type { Hasher } from './hash-workers.js';
import {
  httpError,
  isUnreachable,
  retryAfterMs,
  wrapNetworkError,
  type HttpClient,
  type HttpResponse,
} from './http-client.js';
import { proxyFor } from './proxy.js';
import { RawRangeAgent, type RawRangeAnswer } from './raw-range.js';
import { backoffMs, isNetworkError, isRetriableStatus, sleep } from './retry.js';

/**
 * Segmented downloads: one large file fetched as several HTTP Range requests at once into one
 * partial file. Many WAN links and corporate proxies cap each TCP connection, so N connections
 * move about N times the bytes.
 *
 * Layout. The first request asks for the first piece only (`Range: bytes=0-P0-1`): a 206 whose
 * Content-Range names the total size is the proof that the server serves ranges, and it already
 * carries piece 0. The rest of the file is cut into pieces of a fixed size, handed out lowest
 * first to up to `connections` runners, each with `If-Range` (the validator of the first answer),
 * so a file that changes upstream mid-download answers 200 and the download restarts cleanly
 * instead of splicing two versions.
 *
 * Hashing. SHA-256 is a sequential function, so the digest is computed over the file in order:
 * a frontier follows the lowest piece not yet hashed and, as soon as that piece is complete,
 * reads it back from the partial file (from the page cache, where its bytes were written moments
 * earlier) into a hash worker. Because pieces are handed out in order, the frontier trails the
 * download by a few pieces, and what is left to hash when the last byte arrives is at most the
 * pieces that were in flight (≤ connections × piece size). The cost of this design is one read
 * of every byte from memory (a memcpy, several GB/s) instead of hashing the bytes as they come
 * off the socket; it buys the freedom to receive bytes out of order.
 *
 * Resume. A state file beside the partial (`<partial>.segments.json`, replaced atomically via a
 * rename) lists the finished pieces; it is written only after those pieces were flushed to disk
 * (fdatasync), so a piece it names is on disk. A piece in flight at a crash is fetched again from
 * its start. On resume the state is validated (same URL, same size, same layout, pieces in range)
 * and the finished prefix is re-hashed from disk; a state that does not validate discards the
 * partial. The whole stream is always checked against the expected digest before the caller may
 * commit it, so a partial never passes for complete.
 *
 * Odd servers. No range support (200 to the first request) → the caller streams that answer as a
 * plain download. A wrong Content-Range, a missing total, or a piece the server cuts short
 * repeatedly → fall back to one connection from the finished prefix. A 200 or a changed ETag on a
 * piece → the file changed: discard and restart from zero.
 */

export interface SegmentSettings {
  /** Connections one download may use (its share of the per-host limit); 1 disables segmenting. */
  connections: number;
  /** Files smaller than this are fetched over one connection. */
  minBytes: number;
  /** Size of the pieces after the first (default: from the file's size). */
  pieceBytes?: number;
  /** Size of the first piece (the probe). */
  firstPieceBytes?: number;
  /**
   * Pieces over plain sockets that read into one buffer each (raw-range.ts) where the URL is
   * http:// and no proxy is in the way; default on (FERRY_RAW_RANGES=0 turns it off).
   */
  plainSockets?: boolean;
}

export const DEFAULT_SEGMENT_MIN_BYTES = 32 << 20;
const DEFAULT_FIRST_PIECE = 4 << 20;
const MIN_PIECE = 1 << 20;
const MAX_PIECE = 32 << 20;
const READ_BUFFER = 1 << 20;
/** How often the state file may be rewritten while pieces finish. */
const SAVE_EVERY_MS = 500;

export function segmentStatePath(dest: string): string {
  return dest + '.segments.json';
}

const StateSchema = z.object({
  v: z.literal(1),
  url: z.string(),
  size: z.number().int().positive(),
  firstPiece: z.number().int().positive(),
  pieceSize: z.number().int().positive(),
  etag: z.string().optional(),
  lastModified: z.string().optional(),
  done: z.array(z.number().int().nonnegative()),
});
type State = z.infer<typeof StateSchema>;

interface Piece {
  start: number;
  end: number;
  /** Bytes of this piece on disk (a prefix of it). */
  got: number;
  status: 'todo' | 'active' | 'done';
}

export type SegmentOutcome =
  | { kind: 'done'; sha: string[]; size: number; resumedFrom: number; attempts: number }
  /** The server does not do ranges: the caller streams `response` (a 200) as a plain download. */
  | { kind: 'plain'; response?: HttpResponse; attempts: number }
  /** The file changed upstream (or the state was unusable): the partial is gone, start over. */
  | { kind: 'restart'; attempts: number };

export interface SegmentRequest {
  url: string;
  dest: string;
  label: string;
  expectSize?: number | undefined;
  headersFor?: ((url: URL) => Record<string, string> | undefined) | undefined;
  onUnauthorized?: ((res: HttpResponse) => Promise<boolean>) | undefined;
  signal?: AbortSignal | undefined;
  onBytes?: ((n: number) => void) | undefined;
  onSize?: ((total: number | undefined, already: number) => void) | undefined;
  /** Writes the plain sidecar (url and validators) the way the one-connection path does. */
  writeSidecar: (etag: string | undefined, lastModified: string | undefined) => Promise<void>;
  /** A worker session that can read file ranges itself keeps the bytes off the main thread. */
  openHasher: () => Hasher & { updateFromFile?(file: string, start: number, end: number): Promise<void> };
}

export function pieceLayout(size: number, firstPiece: number, pieceSize: number): Piece[] {
  const out: Piece[] = [];
  let at = 0;
  let len = Math.min(firstPiece, size);
  while (at < size) {
    out.push({ start: at, end: at + len, got: 0, status: 'todo' });
    at += len;
    len = Math.min(pieceSize, size - at);
  }
  return out;
}

/** Pieces sized so each connection gets several: the last ones in flight are then small. */
export function pieceSizeFor(size: number, connections: number, wanted?: number): number {
  if (wanted) return wanted;
  const p = Math.ceil(size / (connections * 8));
  return Math.min(MAX_PIECE, Math.max(MIN_PIECE, Math.ceil(p / MIN_PIECE) * MIN_PIECE));
}

async function readState(dest: string): Promise<State | undefined> {
  try {
    return StateSchema.parse(JSON.parse(await fs.readFile(segmentStatePath(dest), 'utf8')));
  } catch {
    return undefined;
  }
}

async function writeState(dest: string, s: State): Promise<void> {
  const file = segmentStatePath(dest);
  const tmp = file + '.tmp';
  await fs.writeFile(tmp, JSON.stringify(s));
  await fs.rename(tmp, file);
}

export async function hasSegmentState(dest: string): Promise<boolean> {
  return fs.access(segmentStatePath(dest)).then(
    () => true,
    () => false,
  );
}

/**
 * A segmented partial that will not be continued as one (segmenting switched off, or an odd
 * server): keep its finished prefix, which is what the one-connection resume understands, and
 * forget the rest. Returns the prefix length.
 */
export async function collapseToPrefix(dest: string): Promise<number> {
  const s = await readState(dest);
  await fs.rm(segmentStatePath(dest), { force: true });
  let prefix = 0;
  if (s) {
    const pieces = pieceLayout(s.size, s.firstPiece, s.pieceSize);
    const done = new Set(s.done);
    for (let i = 0; i < pieces.length && done.has(i); i++) prefix = pieces[i].end;
  }
  try {
    const fh = await fs.open(dest, 'r+');
    try {
      await fh.truncate(prefix);
    } finally {
      await fh.close();
    }
  } catch {
    /* no partial: nothing to cut */
  }
  return prefix;
}

function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseContentRange(
  v: string | undefined,
): { start: number; end: number; total?: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v?.trim() ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]) + 1, ...(m[3] !== '*' ? { total: Number(m[3]) } : {}) };
}

/** End a body nobody will read; its abort error has no one to go to. */
function discard(res: HttpResponse): void {
  res.body.on('error', () => undefined);
  res.body.destroy();
}

function strongEtag(etag: string | undefined): string | undefined {
  return etag && !etag.startsWith('W/') ? etag : undefined;
}

class Changed extends Error {}
class Odd extends Error {}

/**
 * Try the segmented path. Called only when nothing of a one-connection partial is on disk (a
 * fresh download, or a segmented partial with its state file).
 */
export async function segmentedDownload(
  client: HttpClient,
  req: SegmentRequest,
  settings: SegmentSettings,
): Promise<SegmentOutcome> {
  const policy = client.retry;
  let attempts = 0;
  let state = await readState(req.dest);
  let resumedFrom = 0;
  if (state) {
    const size = await fs.lstat(req.dest).then(
      (st) => (st.isFile() ? st.size : -1),
      () => -1,
    );
    const count = pieceLayout(state.size, state.firstPiece, state.pieceSize).length;
    const valid =
      state.url === req.url &&
      (req.expectSize === undefined || req.expectSize === state.size) &&
      size >= 0 &&
      size <= state.size &&
      state.done.every((i) => i < count);
    if (!valid) {
      await fs.rm(req.dest, { force: true });
      await fs.rm(segmentStatePath(req.dest), { force: true });
      state = undefined;
    }
  }

  let probe: HttpResponse | undefined;
  if (!state) {
    const first =
      settings.firstPieceBytes ??
      (req.expectSize !== undefined
        ? pieceSizeFor(req.expectSize, settings.connections, settings.pieceBytes)
        : DEFAULT_FIRST_PIECE);
    let authRetried = false;
    for (let failures = 0; ;) {
      if (req.signal?.aborted) throw new FerryError('CANCELLED', 'Cancelled.');
      attempts++;
      let res: HttpResponse;
      try {
        res = await client.send(req.url, {
          headers: { 'accept-encoding': 'identity', range: `bytes=0-${first - 1}` },
          headersFor: req.headersFor,
          signal: req.signal,
        });
      } catch (err) {
        if (isAbort(err) || req.signal?.aborted) throw new FerryError('CANCELLED', 'Cancelled.');
        if (!isNetworkError(err) || isUnreachable(err) || ++failures >= policy.attempts) throw err;
        await sleep(backoffMs(policy, failures), req.signal);
        continue;
      }
      if (res.status === 401 && req.onUnauthorized && !authRetried) {
        await res.body.dump().catch(() => undefined);
        authRetried = true;
        if (await req.onUnauthorized(res)) continue;
        throw httpError(401, res.url);
      }
      if (res.status === 200) return { kind: 'plain', response: res, attempts };
      if (res.status !== 206) {
        // Errors are the one-connection path's business (its messages, retries and hints).
        await res.body.dump().catch(() => undefined);
        if (isRetriableStatus(res.status) && ++failures < policy.attempts) {
          await sleep(
            retryAfterMs(policy, res.headers['retry-after']) ?? backoffMs(policy, failures),
            req.signal,
          );
          continue;
        }
        return { kind: 'plain', attempts };
      }
      const cr = parseContentRange(header(res, 'content-range'));
      if (
        !cr ||
        cr.total === undefined ||
        cr.start !== 0 ||
        cr.end !== Math.min(first, cr.total) ||
        (req.expectSize !== undefined && cr.total !== req.expectSize)
      ) {
        // A 206 that does not say what it holds: one connection, no guessing.
        discard(res);
        return { kind: 'plain', attempts };
      }
      const etag = header(res, 'etag');
      const lm = header(res, 'last-modified');
      const connections = cr.total >= settings.minBytes ? settings.connections : 1;
      state = {
        v: 1,
        url: req.url,
        size: cr.total,
        firstPiece: first,
        pieceSize:
          connections > 1
            ? pieceSizeFor(cr.total, connections, settings.pieceBytes)
            : Math.max(1, cr.total - first),
        ...(etag ? { etag } : {}),
        ...(lm ? { lastModified: lm } : {}),
        done: [],
      };
      try {
        // Both files before the first byte: a partial on disk always has a state that explains it.
        await req.writeSidecar(etag, lm);
        await writeState(req.dest, state);
        await fs.writeFile(req.dest, '');
      } catch (err) {
        discard(res);
        throw err;
      }
      probe = res;
      break;
    }
  }

  const st: State = state;
  const pieces = pieceLayout(st.size, st.firstPiece, st.pieceSize);
  for (const i of st.done) {
    pieces[i].status = 'done';
    pieces[i].got = pieces[i].end - pieces[i].start;
    resumedFrom += pieces[i].got;
  }
  const connections = st.size >= settings.minBytes ? Math.max(1, settings.connections) : 1;
  const validator = strongEtag(st.etag) ?? st.lastModified;
  req.onSize?.(st.size, resumedFrom);

  const fh = await fs.open(req.dest, 'r+');
  const hasher = req.openHasher();
  const ac = new AbortController();
  const stopAll = () => ac.abort();
  req.signal?.addEventListener('abort', stopAll, { once: true });
  let fatal: unknown;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fail = (err: unknown) => {
    fatal ??= err;
    stopAll();
    poke();
  };

  // State saves: after a flush, one at a time, at most every SAVE_EVERY_MS.
  let saving: Promise<void> | undefined;
  let saveQueued = false;
  let lastSave = 0;
  let finished = false;
  let hurry: (() => void) | undefined;
  const save = async (): Promise<void> => {
    if (saving) {
      saveQueued = true;
      return saving;
    }
    saving = (async () => {
      do {
        saveQueued = false;
        const wait = lastSave + SAVE_EVERY_MS - Date.now();
        if (wait > 0 && !finished)
          await new Promise<void>((r) => {
            const t = setTimeout(r, wait);
            hurry = () => {
              clearTimeout(t);
              r();
            };
          });
        hurry = undefined;
        // The end writes its own state (or removes it): a late save would only race it.
        if (finished) break;
        const done = pieces.flatMap((p, i) => (p.status === 'done' ? [i] : []));
        await fh.datasync();
        await writeState(req.dest, { ...st, done });
        lastSave = Date.now();
      } while (saveQueued);
    })().finally(() => (saving = undefined));
    return saving;
  };

  // The cheap receive path (raw-range.ts), while the server answers it as expected.
  const rawUrl = new URL(req.url);
  let raw: RawRangeAgent | undefined =
    settings.plainSockets !== false &&
    process.env.FERRY_RAW_RANGES !== '0' &&
    rawUrl.protocol === 'http:' &&
    !proxyFor(rawUrl, client.opts.proxy ?? {})
      ? new RawRangeAgent()
      : undefined;
  const rawAgent = raw;
  const rawAccepts = (from: number, p: Piece) => (a: RawRangeAnswer) => {
    const cr = parseContentRange(a.headers['content-range']);
    const et = strongEtag(a.headers.etag);
    return (
      !!cr &&
      cr.start === from &&
      cr.end === p.end &&
      (cr.total === undefined || cr.total === st.size) &&
      !(et && strongEtag(st.etag) && et !== st.etag)
    );
  };

  let pieceAttempts = 0;
  const runPiece = async (p: Piece, first?: HttpResponse): Promise<void> => {
    let authRetried = false;
    // Failures without progress, per piece: other pieces failing at the same moment (one
    // network blip seen by every connection) are not this piece's tries.
    let failures = 0;
    for (;;) {
      if (ac.signal.aborted) return;
      let res: HttpResponse | undefined = first;
      first = undefined;
      const from = p.start + p.got;
      let moved = 0;
      try {
        if (!res) {
          attempts++;
          pieceAttempts++;
          const headers: Record<string, string> = {
            'accept-encoding': 'identity',
            range: `bytes=${from}-${p.end - 1}`,
          };
          if (validator) headers['if-range'] = validator;
          if (raw) {
            client.requests++;
            const r = await raw.get({
              url: rawUrl,
              headers: {
                'user-agent': client.opts.userAgent ?? 'ferry/0.1',
                ...headers,
                ...(req.headersFor?.(rawUrl) ?? {}),
              },
              fd: fh.fd,
              at: from,
              length: p.end - from,
              accept: rawAccepts(from, p),
              onBytes: (n) => {
                moved += n;
                req.onBytes?.(n);
              },
              signal: ac.signal,
              idleTimeoutMs: client.opts.idleTimeoutMs ?? 60_000,
              connectTimeoutMs: client.opts.connectTimeoutMs ?? 30_000,
            });
            if (r.kind === 'body') {
              p.got = p.end - p.start;
              p.status = 'done';
              poke();
              void save().catch(fail);
              return;
            }
            // An answer this path does not take (a redirect, 401, 200, chunked, another range):
            // the ordinary client asks again and owns it, for the rest of this download.
            if (r.answer) raw = undefined;
          }
          res = await client.send(req.url, { headers, headersFor: req.headersFor, signal: ac.signal });
          if (res.status === 401 && req.onUnauthorized && !authRetried) {
            await res.body.dump().catch(() => undefined);
            authRetried = true;
            if (await req.onUnauthorized(res)) continue;
            throw httpError(401, res.url);
          }
          if (res.status === 200 || res.status === 416) {
            discard(res);
            throw new Changed();
          }
          if (res.status !== 206) {
            await res.body.dump().catch(() => undefined);
            const err = httpError(res.status, res.url);
            if (!isRetriableStatus(res.status) || ++failures >= policy.attempts) throw err;
            await sleep(
              retryAfterMs(policy, res.headers['retry-after']) ?? backoffMs(policy, failures),
              ac.signal,
            );
            continue;
          }
          const cr = parseContentRange(header(res, 'content-range'));
          if (
            !cr ||
            cr.start !== from ||
            cr.end !== p.end ||
            (cr.total !== undefined && cr.total !== st.size)
          ) {
            discard(res);
            throw new Odd(
              `sent ${header(res, 'content-range') ?? 'no Content-Range'} for bytes ${from}-${p.end - 1}`,
            );
          }
          const et = strongEtag(header(res, 'etag'));
          if (et && strongEtag(st.etag) && et !== st.etag) {
            discard(res);
            throw new Changed();
          }
        }
        const body = res;
        await pumpBodyToFile(body.body, fh, NO_HASH, {
          at: from,
          onBytes: (n) => {
            // A body longer than its range would overwrite the next piece: never past the end.
            moved += n;
            req.onBytes?.(n);
            if (from + moved > p.end) body.body.destroy(new Odd('sent more bytes than its range'));
          },
        });
        if (from + moved !== p.end) {
          throw Object.assign(new Error(`piece ended after ${moved} of ${p.end - from} bytes`), {
            code: 'UND_ERR_SOCKET',
          });
        }
        p.got = p.end - p.start;
        p.status = 'done';
        poke();
        void save().catch(fail);
        return;
      } catch (err) {
        if (res && !res.body.destroyed) discard(res);
        // The pump writes every byte it received before it reports the body's failure.
        p.got = Math.min(p.end - p.start, p.got + moved);
        if (err instanceof Changed || err instanceof Odd) throw err;
        if (isAbort(err) || ac.signal.aborted) return;
        if (!isNetworkError(err) || isUnreachable(err)) throw err;
        if (moved === 0 && ++failures >= policy.attempts) throw wrapNetworkError(err, new URL(req.url));
        // A server that cuts pieces short again and again is odd, not flaky: one connection.
        if (moved > 0 && pieceAttempts > pieces.length * 3) throw new Odd('cuts its ranges short');
        await sleep(backoffMs(policy, Math.max(failures, 1)), ac.signal).catch(() => undefined);
      }
    }
  };

  const runner = async (first?: { piece: Piece; res: HttpResponse }): Promise<void> => {
    if (first) {
      first.piece.status = 'active';
      await runPiece(first.piece, first.res);
      if (!isDone(first.piece)) first.piece.status = 'todo';
    }
    for (;;) {
      if (ac.signal.aborted) return;
      const p = pieces.find((x) => x.status === 'todo');
      if (!p) return;
      p.status = 'active';
      try {
        await runPiece(p);
      } finally {
        if (!isDone(p)) p.status = 'todo';
      }
    }
  };

  // The frontier: hash pieces in order as they complete, reading them back from the file.
  const hashAll = async (): Promise<void> => {
    const buf = Buffer.allocUnsafe(READ_BUFFER);
    for (const p of pieces) {
      while (p.status !== 'done') {
        if (fatal !== undefined || ac.signal.aborted) return;
        await new Promise<void>((r) => (wake = r));
      }
      if (hasher.updateFromFile) {
        await hasher.updateFromFile(req.dest, p.start, p.end);
        continue;
      }
      for (let at = p.start; at < p.end;) {
        if (ac.signal.aborted) return;
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, p.end - at), at);
        if (bytesRead === 0) throw new FerryError('IO', `${req.dest} is shorter than the pieces it holds.`);
        hasher.update(buf.subarray(0, bytesRead));
        at += bytesRead;
        await hasher.drain();
      }
    }
  };

  let sha: string[] | undefined;
  let outcome: SegmentOutcome | undefined;
  try {
    const runners: Array<Promise<void>> = [];
    const firstTodo = probe ? pieces[0] : undefined;
    runners.push(runner(firstTodo && probe ? { piece: firstTodo, res: probe } : undefined).catch(fail));
    for (let i = 1; i < connections; i++) runners.push(runner().catch(fail));
    const hashing = hashAll().catch(fail);
    await Promise.all(runners);
    poke();
    await hashing;
    if (fatal === undefined && req.signal?.aborted) fatal = new FerryError('CANCELLED', 'Cancelled.');
    if (fatal === undefined) {
      sha = await hasher.digest();
      outcome = { kind: 'done', sha, size: st.size, resumedFrom, attempts };
    }
  } finally {
    req.signal?.removeEventListener('abort', stopAll);
    if (!sha) hasher.drop();
    finished = true;
    hurry?.();
    if (saving) await saving.catch(() => undefined);
    rawAgent?.close();
    await fh.close();
  }
  if (outcome) {
    await fs.rm(segmentStatePath(req.dest), { force: true });
    return outcome;
  }
  if (fatal instanceof Changed) {
    await fs.rm(req.dest, { force: true });
    await fs.rm(segmentStatePath(req.dest), { force: true });
    return { kind: 'restart', attempts };
  }
  if (fatal instanceof Odd) {
    // Save what is finished, then hand the prefix to the one-connection path.
    await writeState(req.dest, { ...st, done: pieces.flatMap((p, i) => (p.status === 'done' ? [i] : [])) });
    await collapseToPrefix(req.dest);
    return { kind: 'plain', attempts };
  }
  if (fatal instanceof FerryError && fatal.code === 'CANCELLED') {
    await writeState(req.dest, {
      ...st,
      done: pieces.flatMap((p, i) => (p.status === 'done' ? [i] : [])),
    }).catch(() => undefined);
  }
  if (isAbort(fatal)) throw new FerryError('CANCELLED', 'Cancelled.');
  throw fatal;
}

/** Read through a call: a piece's status changes while its download is awaited. */
const isDone = (p: Piece): boolean => p.status === 'done';

/** Pieces are hashed by the frontier, not as they arrive. */
const NO_HASH = { update: () => undefined, backlog: 0, drain: () => Promise.resolve() };
