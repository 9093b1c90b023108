import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import { FerryError, isAbort } from '../../base/errors/index.js';
import { childSignal } from './abort-fanout.js';
import { proxyFor, redactUrl, type ProxyConfig } from './proxy.js';
import type { SegmentSettings } from './segmented.js';
import {
  DEFAULT_RETRY,
  backoffMs,
  isNetworkError,
  isRetriableStatus,
  parseRetryAfter,
  sleep,
  type RetryPolicy,
} from './retry.js';

/**
 * The one HTTP stack of the connected side: undici agents with keep-alive (one per proxy/TLS
 * setting, created on demand), connect and idle timeouts, manual redirects (so credentials are
 * only ever sent to the origin they belong to), and retries for small requests.
 */

export interface TlsSettings {
  /** Extra CA certificates (PEM) to trust for this host. */
  ca?: string;
  /** Skip certificate verification: only for hosts the user named as insecure. */
  insecure?: boolean;
  /**
   * A client certificate and its key (PEM) for hosts that require mutual TLS: Red Hat's CDN
   * with an entitlement certificate, a Satellite (--client-cert / --client-key).
   */
  cert?: string;
  key?: string;
}

export interface HttpClientOptions {
  proxy?: ProxyConfig | undefined;
  connectTimeoutMs?: number;
  /** No bytes for this long on an open response → the attempt fails (and is retried). */
  idleTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** TLS settings per `host:port` (or bare host). */
  tls?: Record<string, TlsSettings>;
  connectionsPerOrigin?: number;
  userAgent?: string;
  /**
   * How long close() waits for open responses to finish before it tears the connections down
   * (default 5 s). A body nobody will read never finishes on its own, and a close that waits for
   * it would never settle.
   */
  closeTimeoutMs?: number;
  /** Segmented downloads for the large files and blobs fetched through this client. */
  segments?: SegmentSettings;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** The URL that answered (after redirects). */
  url: URL;
}

export type HeadersFor = (url: URL) => Record<string, string> | undefined;

const MAX_REDIRECTS = 10;
/** Tries for a name that does not resolve or a proxy that refuses: the second one is the retry. */
const UNREACHABLE_ATTEMPTS = 2;

export class HttpClient {
  readonly retry: RetryPolicy;
  private readonly dispatchers = new Map<string, Dispatcher>();
  /** Counted for tests and the bench: every request that left this process. */
  requests = 0;
  /**
   * Hosts that did not resolve and proxies that refused us, for the life of this client (one
   * fetch): later requests to them fail at once with the same error instead of each artifact
   * spending its own retries on a network that is not there.
   */
  private readonly unreachable = new Map<string, FerryError>();

  constructor(readonly opts: HttpClientOptions = {}) {
    this.retry = { ...DEFAULT_RETRY, ...(opts.retry ?? {}) };
  }

  private tlsFor(url: URL): TlsSettings | undefined {
    const t = this.opts.tls ?? {};
    return t[url.host] ?? t[url.hostname];
  }

  dispatcherFor(url: URL): Dispatcher {
    const proxy = proxyFor(url, this.opts.proxy ?? {});
    const tls = url.protocol === 'https:' ? this.tlsFor(url) : undefined;
    const key = `${proxy ?? 'direct'}|${tls?.insecure ? 'insecure' : ''}|${tls?.ca ?? ''}|${tls?.cert ?? ''}`;
    let d = this.dispatchers.get(key);
    if (d) return d;
    const connect = {
      timeout: this.opts.connectTimeoutMs ?? 30_000,
      ...(tls?.ca ? { ca: tls.ca } : {}),
      ...(tls?.insecure ? { rejectUnauthorized: false } : {}),
      ...(tls?.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}),
    };
    const common = {
      keepAliveTimeout: 30_000,
      headersTimeout: this.opts.idleTimeoutMs ?? 60_000,
      bodyTimeout: this.opts.idleTimeoutMs ?? 60_000,
      connections: this.opts.connectionsPerOrigin ?? 16,
    };
    d = proxy
      ? new ProxyAgent({
          uri: proxy,
          requestTls: connect,
          ...common,
          connect: { timeout: connect.timeout },
        } as ProxyAgent.Options)
      : new Agent({ ...common, connect });
    this.dispatchers.set(key, d);
    return d;
  }

  /**
   * One GET (or HEAD) that follows redirects. `headersFor` is asked afresh for every hop, so a
   * registry token goes to the registry and never to the storage host it redirects to.
   */
  async send(
    url: string | URL,
    opts: {
      method?: 'GET' | 'HEAD';
      headersFor?: HeadersFor | undefined;
      headers?: Record<string, string>;
      signal?: AbortSignal | undefined;
    } = {},
  ): Promise<HttpResponse> {
    let cur = typeof url === 'string' ? new URL(url) : url;
    for (let hop = 0; ; hop++) {
      if (opts.signal?.aborted) throw new FerryError('CANCELLED', 'Cancelled.');
      const headers: Record<string, string> = {
        'user-agent': this.opts.userAgent ?? 'ferry/0.1',
        ...(opts.headers ?? {}),
        ...(opts.headersFor?.(cur) ?? {}),
      };
      const proxy = proxyFor(cur, this.opts.proxy ?? {});
      const res = await this.request(cur, proxy, opts.method ?? 'GET', headers, opts.signal);
      const loc = res.headers.location;
      if ([301, 302, 303, 307, 308].includes(res.statusCode) && loc) {
        await res.body.dump().catch(() => undefined);
        if (hop >= MAX_REDIRECTS) {
          throw new FerryError(
            'HTTP',
            `${redactUrl(cur.href)} redirected more than ${MAX_REDIRECTS} times.`,
            {
              artifact: redactUrl(cur.href),
              hint: 'The server or a mirror is misconfigured (a redirect loop). Check the URL in a browser.',
            },
          );
        }
        cur = new URL(Array.isArray(loc) ? loc[0] : loc, cur);
        continue;
      }
      return { status: res.statusCode, headers: res.headers, body: res.body, url: cur };
    }
  }

  /**
   * One request. A name that does not resolve (ENOTFOUND, EAI_AGAIN) or a proxy that cannot be
   * reached gets one more try after a short pause — a resolver or proxy restarting — and is then
   * remembered as unreachable for this client, so the error says it once and is final.
   */
  private async request(
    url: URL,
    proxy: string | undefined,
    method: 'GET' | 'HEAD',
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<Dispatcher.ResponseData> {
    const key = proxy ? `proxy ${proxy}` : `host ${url.hostname}`;
    for (let attempt = 1; ; attempt++) {
      const known = this.unreachable.get(key);
      if (known) throw known;
      this.requests++;
      // A signal of its own per request: undici's listener goes there, not on the job's signal.
      const link = childSignal(signal);
      try {
        const res = await request(url, {
          method,
          headers,
          dispatcher: this.dispatcherFor(url),
          // undici's "no signal" is null (its option takes no explicit undefined).
          signal: link.signal ?? null,
        });
        if (res.body.closed) link.release();
        else res.body.once('close', link.release);
        return res;
      } catch (err) {
        link.release();
        if (signal?.aborted) throw new FerryError('CANCELLED', 'Cancelled.');
        const dead = unreachableError(err, url, proxy);
        if (!dead) throw wrapNetworkError(proxyFailure(err, url) ?? err, url);
        if (attempt >= UNREACHABLE_ATTEMPTS) {
          // Another request may have decided first: every artifact then carries the same error.
          const first = this.unreachable.get(key) ?? dead;
          this.unreachable.set(key, first);
          throw first;
        }
        await sleep(Math.min(this.retry.baseMs, 1000), signal);
      }
    }
  }

  /**
   * A small response read into memory (manifests, tokens), with retries. Bigger than
   * `maxBytes` is refused: these are documents, never artifacts.
   */
  async fetchBytes(
    url: string | URL,
    opts: {
      headersFor?: HeadersFor | undefined;
      headers?: Record<string, string>;
      signal?: AbortSignal | undefined;
      maxBytes?: number | undefined;
      method?: 'GET' | 'HEAD';
      /** Statuses handed back to the caller instead of thrown (e.g. 401 for the auth dance). */
      pass?: number[];
    } = {},
  ): Promise<{ status: number; headers: HttpResponse['headers']; body: Buffer; url: URL }> {
    const max = opts.maxBytes ?? 8 << 20;
    let failures = 0;
    for (;;) {
      let waitMs: number;
      try {
        const res = await this.send(url, opts);
        if (res.status >= 200 && res.status < 300) {
          const body = await readLimited(res, max);
          return { status: res.status, headers: res.headers, body, url: res.url };
        }
        if (opts.pass?.includes(res.status)) {
          const body = await readLimited(res, 64 << 10).catch(() => Buffer.alloc(0));
          return { status: res.status, headers: res.headers, body, url: res.url };
        }
        const text = await readLimited(res, 4096).catch(() => Buffer.alloc(0));
        const err = httpError(res.status, res.url, text.toString('utf8'));
        if (!isRetriableStatus(res.status) || ++failures >= this.retry.attempts) throw err;
        waitMs = retryAfterMs(this.retry, res.headers['retry-after']) ?? backoffMs(this.retry, failures);
      } catch (err) {
        if (isAbort(err) || opts.signal?.aborted) throw new FerryError('CANCELLED', 'Cancelled.');
        // HTTP errors arrive here already decided; only wire trouble is retried from here.
        if (!isNetworkError(err) || isUnreachable(err)) throw err;
        if (++failures >= this.retry.attempts)
          throw wrapNetworkError(err, typeof url === 'string' ? new URL(url) : url);
        waitMs = backoffMs(this.retry, failures);
      }
      await sleep(waitMs, opts.signal);
    }
  }

  async close(): Promise<void> {
    const ds = [...this.dispatchers.values()];
    this.dispatchers.clear();
    const bound = this.opts.closeTimeoutMs ?? 5000;
    await Promise.all(
      ds.map(async (d) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), bound)));
        const how = await Promise.race([
          d.close().then(
            () => 'closed' as const,
            () => 'closed' as const,
          ),
          late,
        ]);
        clearTimeout(timer);
        // Still waiting for a response body: end it rather than wait for ever.
        if (how === 'late') await d.destroy().catch(() => undefined);
      }),
    );
  }
}

export function retryAfterMs(policy: RetryPolicy, header: string | string[] | undefined): number | undefined {
  const ra = parseRetryAfter(header);
  return ra === undefined ? undefined : Math.min(ra, policy.maxRetryAfterMs);
}

async function readLimited(res: HttpResponse, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body) {
    n += c.length;
    if (n > max) {
      res.body.destroy();
      throw new FerryError(
        'HTTP',
        `${redactUrl(res.url.href)} sent more than ${max} bytes where a small document was expected.`,
        {
          artifact: redactUrl(res.url.href),
        },
      );
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

export function httpError(status: number, url: URL, body = ''): FerryError {
  const shown = redactUrl(url.href);
  const snippet = body.replace(/\s+/g, ' ').trim().slice(0, 200);
  const auth = status === 401 || status === 403;
  return new FerryError(
    auth ? 'AUTH' : status === 404 ? 'NOT_FOUND' : 'HTTP',
    `GET ${shown} answered ${status}${snippet ? `: ${snippet}` : ''}.`,
    {
      artifact: shown,
      details: { status, url: shown },
      hint: auth
        ? 'The server refused access. Add credentials for this host to the profile (registries, or an auth file), or check the proxy credentials.'
        : status === 404
          ? 'The URL does not exist upstream (or on the mirror). Check the version in the plan and any mirror settings.'
          : status === 429 || status >= 500
            ? 'The server is busy or failing. Run the same command again later: finished downloads are kept.'
            : 'Check the URL, mirror and proxy settings.',
    },
  );
}

/**
 * undici reports a proxy that refuses the tunnel as an abort; it is not a cancel but a proxy
 * problem, and 407 means its credentials are wrong.
 */
function proxyFailure(err: unknown, url: URL): FerryError | undefined {
  const m = /Proxy response \((\d+)\)/.exec((err as Error)?.message ?? '');
  if (!m) return undefined;
  const status = Number(m[1]);
  return new FerryError(
    status === 407 ? 'AUTH' : 'NETWORK',
    `The proxy refused to connect to ${url.host} (HTTP ${status}).`,
    {
      artifact: redactUrl(url.href),
      details: { proxyStatus: status },
      hint:
        status === 407
          ? 'The proxy wants other credentials: put user:password in the proxy URL (profile proxy, or HTTPS_PROXY/HTTP_PROXY).'
          : 'Check the proxy settings, or add this host to NO_PROXY if it must be reached directly.',
    },
  );
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN']);
/** Failures to reach the proxy itself: undici connects to the proxy, the proxy to the target. */
const PROXY_CONNECT_CODES = new Set([
  ...DNS_CODES,
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function errnoCode(err: unknown): string | undefined {
  const e = err as { code?: string; cause?: { code?: string } } | undefined;
  return e?.code && e.code.startsWith('UND_ERR') && e.cause?.code
    ? e.cause.code
    : (e?.code ?? e?.cause?.code);
}

/** Did this request fail before reaching anyone: the host's name, or the proxy we must go through? */
function unreachableError(err: unknown, url: URL, proxy: string | undefined): FerryError | undefined {
  const code = errnoCode(err);
  if (!code) return undefined;
  if (proxy) {
    if (!PROXY_CONNECT_CODES.has(code)) return undefined;
    const shown = redactUrl(proxy);
    return new FerryError(
      'NETWORK',
      `The proxy ${shown} cannot be reached (${code}): no download can go through it.`,
      {
        artifact: shown,
        cause: err,
        details: { unreachable: { kind: 'proxy', name: shown, code } },
        hint: `Start the proxy or correct its address (--proxy, the profile's proxy, or HTTPS_PROXY/HTTP_PROXY); hosts that must be reached directly go in NO_PROXY. Then run the same command again: it resumes.`,
      },
    );
  }
  if (!DNS_CODES.has(code)) return undefined;
  return new FerryError(
    'NETWORK',
    `${url.hostname} cannot be resolved (${code}): the upstream is unreachable from this machine.`,
    {
      artifact: url.hostname,
      cause: err,
      details: { unreachable: { kind: 'host', name: url.hostname, code } },
      hint: `There is no DNS or route to ${url.hostname} from here. Go through a proxy that can reach it (--proxy http://proxy:3128, or HTTPS_PROXY), or fetch from a mirror this network can reach (--mirror ${url.origin}/=https://mirror.example/...), then run the same command again: it resumes.`,
    },
  );
}

/** An error from a host or proxy this fetch already found unreachable: retrying cannot help. */
export function isUnreachable(err: unknown): boolean {
  return err instanceof FerryError && !!err.details?.unreachable;
}

export function wrapNetworkError(err: unknown, url: URL): unknown {
  if (isAbort(err)) return new FerryError('CANCELLED', 'Cancelled.');
  if (err instanceof FerryError) return err;
  if (!isNetworkError(err)) {
    const e = err as { code?: string; message?: string };
    // TLS failures are configuration problems, not transient ones.
    // The host asked for a client certificate (Red Hat's CDN, a Satellite) and got none.
    if (e?.code && /CERTIFICATE_REQUIRED/.test(e.code)) {
      return new FerryError(
        'NETWORK',
        `${url.host} requires a client certificate (mutual TLS) and none was given for it: ${e.message} (${e.code}).`,
        {
          artifact: redactUrl(url.href),
          cause: err,
          details: { tls: true, code: e.code },
          hint: `Give the certificate and key ${url.host} accepts with --client-cert FILE --client-key FILE (the profile's osPackages.clientCert/clientKey; in the app, the RPM repositories' client certificate), e.g. an entitlement from /etc/pki/entitlement, then run the same command again: it resumes.`,
        },
      );
    }
    if (e?.code && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/.test(e.code)) {
      return new FerryError('NETWORK', `TLS to ${url.host} failed: ${e.message} (${e.code}).`, {
        artifact: redactUrl(url.href),
        cause: err,
        details: { tls: true, code: e.code },
        hint: `If ${url.host} uses a private CA, give its CA file in the profile (registries.<host>.caFile); name it with --insecure-registry only if you trust the network.`,
      });
    }
    return err;
  }
  const e = err as { code?: string; message?: string };
  return new FerryError(
    'NETWORK',
    `Connection to ${url.host} failed: ${e.message ?? String(err)}${e.code ? ` (${e.code})` : ''}.`,
    {
      artifact: redactUrl(url.href),
      cause: err,
      hint: 'Check the network, the proxy settings (HTTPS_PROXY, profile proxy) and mirrors, then run the same command again: it resumes.',
    },
  );
}
