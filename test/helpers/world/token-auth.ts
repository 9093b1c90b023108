import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer } from '../close-server.js';

/**
 * A registry front that demands Bearer tokens, as Docker Hub, quay.io and registry.k8s.io do:
 * /v2/* without a valid token answers 401 with `WWW-Authenticate: Bearer realm=…/token`; the
 * realm hands out tokens (for Basic credentials, or anonymously when allowed) and everything
 * else is forwarded to the real docker-registry behind it. With `blobStorage`, blob GETs are
 * redirected to a second origin (like registry.k8s.io → a storage bucket) that records whether
 * anyone sent it an Authorization header.
 */
export class TokenAuthRegistry {
  readonly tokens = new Set<string>();
  tokenRequests = 0;
  /** Authorization headers the blob storage origin received (should stay empty). */
  readonly storageAuthHeaders: string[] = [];
  storageRequests = 0;
  private server!: http.Server;
  private storage?: http.Server;
  host = '';
  url = '';
  storageUrl = '';

  static async start(opts: {
    upstream: string;
    users?: Record<string, string>;
    anonymous?: boolean;
    blobStorage?: boolean;
  }): Promise<TokenAuthRegistry> {
    const t = new TokenAuthRegistry();
    const forward = (req: http.IncomingMessage, res: http.ServerResponse, path: string) => {
      const headers = { ...req.headers, host: opts.upstream };
      delete headers.authorization;
      const up = http.request(
        {
          host: opts.upstream.split(':')[0],
          port: Number(opts.upstream.split(':')[1]),
          path,
          method: req.method,
          headers,
        },
        (ur) => {
          res.writeHead(ur.statusCode ?? 502, ur.headers);
          ur.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    };
    if (opts.blobStorage) {
      t.storage = http.createServer((req, res) => {
        t.storageRequests++;
        if (req.headers.authorization) t.storageAuthHeaders.push(req.headers.authorization);
        forward(req, res, req.url ?? '/');
      });
      await new Promise<void>((r) => t.storage!.listen(0, '127.0.0.1', r));
      t.storageUrl = `http://127.0.0.1:${(t.storage.address() as AddressInfo).port}`;
    }
    t.server = http.createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname === '/token') {
        t.tokenRequests++;
        const auth = req.headers.authorization;
        let ok = !!opts.anonymous;
        if (auth?.startsWith('Basic ')) {
          const [user, ...rest] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
          ok = opts.users?.[user] === rest.join(':');
        }
        if (!ok) {
          res
            .writeHead(401, { 'content-type': 'application/json' })
            .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
          return;
        }
        const token = randomBytes(16).toString('hex');
        t.tokens.add(token);
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ token, expires_in: 300 }));
        return;
      }
      if (u.pathname.startsWith('/v2')) {
        const auth = req.headers.authorization;
        if (!auth?.startsWith('Bearer ') || !t.tokens.has(auth.slice(7))) {
          const repo = /^\/v2\/(.+)\/(manifests|blobs)\//.exec(u.pathname)?.[1];
          res
            .writeHead(401, {
              'www-authenticate': `Bearer realm="${t.url}/token",service="ferry-test"${repo ? `,scope="repository:${repo}:pull"` : ''}`,
              'content-type': 'application/json',
            })
            .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
          return;
        }
        if (t.storage && req.method === 'GET' && /\/blobs\/sha256:/.test(u.pathname)) {
          res.writeHead(307, { location: `${t.storageUrl}${u.pathname}` }).end();
          return;
        }
        forward(req, res, req.url ?? '/');
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => t.server.listen(0, '127.0.0.1', r));
    t.host = `127.0.0.1:${(t.server.address() as AddressInfo).port}`;
    t.url = `http://${t.host}`;
    return t;
  }

  async close(): Promise<void> {
    for (const s of [this.server, this.storage]) {
      if (!s) continue;
      await closeServer(s);
    }
  }
}
