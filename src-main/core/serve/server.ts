import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FerryError } from '../base/errors/index.js';
import type { BundleSource } from '../bundle/source.js';
import { FileServerHandler, type ExtraDocument } from './fileserver/handler.js';
import { loadRegistryContent, type RegistryContent } from './registry/content.js';
import { RegistryHandler } from './registry/handler.js';
import type { TlsMaterial } from './tls/ca.js';
import { PythonIndex } from '../kinds/index.js';

/**
 * The offline services as one start/stop object: a file server (Kubespray's files_repo) and a
 * read-only OCI registry, both reading the verified bundle content in place. The CLI prints its
 * status and request log; the app polls status() through IPC for its counters.
 */

export const DEFAULT_FILES_PORT = 8080;
export const DEFAULT_REGISTRY_PORT = 5000;
const RECENT_CLIENTS = 50;
/** Requests one connection may have waiting for their turn; the rest are answered 503 + close. */
export const MAX_PIPELINED = 32;
/** URLs longer than this are answered 414 (Node's header limit, 16 KiB, catches the rest as 431). */
const MAX_URL = 8192;

export interface ServeTimeouts {
  /** Whole request head must arrive within this (slowloris), else 408. */
  headersMs: number;
  /** Whole request (head and body) must arrive within this, else 408. */
  requestMs: number;
  /** A connection on which no byte moves either way for this long is closed (stalled reader). */
  stallMs: number;
}
export const DEFAULT_TIMEOUTS: ServeTimeouts = { headersMs: 20_000, requestMs: 30_000, stallMs: 120_000 };

export type ServiceName = 'files' | 'registry';

export interface RequestLog {
  time: string;
  service: ServiceName;
  client: string;
  method: string;
  path: string;
  status: number;
  bytes: number;
  ms: number;
  /** Set when content was refused because it changed or moved since it was verified: why. */
  refused?: string;
}

export interface ClientStatus {
  address: string;
  firstSeen: string;
  lastSeen: string;
  requests: number;
  bytes: number;
  lastPath: string;
}

export interface ServiceCounters {
  url: string;
  port: number;
  requests: number;
  bytes: number;
  errors: number;
  active: number;
}

export interface ServeStatus {
  running: boolean;
  startedAt: string;
  tls: boolean;
  files: ServiceCounters;
  registry: ServiceCounters;
  clients: ClientStatus[];
  images: number;
  fileCount: number;
  /** The Python index at <files>/simple/ (0 projects: the bundles carry no wheels, nothing served there). */
  python: { projects: number; wheels: number };
  collisions: RegistryContent['collisions'];
  skipped: RegistryContent['skipped'];
}

export interface ServeOptions {
  sources: BundleSource[];
  /** Address to bind; default all interfaces. */
  listen?: string | undefined;
  filesPort?: number;
  registryPort?: number;
  tls?: TlsMaterial | undefined;
  /** The name or address nodes use to reach this machine (first of --hostname). */
  advertise?: string | undefined;
  onRequest?: (log: RequestLog) => void;
  timeouts?: Partial<ServeTimeouts>;
}

/** An address nodes can reach: the bind address if specific, else the first external IPv4. */
export function defaultAdvertiseAddress(listen?: string): string {
  if (listen && listen !== '0.0.0.0' && listen !== '::') return listen;
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

function hostForUrl(h: string): string {
  return net.isIPv6(h) ? `[${h}]` : h;
}

async function listen(
  server: net.Server,
  port: number,
  host: string | undefined,
  what: string,
): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') {
        reject(
          new FerryError(
            'PORT_IN_USE',
            `Port ${port} (${what}) is already in use${host ? ` on ${host}` : ''}.`,
            {
              artifact: `port ${port}`,
              hint: `Stop the program using port ${port} (e.g. a registry or nginx container), or pick another port with --${what === 'registry' ? 'registry' : 'files'}-port.`,
              details: { port, service: what },
            },
          ),
        );
      } else if (err.code === 'EACCES') {
        reject(
          new FerryError('IO', `Not allowed to listen on port ${port} (${what}).`, {
            artifact: `port ${port}`,
            hint: 'Ports below 1024 need administrator rights; pick a higher port.',
          }),
        );
      } else if (err.code === 'EADDRNOTAVAIL') {
        reject(
          new FerryError(
            'USAGE',
            `The address ${host} is not on this machine, so Ferry cannot listen on it.`,
            { artifact: host, hint: "Pass one of this machine's addresses with --listen, or 0.0.0.0." },
          ),
        );
      } else reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, exclusive: true });
  });
  return (server.address() as net.AddressInfo).port;
}

export class OfflineServer {
  private readonly servers: net.Server[] = [];
  private readonly counters: Record<ServiceName, ServiceCounters>;
  private readonly clients = new Map<string, ClientStatus>();
  /** Per connection, the requests waiting for their response to own it (see turn()). */
  private readonly waiting = new WeakMap<net.Socket, Set<() => void>>();
  private readonly startedAt = new Date();
  private running = false;

  private constructor(
    private readonly opts: ServeOptions,
    readonly content: RegistryContent,
    private readonly files: FileServerHandler,
    private readonly registry: RegistryHandler,
    private readonly python: PythonIndex,
  ) {
    const blank = (): ServiceCounters => ({ url: '', port: 0, requests: 0, bytes: 0, errors: 0, active: 0 });
    this.counters = { files: blank(), registry: blank() };
  }

  static async start(opts: ServeOptions): Promise<OfflineServer> {
    if (opts.sources.length === 0)
      throw new FerryError('USAGE', 'Nothing to serve: no bundle given.', {
        hint: 'Pass --bundle DIR or --store DIR.',
      });
    const content = await loadRegistryContent(opts.sources);
    const extras: Record<string, ExtraDocument> = {};
    if (opts.tls?.ca)
      extras['ca.crt'] = { body: Buffer.from(opts.tls.ca), contentType: 'application/x-x509-ca-cert' };
    // The deploy host's PyPI, only when a bundle carries wheels (an empty /simple/ would be a lie).
    const python = new PythonIndex(opts.sources);
    const s = new OfflineServer(
      opts,
      content,
      new FileServerHandler(opts.sources, extras, python.wheels.length ? [python] : []),
      new RegistryHandler(content),
      python,
    );
    try {
      await s.listenAll();
    } catch (err) {
      await s.stop();
      throw err;
    }
    s.running = true;
    return s;
  }

  private makeServer(service: ServiceName): net.Server {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.dispatch(service, req, res);
    const tls = this.opts.tls;
    const t0 = { ...DEFAULT_TIMEOUTS, ...this.opts.timeouts };
    // How often Node checks headersTimeout/requestTimeout; a quarter of the limit keeps 408s timely.
    const checking = { connectionsCheckingInterval: Math.min(30_000, Math.max(100, t0.headersMs / 4)) };
    const server = tls
      ? https.createServer(
          {
            ...checking,
            cert: tls.cert + (tls.ca && !tls.cert.includes(tls.ca.trim()) ? tls.ca : ''),
            key: tls.key,
          },
          handler,
        )
      : http.createServer(checking, handler);
    const t = { ...DEFAULT_TIMEOUTS, ...this.opts.timeouts };
    server.keepAliveTimeout = Math.min(30_000, t.stallMs);
    server.headersTimeout = t.headersMs;
    // Covers receiving the request only, never sending the response: large downloads are not cut.
    server.requestTimeout = Math.max(t.requestMs, t.headersMs + 1);
    // No byte moving either way for stallMs: a client that reads nothing does not hold a socket,
    // a descriptor and a response buffer forever. A slow but moving download is never cut.
    server.setTimeout(t.stallMs, (socket) => socket.destroy());
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      this.counters[service].errors++;
      const status =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? '408 Request Timeout'
            : '400 Bad Request';
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      else socket.destroy();
    });
    if (tls) server.on('tlsClientError', () => this.counters[service].errors++);
    return server;
  }

  private async listenAll(): Promise<void> {
    const host = this.opts.listen && this.opts.listen !== '' ? this.opts.listen : undefined;
    const adv = hostForUrl(this.opts.advertise ?? defaultAdvertiseAddress(host));
    const scheme = this.opts.tls ? 'https' : 'http';
    for (const [service, port] of [
      ['files', this.opts.filesPort ?? DEFAULT_FILES_PORT],
      ['registry', this.opts.registryPort ?? DEFAULT_REGISTRY_PORT],
    ] as const) {
      const server = this.makeServer(service);
      this.servers.push(server);
      const actual = await listen(server, port, host, service);
      this.counters[service].port = actual;
      this.counters[service].url = `${scheme}://${adv}:${actual}`;
    }
  }

  /**
   * Node parses pipelined requests at once and queues their responses; a handler run for a queued
   * response would open its file and buffer its body until its turn (500 pipelined GETs: 500
   * descriptors, 500 MB). So a request waits, holding nothing, until its response owns the
   * socket, and only MAX_PIPELINED may wait per connection.
   */
  private async turn(req: IncomingMessage, res: ServerResponse): Promise<'go' | 'closed' | 'excess'> {
    if (res.socket) return 'go';
    const sock = req.socket;
    let waiting = this.waiting.get(sock);
    if (!waiting) {
      const set = new Set<() => void>();
      waiting = set;
      this.waiting.set(sock, set);
      // One close listener per connection, not one per queued response: with up to MAX_PIPELINED
      // waiting, per-response listeners pile up on the socket (MaxListenersExceededWarning).
      sock.once('close', () => {
        for (const wake of [...set]) wake();
        this.waiting.delete(sock);
      });
    }
    const excess = waiting.size >= MAX_PIPELINED;
    if (excess) sock.pause();
    if (sock.destroyed) return 'closed';
    const got = await new Promise<boolean>((resolve) => {
      const onClose = () => {
        waiting.delete(onClose);
        res.off('socket', onSocket);
        resolve(false);
      };
      const onSocket = () => {
        waiting.delete(onClose);
        resolve(true);
      };
      waiting.add(onClose);
      res.once('socket', onSocket);
    });
    return got ? (excess ? 'excess' : 'go') : 'closed';
  }

  private async dispatch(service: ServiceName, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t = await this.turn(req, res);
    if (t === 'closed') return;
    if (t === 'excess') {
      res.shouldKeepAlive = false;
      res.writeHead(503, { 'Retry-After': '1', Connection: 'close', 'Content-Length': 0 });
      res.end(() => res.socket?.destroy());
      this.counters[service].errors++;
      return;
    }
    if ((req.url ?? '').length > MAX_URL) {
      res.writeHead(414, { 'Content-Type': 'text/plain', 'Content-Length': 13, Connection: 'close' });
      res.end('uri too long\n');
      return;
    }
    const c = this.counters[service];
    const t0 = Date.now();
    let bytes = 0;
    c.requests++;
    c.active++;
    const client = (req.socket.remoteAddress ?? '?').replace(/^::ffff:/, '');
    let refused: string | undefined;
    const meter = { onBytes: (n: number) => (bytes += n), refused: (why: string) => (refused = why) };
    let status = 500;
    try {
      status =
        service === 'registry'
          ? await this.registry.handle(req, res, meter)
          : await this.files.handle(req, res, meter);
    } catch {
      // A handler bug must cost one request, never the server.
      status = 500;
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain', 'Content-Length': 22 });
        res.end('internal server error\n');
      } else res.destroy();
    } finally {
      c.active--;
      c.bytes += bytes;
      if (status >= 500) c.errors++;
      const now = new Date().toISOString();
      const path = (req.url ?? '').slice(0, 500);
      const cl = this.clients.get(client) ?? {
        address: client,
        firstSeen: now,
        lastSeen: now,
        requests: 0,
        bytes: 0,
        lastPath: '',
      };
      cl.lastSeen = now;
      cl.requests++;
      cl.bytes += bytes;
      cl.lastPath = `${service} ${path}`;
      this.clients.delete(client);
      this.clients.set(client, cl); // Map order = recency
      if (this.clients.size > RECENT_CLIENTS) this.clients.delete(this.clients.keys().next().value!);
      this.opts.onRequest?.({
        time: now,
        service,
        client,
        method: String(req.method).slice(0, 16),
        path,
        status,
        bytes,
        ms: Date.now() - t0,
        ...(refused ? { refused } : {}),
      });
    }
  }

  get filesUrl(): string {
    return this.counters.files.url;
  }
  /** PIP_INDEX_URL for the deploy host, when the bundles carry wheels. */
  get pythonIndexUrl(): string | undefined {
    return this.python.wheels.length ? `${this.counters.files.url}/simple/` : undefined;
  }
  get registryUrl(): string {
    return this.counters.registry.url;
  }
  /** host:port of the registry as nodes reach it (registry_host). */
  get registryHost(): string {
    return this.counters.registry.url.replace(/^https?:\/\//, '');
  }

  status(): ServeStatus {
    return {
      running: this.running,
      startedAt: this.startedAt.toISOString(),
      tls: !!this.opts.tls,
      files: { ...this.counters.files },
      registry: { ...this.counters.registry },
      clients: [...this.clients.values()].reverse(),
      images: this.content.images.length,
      fileCount: this.files.fileCount,
      python: { projects: this.python.projectCount, wheels: this.python.wheels.length },
      collisions: this.content.collisions,
      skipped: this.content.skipped,
    };
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (!s.listening) return resolve();
            s.close(() => resolve());
            (s as http.Server).closeAllConnections?.();
          }),
      ),
    );
  }
}
