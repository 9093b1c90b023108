import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendFile } from '../fileserver/send.js';
import type { RegistryContent, Repository } from './content.js';
import { DIGEST_RE, REPO_NAME_RE, TAG_RE, isValidHost, normalizeHost } from './reference.js';

/**
 * The read-only OCI distribution API over RegistryContent. Names resolve three ways:
 *  - Kubespray style: 'calico/node' (upstream host dropped), unless two upstreams collide;
 *  - mirror style: 'calico/node?ns=quay.io', which containerd sends to a hosts.toml mirror;
 *  - full name: 'quay.io/calico/node', handy for skopeo and podman by original name.
 */

export interface RequestMeter {
  onBytes(n: number): void;
  /** Why a request was refused (content changed or moved since it was verified), for the log. */
  refused?(reason: string): void;
}

type ErrorCode =
  | 'NAME_UNKNOWN'
  | 'NAME_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'TAG_INVALID'
  | 'BLOB_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'UNSUPPORTED'
  | 'PAGINATION_NUMBER_INVALID';

const API_HEADER = { 'Docker-Distribution-API-Version': 'registry/2.0' };
const READ_METHODS = 'GET, HEAD';
const MAX_PAGE = 10_000;

function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  value: unknown,
  extra: Record<string, string> = {},
): number {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, {
    ...API_HEADER,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': body.length,
    ...extra,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return status;
}

function regError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: ErrorCode,
  message: string,
  detail?: unknown,
  extra?: Record<string, string>,
): number {
  return sendJson(
    req,
    res,
    status,
    { errors: [{ code, message, ...(detail !== undefined ? { detail } : {}) }] },
    extra,
  );
}

export class RegistryHandler {
  constructor(private readonly content: RegistryContent) {}

  /** Resolve a request name (+ ns) to a repository. */
  resolve(name: string, ns: string | null): Repository | undefined {
    const repos = this.content.repositories;
    if (ns !== null) {
      const host = normalizeHost(ns);
      let p = name;
      // containerd sends Docker Hub official images as library/x already; be lenient with bare 'x'.
      if (host === 'docker.io' && !p.includes('/')) p = `library/${p}`;
      return repos.get(`${host}/${p}`);
    }
    const short = this.content.shortNames.get(name);
    if (short) return repos.get(short);
    return repos.get(name);
  }

  /** Returns the HTTP status sent. */
  async handle(req: IncomingMessage, res: ServerResponse, meter: RequestMeter): Promise<number> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://registry.invalid');
    } catch {
      return regError(req, res, 400, 'NAME_INVALID', 'malformed request URL');
    }
    // Route on the raw path: URL parsing would resolve '..' and turn a hostile name into another path.
    const p = (req.url ?? '/').split('?')[0];
    if (p.split('/').some((seg) => seg === '..' || seg === '.'))
      return regError(req, res, 400, 'NAME_INVALID', 'dot segments are not allowed in names');
    if (p !== '/v2' && !p.startsWith('/v2/'))
      return regError(req, res, 404, 'NAME_UNKNOWN', 'not a registry API path');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return regError(
        req,
        res,
        405,
        'UNSUPPORTED',
        `${String(req.method).slice(0, 20)} is not supported: this registry is read-only`,
        undefined,
        { Allow: READ_METHODS },
      );
    }
    if (p === '/v2' || p === '/v2/') return sendJson(req, res, 200, {});
    if (p === '/v2/_catalog') return this.catalog(req, res, url);

    const rest = p.slice('/v2/'.length);
    let m: RegExpExecArray | null;
    if ((m = /^(.+)\/tags\/list$/.exec(rest))) return this.tags(req, res, url, m[1]);
    if ((m = /^(.+)\/manifests\/([^/]+)$/.exec(rest))) return this.manifest(req, res, url, m[1], m[2]);
    if ((m = /^(.+)\/blobs\/([^/]+)$/.exec(rest))) return this.blob(req, res, url, m[1], m[2], meter);
    if (/\/blobs\/uploads\/?/.test(rest))
      return regError(
        req,
        res,
        405,
        'UNSUPPORTED',
        'uploads are not supported: this registry is read-only',
        undefined,
        { Allow: READ_METHODS },
      );
    return regError(req, res, 404, 'NAME_UNKNOWN', 'unknown API endpoint');
  }

  private name(req: IncomingMessage, res: ServerResponse, url: URL, raw: string): Repository | number {
    // No decoding: a valid name never needs percent-escapes, and '%2e%2e' must not become '..'.
    const ns = url.searchParams.get('ns');
    if (ns !== null && !isValidHost(ns))
      return regError(req, res, 400, 'NAME_INVALID', 'the ns parameter is not a registry host');
    const name = raw;
    if (name.length > 255 || !isNameOrFullName(name))
      return regError(req, res, 400, 'NAME_INVALID', 'invalid repository name', { name: name.slice(0, 255) });
    const repo = this.resolve(name, ns);
    if (!repo) {
      const col = ns === null ? this.content.collisions.find((c) => c.name === name) : undefined;
      const msg = col
        ? `repository name '${name}' is ambiguous: it exists at ${col.upstreams.join(' and ')}; ask for the full name or use ?ns=`
        : 'repository name not known to registry';
      return regError(req, res, 404, 'NAME_UNKNOWN', msg, { name });
    }
    return repo;
  }

  private catalog(req: IncomingMessage, res: ServerResponse, url: URL): number {
    const names = new Set<string>(this.content.shortNames.keys());
    for (const c of this.content.collisions) for (const u of c.upstreams) names.add(u);
    return this.paginate(
      req,
      res,
      url,
      [...names].sort(),
      (items) => ({ repositories: items }),
      '/v2/_catalog',
    );
  }

  private tags(req: IncomingMessage, res: ServerResponse, url: URL, raw: string): number {
    const repo = this.name(req, res, url, raw);
    if (typeof repo === 'number') return repo;
    return this.paginate(
      req,
      res,
      url,
      [...repo.tags.keys()].sort(),
      (items) => ({ name: raw, tags: items }),
      `/v2/${raw}/tags/list`,
    );
  }

  private paginate(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    all: string[],
    shape: (items: string[]) => unknown,
    base: string,
  ): number {
    const nRaw = url.searchParams.get('n');
    const last = url.searchParams.get('last');
    let n = all.length;
    if (nRaw !== null) {
      if (!/^\d{1,9}$/.test(nRaw))
        return regError(req, res, 400, 'PAGINATION_NUMBER_INVALID', 'n must be a non-negative integer');
      n = Math.min(Number(nRaw), MAX_PAGE);
    }
    let items = last !== null ? all.filter((x) => x > last) : all;
    const more = items.length > n;
    items = items.slice(0, n);
    const extra: Record<string, string> = {};
    if (more && items.length)
      extra.Link = `<${base}?n=${n}&last=${encodeURIComponent(items[items.length - 1])}>; rel="next"`;
    return sendJson(req, res, 200, shape(items), extra);
  }

  private async manifest(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    raw: string,
    reference: string,
  ): Promise<number> {
    const repo = this.name(req, res, url, raw);
    if (typeof repo === 'number') return repo;
    let digest: string | undefined;
    if (reference.startsWith('sha256:') || reference.includes(':')) {
      if (!DIGEST_RE.test(reference))
        return regError(req, res, 400, 'DIGEST_INVALID', 'invalid digest', {
          digest: reference.slice(0, 100),
        });
      digest = reference;
    } else {
      if (!TAG_RE.test(reference))
        return regError(req, res, 400, 'TAG_INVALID', 'invalid tag', { tag: reference.slice(0, 128) });
      digest = repo.tags.get(reference);
      if (!digest) return regError(req, res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown', { tag: reference });
    }
    const rec = repo.manifests.get(digest);
    if (!rec) return regError(req, res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown', { digest });
    // The bytes read and hashed against the digest at start: never a re-read of a file that may have been replaced.
    const body = rec.body;
    const headers = {
      ...API_HEADER,
      'Content-Type': rec.mediaType,
      'Content-Length': String(body.length),
      'Docker-Content-Digest': rec.digest,
      ETag: `"${rec.digest}"`,
    };
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
    return 200;
  }

  private async blob(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    raw: string,
    digest: string,
    meter: RequestMeter,
  ): Promise<number> {
    const repo = this.name(req, res, url, raw);
    if (typeof repo === 'number') return repo;
    if (!DIGEST_RE.test(digest))
      return regError(req, res, 400, 'DIGEST_INVALID', 'invalid digest', { digest: digest.slice(0, 100) });
    // Manifests are blobs too (skopeo and containerd fetch them that way sometimes): sent from
    // their verified bytes in memory, like the manifest route.
    const rec = repo.manifests.get(digest);
    if (rec && !repo.blobs.has(digest)) {
      res.writeHead(200, {
        ...API_HEADER,
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(rec.body.length),
        'Docker-Content-Digest': digest,
        ETag: `"${digest}"`,
      });
      res.end(req.method === 'HEAD' ? undefined : rec.body);
      meter.onBytes(req.method === 'HEAD' ? 0 : rec.body.length);
      return 200;
    }
    const loc = repo.blobs.get(digest);
    if (!loc) return regError(req, res, 404, 'BLOB_UNKNOWN', 'blob unknown to registry', { digest });
    return sendFile(req, res, {
      file: loc.file,
      size: loc.size,
      ...('parts' in loc && loc.parts ? { parts: loc.parts } : {}),
      contentType: 'application/octet-stream',
      etag: `"${digest}"`,
      headers: { ...API_HEADER, 'Docker-Content-Digest': digest, 'Cache-Control': 'max-age=31536000' },
      // Content-addressed: a small blob is hashed against its own digest again before it is sent.
      ...(digest.startsWith('sha256:') ? { sha256: digest.slice('sha256:'.length) } : {}),
      onBytes: (n) => meter.onBytes(n),
      onRefused: (reason) => meter.refused?.(reason),
    });
  }
}

/** A repository name, optionally preceded by a registry host ('quay.io/calico/node'). */
function isNameOrFullName(name: string): boolean {
  if (REPO_NAME_RE.test(name)) return true;
  const slash = name.indexOf('/');
  if (slash <= 0) return false;
  const host = name.slice(0, slash);
  return (
    (host.includes('.') || host.includes(':') || host === 'localhost') &&
    isValidHost(host) &&
    REPO_NAME_RE.test(name.slice(slash + 1))
  );
}
