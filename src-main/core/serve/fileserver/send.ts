import { createHash } from 'node:crypto';
import fs, { constants as FS, type Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Streams one verified file as an HTTP response: single byte ranges, conditional requests,
 * HEAD. Shared by the file server and the registry's blob endpoint. Content was verified at
 * start; under a running server the size is checked against what was verified, the descriptor
 * must point into the bundle, and a small file (up to VERIFY_IN_MEMORY) is read whole and hashed
 * again before a byte of it is sent, so a file swapped under the server is refused, not served.
 * A large file cannot be hashed before sending without reading it twice; its size is what is
 * checked.
 */

/** Files up to this size are re-hashed in memory before each response: manifests, configs, most checksums. */
export const VERIFY_IN_MEMORY = 4 * 1024 * 1024;
/** Bytes all responses may hold in memory for that at once; more wait their turn. */
const VERIFY_BUDGET = 64 * 1024 * 1024;

/** Big chunks: loopback and LAN throughput is bound by per-chunk overhead, not memory. */
const CHUNK = 1024 * 1024;
/** Longest decimal we accept in a Range header: anything longer is beyond any file. */
const MAX_DIGITS = 15;

export type ByteRange = { start: number; end: number };

/**
 * Parse a Range header against a size. Returns undefined for no/ignored range (serve whole),
 * 'unsatisfiable' for a syntactically valid range that misses the file. Multi-range requests
 * are answered with the whole file, which RFC 9110 allows.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const [, a, b] = m;
  if (a.length > MAX_DIGITS || b.length > MAX_DIGITS) return 'unsatisfiable';
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || (b !== '' && Number(b) < start)) return 'unsatisfiable';
  return { start, end };
}

export interface SendFileOptions {
  file: string;
  size: number;
  contentType: string;
  /** Strong ETag (quoted), e.g. the sha256 the manifest promises. */
  etag?: string;
  headers?: Record<string, string>;
  /** A file stored split (FAT32 media): its parts in order, which together are `size` bytes. */
  parts?: Array<{ file: string; size: number }>;
  /** Counts body bytes actually written, for the status counters. */
  onBytes?: (n: number) => void;
  /** The sha256 (hex) verified: a file up to VERIFY_IN_MEMORY is hashed again before sending. */
  sha256?: string;
  /** Why a request was refused (a swapped folder, a changed file), for the request log. */
  onRefused?: (reason: string) => void;
}

function notModified(req: IncomingMessage, etag: string | undefined, mtime: Date): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined)
    return (
      !!etag && inm.split(',').some((t) => t.trim() === etag || t.trim() === '*' || t.trim() === `W/${etag}`)
    );
  const ims = req.headers['if-modified-since'];
  if (ims) {
    const t = Date.parse(ims);
    return !Number.isNaN(t) && Math.floor(mtime.getTime() / 1000) <= Math.floor(t / 1000);
  }
  return false;
}

function openNoFollow(file: string): Promise<number> {
  return new Promise((resolve, reject) =>
    // O_NOFOLLOW: a symlink planted after verification is never followed.
    fs.open(file, FS.O_RDONLY | (FS.O_NOFOLLOW ?? 0), (err, fd) => (err ? reject(err) : resolve(fd))),
  );
}

/**
 * O_NOFOLLOW guards only the last component; a parent folder swapped for a symlink would still be
 * followed. Node has no openat, so the check runs after open, on what was opened: the kernel's
 * path of the descriptor (/proc/self/fd) must be the path verified, under the canonical bundle
 * root. Racing a swap cannot win, because the descriptor cannot change once opened. Where /proc
 * is missing (macOS), the real path of the name is compared instead, with device and inode.
 */
async function opensInside(fd: number, file: string): Promise<boolean> {
  try {
    const real = await fs.promises.readlink(`/proc/self/fd/${fd}`);
    return real === file || real === (await canonical(file));
  } catch {
    try {
      const [real, a] = await Promise.all([fs.promises.realpath(file), fstat(fd)]);
      const b = await fs.promises.stat(real);
      return real === (await canonical(file)) && a.ino === b.ino && a.dev === b.dev;
    } catch {
      return false;
    }
  }
}

/** Canonical form of a served path, from the real path of its bundle root taken once (at start). */
const roots = new Map<string, Promise<string>>();
export function registerServedRoot(root: string, real: string): void {
  roots.set(root, Promise.resolve(real));
}
async function canonical(file: string): Promise<string> {
  for (const [root, real] of roots)
    if (file.startsWith(root + '/')) return (await real) + file.slice(root.length);
  return file;
}

function fstat(fd: number): Promise<Stats> {
  return new Promise((resolve, reject) => fs.fstat(fd, (err, st) => (err ? reject(err) : resolve(st))));
}

let budgetUsed = 0;
const budgetWaiters: Array<() => void> = [];

/** Take n bytes of the in-memory verification budget, waiting while others hold it. */
async function takeBudget(n: number): Promise<void> {
  while (budgetUsed > 0 && budgetUsed + n > VERIFY_BUDGET)
    await new Promise<void>((resolve) => budgetWaiters.push(resolve));
  budgetUsed += n;
}

function releaseBudget(n: number): void {
  budgetUsed -= n;
  for (const wake of budgetWaiters.splice(0)) wake();
}

/** Read exactly length bytes of fd from position 0 into buf at offset. */
async function readFully(fd: number, buf: Buffer, offset: number, length: number): Promise<void> {
  let got = 0;
  while (got < length) {
    const n = await readAt(fd, buf.subarray(offset + got), length - got, got);
    if (n === 0) throw new Error('file shorter than verified');
    got += n;
  }
}

/**
 * Sends the file; resolves when the response is finished or aborted. Returns the status sent. A
 * whole file is sent as a file of one part, so split files (FAT32 media) take the same path.
 */
export async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  o: SendFileOptions,
): Promise<number> {
  return sendParts(req, res, o, o.parts ?? [{ file: o.file, size: o.size }]);
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      res.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      res.off('drain', onDrain);
      reject(new Error('connection closed'));
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/**
 * Read buffers shared by all responses. A fresh buffer per chunk (what fs streams do) costs an
 * allocation, page faults on memory the CPU has never touched and GC work for every MiB sent;
 * reused buffers stay mapped and warm in cache. A buffer returns here only from its write
 * callback, once the socket no longer references it, so no byte is overwritten before it is sent.
 */
const pool: Buffer[] = [];
const POOL_MAX = 32;

function takeBuffer(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
}

function readAt(fd: number, buf: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.read(fd, buf, 0, length, position, (err, n) => (err ? reject(err) : resolve(n))),
  );
}

/**
 * Write bytes [start, start + length) of fd to res, honouring backpressure, adding the bytes
 * handed to the socket to sent.n; throws when the file ends early or the connection closes.
 */
async function pump(
  res: ServerResponse,
  fd: number,
  start: number,
  length: number,
  total: { n: number },
): Promise<void> {
  let sent = 0;
  while (sent < length) {
    if (res.destroyed) throw new Error('connection closed');
    const buf = takeBuffer();
    let n: number;
    try {
      n = await readAt(fd, buf, Math.min(CHUNK, length - sent), start + sent);
    } catch (err) {
      pool.push(buf);
      throw err;
    }
    if (n === 0) {
      pool.push(buf);
      throw new Error('file shorter than verified');
    }
    sent += n;
    total.n += n;
    const more = res.write(n === buf.length ? buf : buf.subarray(0, n), () => {
      if (pool.length < POOL_MAX) pool.push(buf);
    });
    if (!more && sent < length) await drained(res);
  }
}

type Span = { fd: number; start: number; length: number };

/**
 * Send the spans as the body and end the response. Resolves once the response has finished or
 * the connection closed, with the body bytes that left this process.
 */
async function send(res: ServerResponse, spans: Span[]): Promise<number> {
  const sent = { n: 0 };
  try {
    for (const s of spans) await pump(res, s.fd, s.start, s.length, sent);
    res.end();
  } catch {
    res.destroy();
  }
  if (!res.writableFinished && !res.destroyed)
    await new Promise<void>((resolve) => {
      res.once('finish', resolve);
      res.once('close', resolve);
    });
  return res.writableFinished ? sent.n : Math.max(0, sent.n - res.writableLength);
}

async function sendParts(
  req: IncomingMessage,
  res: ServerResponse,
  o: SendFileOptions,
  parts: Array<{ file: string; size: number }>,
): Promise<number> {
  const fds: number[] = [];
  let body: Buffer | undefined;
  let budget = 0;
  try {
    let mtime = new Date(0);
    for (const p of parts) {
      let fd: number;
      try {
        fd = await openNoFollow(p.file);
      } catch (err) {
        // Out of descriptors is this server's trouble, not a missing file: the client should retry.
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EMFILE' || code === 'ENFILE') {
          res.setHeader('Retry-After', '1');
          return sendError(res, 503, 'server busy: out of file descriptors, retry');
        }
        return sendError(res, 404, 'not found');
      }
      fds.push(fd);
      if (!(await opensInside(fd, p.file))) {
        // A folder on the path was replaced (by a symlink, say): what opened is not the verified file.
        o.onRefused?.(`${p.file}: opened outside the bundle (a folder on its path was replaced)`);
        return sendError(res, 404, 'not found');
      }
      const st = await fstat(fd);
      if (!st.isFile() || st.size !== p.size) {
        o.onRefused?.(`${p.file}: changed since it was verified (size ${st.size}, verified ${p.size})`);
        return sendError(res, 500, 'file changed since it was verified');
      }
      if (st.mtime > mtime) mtime = st.mtime;
    }
    if (parts.reduce((a, p) => a + p.size, 0) !== o.size)
      return sendError(res, 500, 'parts do not add up to the file');
    if (o.sha256 && o.size <= VERIFY_IN_MEMORY) {
      // Small: hash exactly the bytes that will be sent, before any header goes out, so a file
      // changed since verification is answered 500 and never sent.
      await takeBudget(o.size);
      budget = o.size;
      body = Buffer.allocUnsafe(o.size);
      let at = 0;
      for (let i = 0; i < parts.length; i++) {
        await readFully(fds[i], body, at, parts[i].size);
        at += parts[i].size;
      }
      const got = createHash('sha256').update(body).digest('hex');
      if (got !== o.sha256) {
        o.onRefused?.(
          `${o.file}: sha256 ${got} is not the verified ${o.sha256}; changed since it was verified`,
        );
        return sendError(res, 500, 'file changed since it was verified');
      }
    }
    const headers: Record<string, string | number> = {
      'Content-Type': o.contentType,
      'Accept-Ranges': 'bytes',
      'Last-Modified': mtime.toUTCString(),
      ...(o.etag ? { ETag: o.etag } : {}),
      ...(o.headers ?? {}),
    };
    if (notModified(req, o.etag, mtime)) {
      res.writeHead(304, headers);
      res.end();
      return 304;
    }
    let range = parseRange(req.headers.range, o.size);
    const ifRange = req.headers['if-range'];
    if (range && ifRange && ifRange !== o.etag && ifRange !== headers['Last-Modified']) range = undefined;
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${o.size}`, 'Content-Length': 0 });
      res.end();
      return 416;
    }
    const start = range ? range.start : 0;
    const end = range ? range.end : o.size - 1;
    const length = o.size === 0 ? 0 : end - start + 1;
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${o.size}`;
    headers['Content-Length'] = length;
    const status = range ? 206 : 200;
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return status;
    }
    if (body) {
      const sent = await sendBuffer(res, body.subarray(start, start + length));
      o.onBytes?.(sent);
      return status;
    }
    const spans: Span[] = [];
    let offset = 0;
    for (let i = 0; i < parts.length; i++) {
      const pStart = offset;
      const pEnd = offset + parts[i].size - 1;
      offset += parts[i].size;
      if (pEnd < start || pStart > end || parts[i].size === 0) continue;
      const from = Math.max(start, pStart);
      spans.push({ fd: fds[i], start: from - pStart, length: Math.min(end, pEnd) - from + 1 });
    }
    const sent = await send(res, spans);
    o.onBytes?.(sent);
    return status;
  } finally {
    for (const fd of fds) fs.close(fd, () => undefined);
    if (budget) releaseBudget(budget);
  }
}

/** Send an in-memory body and end the response; resolves with the body bytes that left. */
async function sendBuffer(res: ServerResponse, body: Buffer): Promise<number> {
  if (res.destroyed) return 0;
  res.end(body);
  if (!res.writableFinished && !res.destroyed)
    await new Promise<void>((resolve) => {
      res.once('finish', resolve);
      res.once('close', resolve);
    });
  return res.writableFinished ? body.length : Math.max(0, body.length - res.writableLength);
}

export function sendError(res: ServerResponse, status: number, message: string): number {
  if (res.headersSent) {
    res.destroy();
    return status;
  }
  const body = Buffer.from(message + '\n');
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length });
  res.end(body);
  return status;
}
