import { request, type Dispatcher } from 'undici';
import { FerryError, throwIfAborted } from '../../base/errors/index.js';
import { HttpClient } from '../download/http-client.js';
import { redactUrl } from '../download/proxy.js';
import { CredentialStore, RegistryAuth } from './auth.js';

/**
 * The distribution API's push side, next to the pull client (registry-client.ts) and on the same
 * auth: one target registry, requests answered 401 get the challenge answered (Basic, or a Bearer
 * token for the scope the registry asks, e.g. pull,push) and are sent again with a fresh body.
 * It speaks the protocol only (HEAD, mount, monolithic or chunked upload, manifests); what to
 * push, in which order and how to count it is `core/serve/push`'s business.
 */

export interface PushClientOptions {
  /** host[:port] of the target registry. */
  host: string;
  scheme: 'https' | 'http';
  credentials?: CredentialStore | undefined;
  /** Extra CA (PEM) for the target registry. */
  ca?: string;
  /** HTTPS without verification (plain HTTP is `scheme: 'http'`). */
  insecure?: boolean;
  signal?: AbortSignal | undefined;
}

/** A request body, built again for each round of the auth dance (a stream is read once). */
export type PushBody = () => NodeJS.ReadableStream | Buffer | undefined;

export type UploadStart = { mounted: true } | { mounted: false; location: URL };

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export class PushClient {
  readonly http: HttpClient;
  readonly origin: string;
  private readonly auths = new Map<string, RegistryAuth>();

  constructor(private readonly o: PushClientOptions) {
    this.origin = `${o.scheme}://${o.host}`;
    this.http = new HttpClient({
      tls: { [o.host]: { ...(o.ca ? { ca: o.ca } : {}), ...(o.insecure ? { insecure: true } : {}) } },
      connectionsPerOrigin: 8,
    });
  }

  private auth(repo: string): RegistryAuth {
    let a = this.auths.get(repo);
    if (!a) {
      a = new RegistryAuth(
        this.http,
        this.origin,
        this.o.credentials?.get(this.o.host, repo),
        `${this.o.host}/${repo}`,
      );
      this.auths.set(repo, a);
    }
    return a;
  }

  /** One request with the auth dance; a status outside `expect` is a FerryError naming it. */
  async send(
    repo: string,
    method: Dispatcher.HttpMethod,
    url: URL,
    opts: { headers?: Record<string, string>; body?: PushBody; expect: number[] },
  ): Promise<Dispatcher.ResponseData> {
    const auth = this.auth(repo);
    for (let round = 0; ; round++) {
      throwIfAborted(this.o.signal);
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, {
          method,
          headers: { 'user-agent': 'ferry/0.1', ...(opts.headers ?? {}), ...(auth.headersFor(url) ?? {}) },
          body: opts.body?.() as never,
          dispatcher: this.http.dispatcherFor(url),
          // undici's "no signal" is null (its option takes no explicit undefined).
          signal: this.o.signal ?? null,
        });
      } catch (err) {
        if (this.o.signal?.aborted) throw new FerryError('CANCELLED', 'Cancelled.');
        const e = err as NodeJS.ErrnoException;
        const tls = /certificate|self.signed|CERT|SSL/i.test(`${e.code} ${e.message}`);
        throw new FerryError('NETWORK', `${method} ${redactUrl(url.href)} failed: ${e.message}`, {
          artifact: this.o.host,
          cause: err,
          hint: tls
            ? 'Pass the registry’s CA certificate with --ca FILE (or --insecure for a test registry).'
            : 'Check that the registry is reachable from this machine.',
        });
      }
      if (res.statusCode === 401 && round < 2) {
        await res.body.dump().catch(() => undefined);
        await auth.onUnauthorized({ headers: res.headers, url }, this.o.signal);
        continue;
      }
      if (!opts.expect.includes(res.statusCode)) {
        const text = (await res.body.text().catch(() => '')).slice(0, 500);
        const code = res.statusCode === 401 || res.statusCode === 403 ? 'AUTH' : 'HTTP';
        throw new FerryError(
          code,
          `${method} ${redactUrl(url.href)} answered ${res.statusCode}${text ? `: ${text.replace(/\s+/g, ' ')}` : ''}`,
          {
            artifact: `${this.o.host}/${repo}`,
            hint:
              code === 'AUTH'
                ? 'Check the credentials for this registry (--username/--password-env or an auth.json) and that the user may push to this project.'
                : undefined,
          },
        );
      }
      return res;
    }
  }

  url(path: string): URL {
    return new URL(path, this.origin);
  }

  /** Send and drop the body, for requests whose answer is the status and headers. */
  private async exchange(
    repo: string,
    method: Dispatcher.HttpMethod,
    url: URL,
    opts: { headers?: Record<string, string>; body?: PushBody; expect: number[] },
  ): Promise<Dispatcher.ResponseData> {
    const res = await this.send(repo, method, url, opts);
    await res.body.dump().catch(() => undefined);
    return res;
  }

  /** `GET /v2/`: fails fast on an unreachable registry or bad credentials. */
  async ping(): Promise<void> {
    await this.exchange('', 'GET', this.url('/v2/'), { expect: [200] });
  }

  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const r = await this.exchange(repo, 'HEAD', this.url(`/v2/${repo}/blobs/${digest}`), {
      expect: [200, 404],
    });
    return r.statusCode === 200;
  }

  /** The digest a tag names on the registry now (HEAD), undefined when it names nothing. */
  async manifestDigest(repo: string, reference: string, accept: string): Promise<string | undefined> {
    const r = await this.exchange(repo, 'HEAD', this.url(`/v2/${repo}/manifests/${reference}`), {
      headers: { accept },
      expect: [200, 404],
    });
    return r.statusCode === 200 ? header(r.headers['docker-content-digest']) : undefined;
  }

  /**
   * POST an upload; with `mountFrom` it asks for a cross-repository mount first, and a registry
   * that mounts answers 201 (done) where one that does not opens an upload (202 and a Location).
   */
  async startUpload(repo: string, digest: string, mountFrom?: string): Promise<UploadStart> {
    const url = this.url(`/v2/${repo}/blobs/uploads/`);
    if (mountFrom && mountFrom !== repo) {
      url.searchParams.set('mount', digest);
      url.searchParams.set('from', mountFrom);
    }
    const start = await this.exchange(repo, 'POST', url, {
      headers: { 'content-length': '0' },
      expect: [201, 202],
    });
    if (start.statusCode === 201) return { mounted: true };
    const loc = header(start.headers.location);
    if (!loc)
      throw new FerryError('HTTP', `${this.o.host} started an upload for ${repo} without a Location.`, {
        artifact: `${this.o.host}/${repo}`,
      });
    return { mounted: false, location: new URL(loc, this.origin) };
  }

  /** Monolithic upload: the whole blob in the one PUT that closes the upload. */
  async putBlob(repo: string, location: URL, digest: string, size: number, body: PushBody): Promise<void> {
    const put = new URL(location);
    put.searchParams.set('digest', digest);
    await this.exchange(repo, 'PUT', put, {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body,
      expect: [201],
    });
  }

  /**
   * Chunked upload: PATCH each `chunk` bytes (the registry may move the upload's Location after
   * each), then an empty PUT with the digest. `bodyOf(start, end)` reads bytes start..end inclusive.
   */
  async putBlobChunked(
    repo: string,
    location: URL,
    digest: string,
    size: number,
    chunk: number,
    bodyOf: (start: number, end: number) => NodeJS.ReadableStream,
  ): Promise<void> {
    let cur = location;
    for (let off = 0; off < size; off += chunk) {
      const end = Math.min(off + chunk, size) - 1;
      const r = await this.exchange(repo, 'PATCH', cur, {
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(end - off + 1),
          'content-range': `${off}-${end}`,
        },
        body: () => bodyOf(off, end),
        expect: [202],
      });
      const loc = header(r.headers.location);
      if (loc) cur = new URL(loc, this.origin);
    }
    const put = new URL(cur);
    put.searchParams.set('digest', digest);
    await this.exchange(repo, 'PUT', put, { headers: { 'content-length': '0' }, expect: [201] });
  }

  /** PUT a manifest's exact bytes; returns the digest the registry says it stored, if it says. */
  async putManifest(
    repo: string,
    reference: string,
    mediaType: string,
    bytes: Buffer,
  ): Promise<string | undefined> {
    const r = await this.exchange(repo, 'PUT', this.url(`/v2/${repo}/manifests/${reference}`), {
      headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
      body: () => bytes,
      expect: [201],
    });
    return header(r.headers['docker-content-digest']);
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
