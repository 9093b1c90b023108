import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WheelArtifact } from '../../bundle/manifest.js';
import type { BundleSource } from '../../bundle/source.js';
import { locateFile } from '../../serve/fileserver/location.js';
import { sendError } from '../../serve/fileserver/send.js';
import { metadataPath, PYTHON_FILES_DIR, wheelPath } from './paths.js';
import {
  groupByProject,
  HTML_TYPE,
  indexFile,
  JSON_TYPE,
  negotiate,
  normalizeProject,
  projectHtml,
  projectJson,
  requirementsTxt,
  rootHtml,
  rootJson,
  type IndexFile,
} from './simple-index.js';

/**
 * The bundle's Python index on Ferry's file server: `/simple/` (PEP 503 HTML, PEP 691 JSON by
 * Accept), each file linked at `/python/files/<filename>` where the file server sends the
 * verified bytes (its `.metadata` beside it), and `/python/requirements.txt` pinned by hash.
 * Built from the sources' manifests through their verified views: a wheel whose file did not
 * verify is not on any page, and a metadata file that did not verify is not announced.
 */

export { PYTHON_FILES_DIR, wheelPath, metadataPath } from './paths.js';
/** URL path of the hashes-pinned requirements file. */
export const REQUIREMENTS_URL = 'python/requirements.txt';

export interface LocatedWheel extends IndexFile {
  source: BundleSource;
  artifact: WheelArtifact;
}

/** Every wheel the sources carry intact, with its metadata file's hash when that is intact too. */
export function intactWheels(sources: readonly BundleSource[]): LocatedWheel[] {
  const out: LocatedWheel[] = [];
  const seen = new Set<string>();
  for (const source of sources) {
    for (const a of source.manifest.artifacts) {
      if (a.kind !== 'wheel' || seen.has(a.filename)) continue;
      const rel = a.paths.find((p) => p.endsWith(`/${a.filename}`)) ?? wheelPath(a.filename);
      const loc = locateFile(source, rel);
      // Only the bytes the index promised: a file that verified with other bytes is not it.
      if (!loc || loc.sha256 !== a.sha256) continue;
      const meta = locateFile(
        source,
        a.paths.find((p) => p.endsWith(`/${a.filename}.metadata`)) ?? metadataPath(a.filename),
      );
      seen.add(a.filename);
      out.push({ source, artifact: a, ...indexFile(a, loc, meta) });
    }
  }
  return out;
}

interface Page {
  html: Buffer;
  json: Buffer;
}

export class PythonIndex {
  private readonly pages = new Map<string, Page>();
  private readonly root: Page;
  private readonly requirements: Buffer;
  readonly wheels: LocatedWheel[];

  constructor(sources: readonly BundleSource[]) {
    this.wheels = intactWheels(sources);
    const groups = groupByProject(this.wheels);
    // From /simple/<project>/ to /python/files/<filename>.
    const href = (f: IndexFile) => `../../${PYTHON_FILES_DIR}/${encodeURIComponent(f.filename)}`;
    for (const [project, files] of groups)
      this.pages.set(project, {
        html: Buffer.from(projectHtml(project, files, href)),
        json: Buffer.from(JSON.stringify(projectJson(project, files, href))),
      });
    const names = [...groups.keys()];
    this.root = { html: Buffer.from(rootHtml(names)), json: Buffer.from(JSON.stringify(rootJson(names))) };
    this.requirements = Buffer.from(requirementsTxt(this.wheels));
  }

  get projectCount(): number {
    return this.pages.size;
  }

  /** URL paths (no leading slash, no trailing slash) this index answers. */
  handles(u: string): boolean {
    return u === 'simple' || u.startsWith('simple/') || u === REQUIREMENTS_URL;
  }

  handle(
    req: IncomingMessage,
    res: ServerResponse,
    u: string,
    trailing: boolean,
    meter: { onBytes(n: number): void },
  ): number {
    if (u === REQUIREMENTS_URL) {
      if (trailing) return sendError(res, 404, 'not found');
      return this.send(req, res, this.requirements, 'text/plain; charset=utf-8', meter);
    }
    const segs = u.split('/').slice(1);
    if (segs.length > 1) return sendError(res, 404, 'not found');
    // PEP 503: a page URL ends in '/'; a request without it, or not normalized, is redirected.
    const project = segs[0];
    const norm = project === undefined ? undefined : normalizeProject(project);
    if (!trailing || (norm !== undefined && norm !== project)) {
      const to = `/simple/${norm === undefined ? '' : `${encodeURIComponent(norm)}/`}`;
      res.writeHead(301, { Location: to, 'Content-Length': 0, Vary: 'Accept' });
      res.end();
      return 301;
    }
    const page = norm === undefined ? this.root : this.pages.get(norm);
    if (!page) return sendError(res, 404, `no project ${project} in this bundle's Python index`);
    const kind = negotiate(req.headers.accept);
    if (!kind) {
      res.setHeader('Vary', 'Accept');
      return sendError(res, 406, `this index serves ${JSON_TYPE}, ${HTML_TYPE} or text/html`);
    }
    return kind === 'json'
      ? this.send(req, res, page.json, JSON_TYPE, meter)
      : this.send(req, res, page.html, 'text/html; charset=utf-8', meter);
  }

  private send(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    type: string,
    meter: { onBytes(n: number): void },
  ): number {
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, Vary: 'Accept' });
    res.end(req.method === 'HEAD' ? undefined : body);
    meter.onBytes(req.method === 'HEAD' ? 0 : body.length);
    return 200;
  }
}
