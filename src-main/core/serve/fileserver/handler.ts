import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BundleSource } from '../../bundle/source.js';
import { locateFile, type FileLocation } from './location.js';
import { sendError, sendFile } from './send.js';
import { servedAliases } from '../../kinds/index.js';

/**
 * Kubespray's files_repo straight from the bundle: `files/<host>/<path>` is served at
 * `/<host>/<path>` (so github_url = files_repo + '/github.com'), the Kubespray tarball under
 * `/kubespray/`, and extra in-memory documents (the CA certificate). Only paths the verified
 * manifest lists exist; the disk is never listed or walked, so nothing else — no symlink, no
 * stray file, nothing outside the bundle — can be reached.
 */

export type ServedFile = FileLocation;

export interface ExtraDocument {
  body: Buffer;
  contentType: string;
}

interface DirNode {
  dirs: Set<string>;
  files: Set<string>;
}

const TYPES: Array<[RegExp, string]> = [
  [/\.(tar\.gz|tgz)$/i, 'application/gzip'],
  [/\.gz$/i, 'application/gzip'],
  [/\.tar\.xz$|\.xz$/i, 'application/x-xz'],
  [/\.tar\.bz2$|\.bz2$/i, 'application/x-bzip2'],
  [/\.tar$/i, 'application/x-tar'],
  [/\.zip$/i, 'application/zip'],
  [/\.ya?ml$/i, 'application/yaml'],
  [/\.json$/i, 'application/json'],
  [/\.(sha256|sha512|txt|asc|sig|pem|crt)$|sha256sums?$|checksums?$/i, 'text/plain; charset=utf-8'],
  [/\.(rpm)$/i, 'application/x-rpm'],
  [/\.(deb)$/i, 'application/vnd.debian.binary-package'],
  [/\.html?$/i, 'text/html; charset=utf-8'],
];

export function contentTypeFor(name: string): string {
  for (const [re, t] of TYPES) if (re.test(name)) return t;
  return 'application/octet-stream';
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** The URL path (without leading slash) a bundle path is served at, or undefined if not served. */
export function urlPathFor(bundlePath: string): string | undefined {
  if (bundlePath.startsWith('files/')) return bundlePath.slice('files/'.length);
  if (bundlePath.startsWith('kubespray/')) return bundlePath;
  // The apt repositories, at /repos/<os>/ (dists/, pool/, keyrings) and the pre-step playbook.
  if (bundlePath.startsWith('repos/')) return bundlePath;
  return undefined;
}

export class FileServerHandler {
  private readonly files = new Map<string, ServedFile>();
  private readonly docs = new Map<string, ExtraDocument>();
  private readonly dirs = new Map<string, DirNode>();

  constructor(sources: BundleSource[], extras: Record<string, ExtraDocument> = {}) {
    this.dir('');
    for (const src of sources) {
      for (const f of src.manifest.files) {
        const u = urlPathFor(f.path);
        if (u === undefined || this.files.has(u)) continue;
        const loc = locateFile(src, f.path);
        if (!loc) continue; // not verified: not served
        this.files.set(u, loc);
        this.addToTree(u);
      }
      // A file a kind serves at several places (a .deb two OSes share, in each OS's pool).
      for (const [u, rel] of servedAliases(src.manifest.artifacts)) {
        if (this.files.has(u)) continue;
        const loc = locateFile(src, rel);
        if (!loc) continue;
        this.files.set(u, loc);
        this.addToTree(u);
      }
    }
    for (const [name, doc] of Object.entries(extras)) {
      this.docs.set(name, doc);
      this.addToTree(name);
    }
  }

  get fileCount(): number {
    return this.files.size;
  }

  has(urlPath: string): boolean {
    return this.files.has(urlPath) || this.docs.has(urlPath);
  }

  private dir(p: string): DirNode {
    let d = this.dirs.get(p);
    if (!d) {
      d = { dirs: new Set(), files: new Set() };
      this.dirs.set(p, d);
    }
    return d;
  }

  private addToTree(u: string): void {
    const segs = u.split('/');
    let cur = '';
    for (let i = 0; i < segs.length - 1; i++) {
      this.dir(cur).dirs.add(segs[i]);
      cur = cur ? `${cur}/${segs[i]}` : segs[i];
      this.dir(cur);
    }
    this.dir(cur).files.add(segs[segs.length - 1]);
  }

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    meter: { onBytes(n: number): void; refused?(reason: string): void },
  ): Promise<number> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendError(res, 405, 'method not allowed: this file server is read-only');
    }
    const raw = (req.url ?? '/').split('?')[0].split('#')[0];
    if (!raw.startsWith('/')) return sendError(res, 400, 'bad request path');
    const segs: string[] = [];
    for (const s of raw.slice(1).split('/')) {
      let d: string;
      try {
        d = decodeURIComponent(s);
      } catch {
        return sendError(res, 400, 'bad percent-encoding in path');
      }
      if (d === '..' || d === '.' || d.includes('/') || d.includes('\\') || d.includes('\0'))
        return sendError(res, 400, 'path traversal refused');
      segs.push(d);
    }
    const trailing = segs.length > 0 && segs[segs.length - 1] === '';
    const clean = segs.filter((s, i) => s !== '' || i === segs.length - 1).filter((s) => s !== '');
    if (segs.slice(0, -1).some((s) => s === '')) return sendError(res, 400, 'empty path segment');
    const u = clean.join('/');

    const doc = this.docs.get(u);
    if (doc && !trailing) {
      res.writeHead(200, { 'Content-Type': doc.contentType, 'Content-Length': doc.body.length });
      res.end(req.method === 'HEAD' ? undefined : doc.body);
      meter.onBytes(req.method === 'HEAD' ? 0 : doc.body.length);
      return 200;
    }
    const f = this.files.get(u);
    if (f && !trailing) {
      return sendFile(req, res, {
        file: f.file,
        size: f.size,
        contentType: contentTypeFor(u),
        etag: `"sha256:${f.sha256}"`,
        headers: { 'X-Checksum-Sha256': f.sha256 },
        ...(f.parts ? { parts: f.parts } : {}),
        sha256: f.sha256,
        onBytes: (n) => meter.onBytes(n),
        onRefused: (reason) => meter.refused?.(reason),
      });
    }
    const dir = this.dirs.get(u);
    if (dir) {
      if (!trailing && u !== '') {
        res.writeHead(301, { Location: `/${clean.map(encodeURIComponent).join('/')}/`, 'Content-Length': 0 });
        res.end();
        return 301;
      }
      return this.index(req, res, u, dir);
    }
    return sendError(res, 404, 'not found');
  }

  private index(req: IncomingMessage, res: ServerResponse, u: string, dir: DirNode): number {
    const title = `Index of /${u ? u + '/' : ''}`;
    const rows: string[] = [];
    if (u) rows.push('<li><a href="../">../</a></li>');
    for (const d of [...dir.dirs].sort())
      rows.push(`<li><a href="${escapeHtml(encodeURIComponent(d))}/">${escapeHtml(d)}/</a></li>`);
    for (const f of [...dir.files].sort()) {
      const full = u ? `${u}/${f}` : f;
      const size = this.files.get(full)?.size ?? this.docs.get(full)?.body.length ?? 0;
      rows.push(`<li><a href="${escapeHtml(encodeURIComponent(f))}">${escapeHtml(f)}</a> ${size}</li>`);
    }
    const body = Buffer.from(
      `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n<body><h1>${escapeHtml(title)}</h1>\n<ul>\n${rows.join('\n')}\n</ul></body></html>\n`,
    );
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
    return 200;
  }
}
