import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer } from './close-server.js';

/**
 * A loopback file server that speaks HTTP Range (`bytes=a-b` and `bytes=a-`, If-Range with the
 * ETag or the Last-Modified date) and can misbehave the ways real servers and proxies do, for
 * the segmented download tests. It records every request and the most responses it had open at
 * once (what a connection limit must bound).
 */

export type RangeOddity =
  /** No Accept-Ranges, Range ignored: always 200 with the whole body. */
  | 'ignoreRange'
  /** 206 for ranges not starting at 0, but with the Content-Range (and bytes) of another range. */
  | 'wrongContentRange'
  /** 206 with `bytes a-b/*`: no total. */
  | 'noTotal'
  /** Each range response that does not start at 0 is cut after half its bytes, the first time. */
  | 'shortOnce';

export interface RangeRequest {
  /** The request's Range and If-Range headers, undefined when it sent none. */
  range: string | undefined;
  ifRange: string | undefined;
  status: number;
}

export class RangeHost {
  body: Buffer;
  etag: string;
  lastModified = new Date(Date.UTC(2026, 0, 1)).toUTCString();
  readonly requests: RangeRequest[] = [];
  /** Set per test; undefined: a well-behaved server. */
  oddity?: RangeOddity | undefined;
  /** Bytes per second for each response (0: as fast as loopback goes). */
  rate = 0;
  /** After this many range requests, the file changes (new bytes, new ETag and date). */
  changeAfter: number | undefined;
  /** Send no ETag, so If-Range carries the Last-Modified date. */
  noEtag = false;
  open = 0;
  maxOpen = 0;
  private cut = new Set<string>();
  private server!: http.Server;
  origin = '';

  constructor(body: Buffer) {
    this.body = body;
    this.etag = RangeHost.etagOf(body);
  }

  static etagOf(b: Buffer): string {
    return `"${createHash('sha256').update(b).digest('hex').slice(0, 16)}"`;
  }

  static async start(body: Buffer): Promise<RangeHost> {
    const h = new RangeHost(body);
    h.server = http.createServer((req, res) => h.handle(req, res));
    await new Promise<void>((r) => h.server.listen(0, '127.0.0.1', r));
    h.origin = `http://127.0.0.1:${(h.server.address() as AddressInfo).port}`;
    return h;
  }

  get url(): string {
    return `${this.origin}/file.bin`;
  }

  sha256(): string {
    return createHash('sha256').update(this.body).digest('hex');
  }

  /** The file changes upstream. */
  change(): void {
    const b = Buffer.from(this.body);
    b[0] ^= 0xff;
    b[b.length - 1] ^= 0xff;
    this.body = b;
    this.etag = RangeHost.etagOf(b);
    this.lastModified = new Date(Date.parse(this.lastModified) + 60_000).toUTCString();
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const rangeHeader = req.headers.range;
    const ifRange = req.headers['if-range'] as string | undefined;
    if (rangeHeader && this.changeAfter !== undefined) {
      if (this.changeAfter === 0) this.change();
      this.changeAfter--;
      if (this.changeAfter < 0) this.changeAfter = undefined;
    }
    const body = this.body;
    const total = body.length;
    const headers: Record<string, string> = { 'last-modified': this.lastModified };
    if (!this.noEtag) headers.etag = this.etag;
    if (this.oddity !== 'ignoreRange') headers['accept-ranges'] = 'bytes';
    const validatorOk = !ifRange || ifRange === this.etag || ifRange === this.lastModified;
    const m = /^bytes=(\d+)-(\d*)$/.exec(rangeHeader ?? '');
    let status = 200;
    let start = 0;
    let end = total;
    if (m && this.oddity !== 'ignoreRange' && validatorOk) {
      start = Number(m[1]);
      end = m[2] ? Math.min(total, Number(m[2]) + 1) : total;
      if (start >= total) {
        this.requests.push({ range: rangeHeader, ifRange, status: 416 });
        res.writeHead(416, { 'content-range': `bytes */${total}` }).end();
        return;
      }
      status = 206;
      let shownStart = start;
      if (this.oddity === 'wrongContentRange' && start > 0) {
        // A proxy that mixes up ranges: it says (and sends) the range one byte early.
        shownStart = start - 1;
        start -= 1;
        end -= 1;
      }
      headers['content-range'] =
        this.oddity === 'noTotal'
          ? `bytes ${shownStart}-${end - 1}/*`
          : `bytes ${shownStart}-${end - 1}/${total}`;
    }
    this.requests.push({ range: rangeHeader, ifRange, status });
    headers['content-length'] = String(end - start);
    res.writeHead(status, headers);
    const key = String(end); // once per piece, whatever part of it is asked for
    const cutShort = this.oddity === 'shortOnce' && status === 206 && start > 0 && !this.cut.has(key);
    if (cutShort) this.cut.add(key);
    const stop = cutShort ? start + Math.floor((end - start) / 2) : end;
    this.open++;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    let counted = true;
    const done = () => {
      if (counted) this.open--;
      counted = false;
    };
    // Counted down when the last byte is handed over, before the client can have it: in one
    // process, 'finish' may come after the client already sent its next request.
    res.once('close', done);
    const chunk = 64 << 10;
    let at = start;
    const pump = () => {
      while (at < stop) {
        const n = Math.min(chunk, stop - at);
        const ok = res.write(body.subarray(at, at + n));
        at += n;
        if (at === stop) done();
        if (this.rate > 0) {
          setTimeout(pump, (n / this.rate) * 1000);
          return;
        }
        if (!ok) {
          res.once('drain', pump);
          return;
        }
      }
      if (cutShort) res.destroy();
      else res.end();
    };
    pump();
  }
}
