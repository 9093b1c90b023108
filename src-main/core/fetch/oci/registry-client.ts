import { createHash } from 'node:crypto';
import { FerryError } from '../../base/errors/index.js';
import { downloadToFile, type DownloadResult } from '../download/download-file.js';
import type { HttpClient } from '../download/http-client.js';
import { redactUrl } from '../download/proxy.js';
import { CredentialStore, RegistryAuth } from './auth.js';
import { MANIFEST_ACCEPT, parseManifestBytes, type ParsedManifest } from './media.js';
import { apiHost, formatImageRef, type ImageRef } from './reference.js';

/**
 * A registry client of our own on undici (the distribution API v2, pull side; push-client.ts
 * is the push side). Each image is tried at its registry mirror first when one is configured (a
 * pull-through cache on the company network), then at its own registry, as containerd does; the
 * bundle always records the original reference. Plain HTTP is used only for hosts the user named as insecure.
 */

export interface RegistryClientOptions {
  credentials?: CredentialStore;
  /** Registry host → mirror base URL (`https://mirror.corp` or `https://harbor.corp/dockerhub-proxy`). */
  registryMirrors?: Record<string, string> | undefined;
  /** Hosts that may use plain HTTP or an unverified certificate. */
  insecure?: string[] | undefined;
  log?: (level: 'info' | 'warn', message: string) => void;
}

export interface Endpoint {
  /** scheme://host[:port] */
  origin: string;
  /** Repository prefix on a mirror (Harbor proxy projects), '' otherwise. */
  prefix: string;
  /** The host whose credentials apply. */
  host: string;
  mirror: boolean;
}

export interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  mediaType: string;
  parsed: ParsedManifest;
  endpoint: Endpoint;
}

export class RegistryClient {
  private readonly schemes = new Map<string, Promise<'https' | 'http'>>();
  private readonly auths = new Map<string, RegistryAuth>();
  readonly credentials: CredentialStore;

  constructor(
    readonly http: HttpClient,
    private readonly opts: RegistryClientOptions = {},
  ) {
    this.credentials = opts.credentials ?? new CredentialStore();
  }

  private isInsecure(host: string): boolean {
    return (this.opts.insecure ?? []).includes(host) || !!this.credentials.settings(host)?.insecure;
  }

  /** Insecure hosts: HTTPS without verification if it answers, plain HTTP otherwise (Docker's rule). */
  private scheme(host: string, signal?: AbortSignal): Promise<'https' | 'http'> {
    if (!this.isInsecure(host)) return Promise.resolve('https');
    let p = this.schemes.get(host);
    if (!p) {
      p = (async () => {
        try {
          const res = await this.http.send(`https://${host}/v2/`, { signal });
          await res.body.dump().catch(() => undefined);
          return 'https' as const;
        } catch (err) {
          if (err instanceof FerryError && err.code === 'CANCELLED') throw err;
          return 'http' as const;
        }
      })();
      this.schemes.set(host, p);
      p.catch(() => this.schemes.delete(host));
    }
    return p;
  }

  async endpoints(ref: ImageRef, signal?: AbortSignal): Promise<Endpoint[]> {
    const out: Endpoint[] = [];
    const mirror = this.opts.registryMirrors?.[ref.registry];
    if (mirror) {
      let u: URL;
      try {
        u = new URL(/^[a-z]+:\/\//i.test(mirror) ? mirror : `https://${mirror}`);
      } catch {
        throw new FerryError(
          'CONFIG',
          `The registry mirror for ${ref.registry} ('${mirror}') is not a URL.`,
          {
            hint: 'Write it as https://mirror.example[:port][/project].',
          },
        );
      }
      const prefix = u.pathname.replace(/^\/+|\/+$/g, '').replace(/^v2\/?/, '');
      const origin =
        this.isInsecure(u.host) && u.protocol === 'https:'
          ? `${await this.scheme(u.host, signal)}://${u.host}`
          : u.origin;
      out.push({ origin, prefix, host: u.host, mirror: true });
    }
    const host = apiHost(ref.registry);
    out.push({
      origin: `${await this.scheme(host, signal)}://${host}`,
      prefix: '',
      host: ref.registry,
      mirror: false,
    });
    return out;
  }

  auth(ep: Endpoint, repository: string): RegistryAuth {
    const key = `${ep.origin}|${ep.prefix}|${repository}`;
    let a = this.auths.get(key);
    if (!a) {
      a = new RegistryAuth(
        this.http,
        ep.origin,
        this.credentials.get(ep.host, repository),
        `${ep.host}/${repository}`,
      );
      this.auths.set(key, a);
    }
    return a;
  }

  private repoPath(ep: Endpoint, repository: string): string {
    return ep.prefix ? `${ep.prefix}/${repository}` : repository;
  }

  manifestUrl(ep: Endpoint, repository: string, reference: string): URL {
    return new URL(`${ep.origin}/v2/${this.repoPath(ep, repository)}/manifests/${reference}`);
  }

  blobUrl(ep: Endpoint, repository: string, digest: string): URL {
    return new URL(`${ep.origin}/v2/${this.repoPath(ep, repository)}/blobs/${digest}`);
  }

  /**
   * Fetch a manifest or index by tag or digest, verify its digest (against the reference's
   * digest or the registry's Docker-Content-Digest), and keep its bytes exactly.
   */
  async getManifest(
    ref: ImageRef,
    reference: string,
    signal?: AbortSignal,
    only?: Endpoint,
  ): Promise<FetchedManifest> {
    const eps = only ? [only] : await this.endpoints(ref, signal);
    const what = formatImageRef(ref);
    let lastErr: unknown;
    for (const ep of eps) {
      try {
        return await this.getManifestAt(ep, ref, reference, signal);
      } catch (err) {
        if (
          err instanceof FerryError &&
          (err.code === 'CANCELLED' || err.code === 'INTEGRITY' || err.code === 'UNSUPPORTED')
        )
          throw err;
        lastErr = err;
        if (ep.mirror)
          this.opts.log?.(
            'warn',
            `${what}: mirror ${ep.origin} failed (${(err as Error).message}); trying ${ref.registry}.`,
          );
      }
    }
    throw lastErr;
  }

  private async getManifestAt(
    ep: Endpoint,
    ref: ImageRef,
    reference: string,
    signal?: AbortSignal,
  ): Promise<FetchedManifest> {
    const auth = this.auth(ep, ref.repository);
    const url = this.manifestUrl(ep, ref.repository, reference);
    const what = `${formatImageRef(ref)}${reference.startsWith('sha256:') && reference !== ref.digest ? ` (manifest ${reference})` : ''}`;
    for (let round = 0; ; round++) {
      const res = await this.http.fetchBytes(url, {
        headers: { accept: MANIFEST_ACCEPT },
        headersFor: auth.headersFor,
        signal,
        maxBytes: 4 << 20,
        pass: round === 0 ? [401] : [],
      });
      if (res.status === 401) {
        await auth.onUnauthorized(res, signal);
        continue;
      }
      const digest = 'sha256:' + createHash('sha256').update(res.body).digest('hex');
      const expected = reference.startsWith('sha256:')
        ? reference
        : headerValue(res.headers['docker-content-digest']);
      if (expected && expected.startsWith('sha256:') && expected !== digest) {
        throw new FerryError(
          'INTEGRITY',
          `${what}: the registry at ${redactUrl(ep.origin)} served a manifest with digest ${digest}, expected ${expected}.`,
          {
            artifact: what,
            details: { expected, actual: digest },
            hint: 'A proxy or mirror altered the manifest, or the registry is broken. Try without the mirror; never accept a changed manifest.',
          },
        );
      }
      const parsed = parseManifestBytes(res.body, headerValue(res.headers['content-type']), what);
      return { bytes: res.body, digest, mediaType: parsed.mediaType, parsed, endpoint: ep };
    }
  }

  /** Stream a blob into `dest`, verifying its digest; resumes from what `dest` already holds. */
  async downloadBlob(
    ep: Endpoint,
    repository: string,
    digest: string,
    size: number | undefined,
    dest: string,
    opts: {
      label: string;
      signal?: AbortSignal | undefined;
      onBytes?: ((n: number) => void) | undefined;
      onSize?: ((total: number | undefined, already: number) => void) | undefined;
    },
  ): Promise<DownloadResult> {
    const auth = this.auth(ep, repository);
    return downloadToFile(this.http, {
      url: this.blobUrl(ep, repository, digest).href,
      dest,
      expectSha256: digest.slice('sha256:'.length),
      expectSize: size,
      label: opts.label,
      checksumHint:
        'The registry (or a mirror or proxy) served bytes that do not match the digest in the manifest. Run the fetch again; if it persists, try without the mirror.',
      headersFor: auth.headersFor,
      onUnauthorized: async (res) => auth.onUnauthorized(res, opts.signal),
      signal: opts.signal,
      onBytes: opts.onBytes,
      onSize: opts.onSize,
    });
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
