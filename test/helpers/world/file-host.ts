import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { closeServer } from '../close-server.js';

/**
 * A loopback HTTP(S) file host with fault injection and request counting. Each path serves a
 * body; faults apply to the first `times` requests of that path (default: every request), in
 * the order given, so "cut once, then serve" is `[{ kind: 'cut', afterBytes: 1000, times: 1 }]`.
 */

export type Fault =
  /** Send headers and `afterBytes` bytes of the body, then destroy the connection. */
  | { kind: 'cut'; afterBytes: number; times?: number }
  /** Answer with an error status (500, 503, 404…). */
  | { kind: 'status'; status: number; times?: number }
  /** 429 Too Many Requests with Retry-After (seconds). */
  | { kind: 'throttle'; retryAfter: number; times?: number }
  /** Send the body at roughly this rate (bytes per second). */
  | { kind: 'slow'; bytesPerSecond: number; times?: number }
  /** Send nothing after the headers for this long (an idle connection). */
  | { kind: 'stall'; ms: number; afterBytes?: number; times?: number }
  /** Ignore Range: always 200 with the whole body. */
  | { kind: 'noRange'; times?: number }
  /** Serve these bytes instead of the real body. */
  | { kind: 'wrongBody'; body: Buffer; times?: number }
  /** Redirect (302 by default) to another path on this host or an absolute URL. */
  | { kind: 'redirect'; to: string; status?: number; times?: number };

export interface HostedFile {
  body: Buffer;
  faults?: Fault[];
  etag?: string;
}

export interface RequestRecord {
  method: string;
  path: string;
  range?: string;
  ifRange?: string;
  authorization?: string;
  status: number;
  /** Date.now() when the request arrived. */
  at: number;
}

export class FileHost {
  readonly files = new Map<string, HostedFile & { served: number }>();
  readonly requests: RequestRecord[] = [];
  private server!: http.Server;
  origin = '';

  static async start(opts: { tls?: { cert: string; key: string } } = {}): Promise<FileHost> {
    const h = new FileHost();
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => h.handle(req, res);
    h.server = opts.tls
      ? https.createServer(
          { cert: fs.readFileSync(opts.tls.cert), key: fs.readFileSync(opts.tls.key) },
          handler,
        )
      : http.createServer(handler);
    await new Promise<void>((r) => h.server.listen(0, '127.0.0.1', r));
    h.origin = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${(h.server.address() as AddressInfo).port}`;
    return h;
  }

  /** Serve `body` at `urlPath`; returns its absolute URL and sha256 ('sha256:<hex>'). */
  add(
    urlPath: string,
    body: Buffer,
    faults: Fault[] = [],
  ): { url: string; checksum: string; sha256: string; size: number } {
    const sha = createHash('sha256').update(body).digest('hex');
    this.files.set(urlPath, {
      body,
      faults: faults.map((f) => ({ ...f })),
      etag: `"${sha.slice(0, 16)}"`,
      served: 0,
    });
    return { url: this.origin + urlPath, checksum: `sha256:${sha}`, sha256: sha, size: body.length };
  }

  url(urlPath: string): string {
    return this.origin + urlPath;
  }

  /** Requests for a path (or all). */
  count(urlPath?: string): number {
    return urlPath ? this.requests.filter((r) => r.path === urlPath).length : this.requests.length;
  }

  private nextFault(f: HostedFile & { served: number }): Fault | undefined {
    for (const fault of f.faults ?? []) {
      if (fault.times === undefined) return fault;
      if (fault.times > 0) {
        fault.times--;
        return fault;
      }
    }
    return undefined;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    const rec: RequestRecord = {
      method: req.method ?? 'GET',
      path: p,
      ...(req.headers.range ? { range: req.headers.range } : {}),
      ...(req.headers['if-range'] ? { ifRange: String(req.headers['if-range']) } : {}),
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      status: 0,
      at: Date.now(),
    };
    this.requests.push(rec);
    const f = this.files.get(p);
    if (!f) {
      rec.status = 404;
      res.writeHead(404).end('not found');
      return;
    }
    f.served++;
    const fault = this.nextFault(f);
    if (fault?.kind === 'status') {
      rec.status = fault.status;
      res.writeHead(fault.status).end('injected failure');
      return;
    }
    if (fault?.kind === 'throttle') {
      rec.status = 429;
      res.writeHead(429, { 'retry-after': String(fault.retryAfter) }).end('slow down');
      return;
    }
    if (fault?.kind === 'redirect') {
      rec.status = fault.status ?? 302;
      res.writeHead(rec.status, { location: fault.to }).end();
      return;
    }
    const body = fault?.kind === 'wrongBody' ? fault.body : f.body;
    let start = 0;
    let status = 200;
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      etag: f.etag ?? '',
      'accept-ranges': 'bytes',
    };
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const ifRangeOk = !req.headers['if-range'] || req.headers['if-range'] === f.etag;
    if (m && fault?.kind !== 'noRange' && ifRangeOk) {
      start = Number(m[1]);
      if (start >= body.length) {
        rec.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    }
    if (fault?.kind === 'noRange') delete headers['accept-ranges'];
    const part = body.subarray(start);
    headers['content-length'] = String(part.length);
    rec.status = status;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (fault?.kind === 'cut') {
      res.write(part.subarray(0, fault.afterBytes), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    if (fault?.kind === 'stall') {
      res.write(part.subarray(0, fault.afterBytes ?? 0));
      const t = setTimeout(() => res.end(part.subarray(fault.afterBytes ?? 0)), fault.ms);
      res.on('close', () => clearTimeout(t));
      return;
    }
    if (fault?.kind === 'slow') {
      const chunk = Math.max(1, Math.floor(fault.bytesPerSecond / 20));
      let off = 0;
      const tick = setInterval(() => {
        if (res.destroyed) return clearInterval(tick);
        res.write(part.subarray(off, off + chunk));
        off += chunk;
        if (off >= part.length) {
          clearInterval(tick);
          res.end();
        }
      }, 50);
      res.on('close', () => clearInterval(tick));
      return;
    }
    res.end(part);
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }
}
