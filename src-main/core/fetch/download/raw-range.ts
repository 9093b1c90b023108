import fs from 'node:fs';
import net from 'node:net';

/**
 * Range pieces over plain HTTP/1.1 sockets that read into one reused buffer per connection
 * (net's `onread`) and write each read straight into the partial file at its offset. Measured on
 * the bench's capped loopback link (256 MiB as 16 ranges): undici spends ~0.2 s of user CPU and
 * ~0.3 s of system CPU per 256 MiB receiving (a fresh 64 KiB Buffer per socket read, its stream
 * machinery, and the full GCs that external memory growth triggers), this path ~0.01 s user and
 * ~0.18 s system, which is what aria2 spends. With 48 connections on 2 cores that CPU is the
 * difference between keeping the link full or not.
 *
 * Deliberately narrow: http:// only, no proxy (the caller checks), and only a 206 answer with a
 * Content-Length and no Transfer-Encoding is read here. Anything else (a redirect, a 401, a 200,
 * chunked bodies, a socket that fails before the body) is handed back as `fallback`, and the
 * caller asks again through the ordinary client (undici), which owns redirects, auth, retries
 * and every error message. Writes are synchronous (a memcpy into the page cache, as aria2 does);
 * the caller's periodic fdatasync keeps the dirty pages bounded.
 */

const READ_BUFFER = 256 << 10;
const MAX_HEAD = 64 << 10;
const IDLE_KEEP_MS = 4_000;

type OnRead = (n: number, buf: Buffer) => void;

interface Conn {
  socket: net.Socket;
  /** The current request's reader; onread dispatches to it. */
  handler: OnRead | undefined;
  idleTimer?: NodeJS.Timeout;
}

export interface RawRangeAnswer {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
}

export type RawRangeResult =
  | { kind: 'body'; answer: RawRangeAnswer; moved: number }
  /** Not for this path (status, framing, or no connection): ask through the ordinary client. */
  | { kind: 'fallback'; answer?: RawRangeAnswer; reason: string };

export interface RawRangeRequest {
  url: URL;
  headers: Record<string, string>;
  fd: number;
  /** File offset of the first body byte. */
  at: number;
  /** Bytes the piece expects; a body that is not this long falls back before a byte is written. */
  length: number;
  /** Accepts the answer's headers (Content-Range, ETag) before the body is read; false: fallback. */
  accept: (a: RawRangeAnswer) => boolean;
  onBytes?: (n: number) => void;
  signal: AbortSignal;
  idleTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/** A body failure after bytes were written: `moved` of them are in the file. */
export class RawBodyError extends Error {
  readonly code = 'UND_ERR_SOCKET';
  constructor(
    message: string,
    readonly moved: number,
  ) {
    super(message);
  }
}

export class RawRangeAgent {
  private readonly idle = new Map<string, Conn[]>();

  private take(key: string): Conn | undefined {
    const list = this.idle.get(key);
    const c = list?.pop();
    if (c?.idleTimer) clearTimeout(c.idleTimer);
    return c;
  }

  private give(key: string, c: Conn): void {
    c.handler = undefined;
    const list = this.idle.get(key) ?? [];
    list.push(c);
    this.idle.set(key, list);
    c.idleTimer = setTimeout(() => c.socket.destroy(), IDLE_KEEP_MS);
    c.idleTimer.unref();
  }

  private connect(url: URL, key: string, timeoutMs: number): Conn {
    const buffer = Buffer.allocUnsafe(READ_BUFFER);
    const conn: Conn = { socket: undefined as unknown as net.Socket, handler: undefined };
    conn.socket = net.connect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 80),
      timeout: timeoutMs,
      onread: {
        buffer,
        callback: (n: number, buf: Uint8Array) => {
          conn.handler?.(n, buf as Buffer);
          return true;
        },
      },
    });
    conn.socket.setNoDelay(true);
    // An idle pooled socket that closes leaves the pool; errors are reported to the request.
    const drop = () => {
      const list = this.idle.get(key);
      if (list)
        this.idle.set(
          key,
          list.filter((x) => x !== conn),
        );
    };
    conn.socket.on('close', drop);
    conn.socket.on('error', () => undefined);
    return conn;
  }

  close(): void {
    for (const list of this.idle.values()) for (const c of list) c.socket.destroy();
    this.idle.clear();
  }

  get(r: RawRangeRequest): Promise<RawRangeResult> {
    const key = `${r.url.hostname}:${r.url.port || 80}`;
    const reused = this.take(key);
    const conn = reused ?? this.connect(r.url, key, r.connectTimeoutMs ?? 30_000);
    const s = conn.socket;
    return new Promise<RawRangeResult>((resolve, reject) => {
      let head: Buffer[] = [];
      let headLen = 0;
      let answer: RawRangeAnswer | undefined;
      let left = 0;
      let moved = 0;
      let keepAlive = true;
      let done = false;
      const finish = (fn: () => void, reuse: boolean) => {
        if (done) return;
        done = true;
        r.signal.removeEventListener('abort', onAbort);
        s.off('error', onError);
        s.off('close', onClose);
        s.off('timeout', onTimeout);
        s.setTimeout(0);
        if (reuse && keepAlive && !s.destroyed) this.give(key, conn);
        else {
          conn.handler = undefined;
          s.destroy();
        }
        fn();
      };
      const failed = (why: string) => {
        // Before the body: the ordinary client asks again. During it: the bytes written count.
        if (answer && moved > 0) finish(() => reject(new RawBodyError(why, moved)), false);
        else finish(() => resolve({ kind: 'fallback', reason: why, ...(answer ? { answer } : {}) }), false);
      };
      const onError = (e: Error) => failed(e.message);
      const onClose = () => failed('connection closed');
      const onTimeout = () => failed('no data within the idle timeout');
      const onAbort = () =>
        finish(() => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })), false);
      if (r.signal.aborted) return onAbort();
      r.signal.addEventListener('abort', onAbort, { once: true });
      s.on('error', onError);
      s.on('close', onClose);
      s.on('timeout', onTimeout);
      s.setTimeout(r.idleTimeoutMs ?? 60_000);

      const body = (buf: Buffer, off: number, n: number) => {
        const len = Math.min(n, left);
        if (len > 0) {
          try {
            fs.writeSync(r.fd, buf, off, len, r.at + moved);
          } catch (e) {
            // A disk error is not a network error: the caller reports it as it is.
            return finish(() => reject(Object.assign(e as Error, { moved })), false);
          }
          moved += len;
          left -= len;
          r.onBytes?.(len);
        }
        // Bytes past the body on a connection we own: the server is odd; do not reuse it.
        if (n > len) keepAlive = false;
        if (left === 0) finish(() => resolve({ kind: 'body', answer: answer!, moved }), true);
      };

      conn.handler = (n, buf) => {
        if (done) return;
        if (answer) return body(buf, 0, n);
        head.push(Buffer.from(buf.subarray(0, n)));
        headLen += n;
        const all = head.length === 1 ? head[0] : Buffer.concat(head, headLen);
        head = [all];
        const end = all.indexOf('\r\n\r\n');
        if (end < 0) {
          if (headLen > MAX_HEAD) failed('response head too long');
          return;
        }
        const parsed = parseHead(all.toString('latin1', 0, end));
        if (!parsed) return failed('malformed response');
        const a: RawRangeAnswer = { status: parsed.status, headers: parsed.headers };
        answer = a;
        const h = parsed.headers;
        // HTTP/1.0 closes unless it says keep-alive; 1.1 keeps unless it says close.
        keepAlive = parsed.http10
          ? /\bkeep-alive\b/i.test(h.connection ?? '')
          : !/\bclose\b/i.test(h.connection ?? '');
        const len = h['content-length'];
        if (
          parsed.status !== 206 ||
          h['transfer-encoding'] !== undefined ||
          len === undefined ||
          !/^\d+$/.test(len) ||
          Number(len) !== r.length ||
          !r.accept(a)
        ) {
          return finish(() => resolve({ kind: 'fallback', answer: a, reason: 'not a plain 206' }), false);
        }
        left = r.length;
        const rest = all.length - (end + 4);
        if (rest > 0) body(all, end + 4, rest);
        head = [];
      };

      const lines = [`GET ${r.url.pathname}${r.url.search} HTTP/1.1`, `host: ${r.url.host}`];
      for (const [k, v] of Object.entries(r.headers)) lines.push(`${k}: ${v}`);
      s.write(lines.join('\r\n') + '\r\n\r\n', 'latin1');
    });
  }
}

function parseHead(text: string): (RawRangeAnswer & { http10: boolean }) | undefined {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})\b/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i <= 0) return undefined;
    const k = l.slice(0, i).trim().toLowerCase();
    const v = l.slice(i + 1).trim();
    headers[k] = headers[k] !== undefined ? `${headers[k]}, ${v}` : v;
  }
  return { status: Number(m[1]), headers, http10: lines[0].startsWith('HTTP/1.0') };
}
