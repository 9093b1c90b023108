import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { z } from 'zod';
import { FerryError } from '../../base/errors/index.js';
import type { HttpClient } from '../../fetch/download/http-client.js';
import { mirrorUrl, type MirrorMap } from '../../fetch/download/mirrors.js';
import { redactUrl } from '../../fetch/download/proxy.js';
import { normalizeName } from './pep440.js';
import {
  findCentralDirectory,
  findMetadataEntry,
  inflateMember,
  localDataOffset,
  metadataFromWheel,
  readCentralDirectory,
} from './metadata.js';

/**
 * A client for a PEP 503 "simple" index (pypi.org/simple/, a devpi, Nexus or Artifactory PyPI
 * proxy): PEP 691 JSON when the server offers it, the HTML page otherwise; PEP 658 core metadata
 * when the index serves it, else METADATA read out of the wheel through HTTP Range (the zip's
 * central directory from the tail, then the one member), or from the whole wheel when the server
 * ignores Range. Every request goes through Ferry's download layer (proxy, retries, mirrors). A
 * metadata file whose sha256 differs from what the index lists is refused; metadata read from a
 * whole wheel is accepted only when the wheel matches the index's sha256.
 */

export const PEP691_ACCEPT =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01';

export interface IndexFile {
  filename: string;
  /** Absolute, without the #sha256 fragment. */
  url: string;
  sha256: string;
  requiresPython?: string;
  yanked: boolean;
  /** PEP 658/714: the index serves `<url>.metadata`; its sha256 when given. */
  coreMetadata: false | { sha256?: string };
  size?: number;
  /** The index base URL this came from. */
  index: string;
}

export interface ProjectPage {
  name: string;
  files: IndexFile[];
}

const hashes = z.record(z.string(), z.string()).optional();
const metaFlag = z.union([z.boolean(), z.record(z.string(), z.string())]).optional();
const JsonPageSchema = z.object({
  meta: z.object({ 'api-version': z.string() }).passthrough(),
  name: z.string(),
  files: z.array(
    z
      .object({
        filename: z.string().min(1),
        url: z.string().min(1),
        hashes: hashes,
        'requires-python': z.string().nullable().optional(),
        'core-metadata': metaFlag,
        'dist-info-metadata': metaFlag,
        'data-dist-info-metadata': metaFlag,
        yanked: z.union([z.boolean(), z.string()]).optional(),
        size: z.number().int().nonnegative().optional(),
      })
      .passthrough(),
  ),
});

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'" };
function unescapeHtml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+|#39);/g, (all, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)));
    return ENTITIES[e] ?? all;
  });
}

function metaOf(
  v: boolean | Record<string, string> | string | undefined | null,
): false | { sha256?: string } {
  if (v === undefined || v === null || v === false) return false;
  if (v === true) return {};
  if (typeof v === 'string') {
    if (v === 'true' || v === '') return {};
    const m = /^sha256=([0-9a-fA-F]{64})$/.exec(v);
    return m ? { sha256: m[1].toLowerCase() } : {};
  }
  const s = v.sha256;
  return s && /^[0-9a-fA-F]{64}$/.test(s) ? { sha256: s.toLowerCase() } : {};
}

function splitFragment(href: string, base: URL): { url: string; sha256?: string } {
  const u = new URL(href, base);
  const m = /(?:^|&)sha256=([0-9a-fA-F]{64})/.exec(u.hash.slice(1));
  u.hash = '';
  return { url: u.href, ...(m ? { sha256: m[1].toLowerCase() } : {}) };
}

export function parseJsonPage(body: Buffer, pageUrl: URL, index: string): ProjectPage {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new FerryError('INTEGRITY', `${redactUrl(pageUrl.href)} is not JSON.`, {
      artifact: redactUrl(pageUrl.href),
    });
  }
  const r = JsonPageSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new FerryError(
      'INTEGRITY',
      `${redactUrl(pageUrl.href)} is not a PEP 691 project page: ${i.path.join('.')}: ${i.message}.`,
      { artifact: redactUrl(pageUrl.href) },
    );
  }
  const files: IndexFile[] = [];
  for (const f of r.data.files) {
    const { url, sha256: frag } = splitFragment(f.url, pageUrl);
    const sha256 = (f.hashes?.sha256 ?? frag)?.toLowerCase();
    if (!sha256 || !/^[0-9a-f]{64}$/.test(sha256)) continue; // unverifiable: never carried
    files.push({
      filename: f.filename,
      url,
      sha256,
      ...(f['requires-python'] ? { requiresPython: f['requires-python'] } : {}),
      yanked: f.yanked !== undefined && f.yanked !== false,
      coreMetadata: metaOf(f['core-metadata'] ?? f['dist-info-metadata'] ?? f['data-dist-info-metadata']),
      ...(f.size !== undefined ? { size: f.size } : {}),
      index,
    });
  }
  return { name: r.data.name, files };
}

export function parseHtmlPage(body: Buffer, pageUrl: URL, index: string, name: string): ProjectPage {
  const html = body.toString('utf8');
  const baseHref = /<base\s[^>]*href\s*=\s*["']([^"']+)["']/i.exec(html)?.[1];
  const base = baseHref ? new URL(unescapeHtml(baseHref), pageUrl) : pageUrl;
  const files: IndexFile[] = [];
  for (const m of html.matchAll(/<a\s([^>]*)>([^<]*)<\/a\s*>/gi)) {
    const attrs = new Map<string, string>();
    for (const a of m[1].matchAll(/([a-zA-Z0-9:_-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g))
      attrs.set(a[1].toLowerCase(), unescapeHtml(a[2] ?? a[3] ?? a[4] ?? ''));
    const href = attrs.get('href');
    if (!href) continue;
    const { url, sha256 } = splitFragment(href, base);
    if (!sha256) continue;
    const filename =
      unescapeHtml(m[2].trim()) || decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
    const rp = attrs.get('data-requires-python');
    files.push({
      filename,
      url,
      sha256,
      ...(rp ? { requiresPython: rp } : {}),
      yanked: attrs.has('data-yanked'),
      coreMetadata: metaOf(attrs.get('data-core-metadata') ?? attrs.get('data-dist-info-metadata')),
      index,
    });
  }
  return { name, files };
}

export interface IndexClientOptions {
  client: HttpClient;
  /** PEP 503 roots, e.g. https://pypi.org/simple/; files of every index are merged, the first index wins a filename. */
  indexes: string[];
  mirrors?: MirrorMap | undefined;
  signal?: AbortSignal | undefined;
  /** Where verified metadata is kept between runs (by the distribution's sha256). */
  cacheDir?: string;
}

/** The last 64 KiB + the end record: enough for any wheel's central directory end. */
const TAIL = 65_557;
const MAX_PAGE = 64 << 20;
const MAX_WHEEL_IN_MEMORY = 512 << 20;

export class IndexClient {
  private readonly pages = new Map<string, Promise<ProjectPage>>();
  private readonly metas = new Map<string, Promise<string>>();
  /** Counters for the bench and the tests: what it had to ask the network for. */
  stats = { pages: 0, metadata: 0, rangeReads: 0, wholeWheels: 0, cacheHits: 0 };

  constructor(readonly opts: IndexClientOptions) {
    if (!opts.indexes.length) throw new FerryError('USAGE', 'No Python package index given.');
  }

  private get(url: string, headers: Record<string, string>, maxBytes: number, pass?: number[]) {
    return this.opts.client.fetchBytes(mirrorUrl(url, this.opts.mirrors), {
      headers,
      maxBytes,
      signal: this.opts.signal,
      ...(pass ? { pass } : {}),
    });
  }

  /** Every file of the project across the indexes; a project no index has is NOT_FOUND. */
  project(name: string): Promise<ProjectPage> {
    const n = normalizeName(name);
    let p = this.pages.get(n);
    if (!p) {
      p = this.loadProject(n);
      this.pages.set(n, p);
    }
    return p;
  }

  private async loadProject(n: string): Promise<ProjectPage> {
    const files = new Map<string, IndexFile>();
    let found = false;
    for (const index of this.opts.indexes) {
      const root = index.endsWith('/') ? index : index + '/';
      const pageUrl = new URL(`${n}/`, root);
      this.stats.pages++;
      const res = await this.get(pageUrl.href, { accept: PEP691_ACCEPT }, MAX_PAGE, [404]);
      if (res.status === 404) continue;
      found = true;
      // Parse against the original URL: a mirror serves the same relative links.
      const ct = String(res.headers['content-type'] ?? '').toLowerCase();
      const page = ct.includes('application/vnd.pypi.simple.v1+json')
        ? parseJsonPage(res.body, pageUrl, index)
        : parseHtmlPage(res.body, pageUrl, index, n);
      for (const f of page.files) if (!files.has(f.filename)) files.set(f.filename, f);
    }
    if (!found) {
      throw new FerryError(
        'NOT_FOUND',
        `No index has a project named '${n}' (${this.opts.indexes.map(redactUrl).join(', ')}).`,
        {
          artifact: n,
          hint: 'Check the name in the requirements, or add the index (or mirror) that publishes it.',
        },
      );
    }
    return { name: n, files: [...files.values()] };
  }

  /** The distribution's core metadata text, verified where the index gives a hash. */
  metadata(file: IndexFile): Promise<string> {
    let p = this.metas.get(file.sha256);
    if (!p) {
      p = this.loadMetadata(file);
      this.metas.set(file.sha256, p);
      p.catch(() => this.metas.delete(file.sha256));
    }
    return p;
  }

  private cachePath(file: IndexFile): string | undefined {
    return this.opts.cacheDir ? path.join(this.opts.cacheDir, `${file.sha256}.metadata`) : undefined;
  }

  private async loadMetadata(file: IndexFile): Promise<string> {
    const cached = this.cachePath(file);
    if (cached) {
      const text = await fs.readFile(cached, 'utf8').catch(() => undefined);
      if (text !== undefined) {
        this.stats.cacheHits++;
        return text;
      }
    }
    const text = file.coreMetadata ? await this.pep658(file) : await this.fromWheel(file);
    if (cached) {
      await fs.mkdir(path.dirname(cached), { recursive: true });
      const tmp = `${cached}.${process.pid}.tmp`;
      await fs.writeFile(tmp, text);
      await fs.rename(tmp, cached);
    }
    return text;
  }

  private async pep658(file: IndexFile): Promise<string> {
    this.stats.metadata++;
    const url = file.url + '.metadata';
    const res = await this.get(url, {}, 16 << 20);
    const want = file.coreMetadata ? file.coreMetadata.sha256 : undefined;
    if (want) {
      const got = createHash('sha256').update(res.body).digest('hex');
      if (got !== want) {
        throw new FerryError(
          'CHECKSUM',
          `The core metadata of ${file.filename} (${redactUrl(url)}) does not match the sha256 the index lists: expected ${want}, got ${got}.`,
          {
            artifact: file.filename,
            hint: 'The index (or a mirror or proxy on the way) served different metadata. Check the index and mirror settings.',
          },
        );
      }
    }
    return res.body.toString('utf8');
  }

  /** METADATA out of the wheel: by Range when the server allows it, else the whole wheel, checked. */
  private async fromWheel(file: IndexFile): Promise<string> {
    if (file.filename.endsWith('.tar.gz')) return this.fromSdist(file);
    if (!file.filename.endsWith('.whl')) {
      throw new FerryError(
        'UNSUPPORTED',
        `${file.filename} is not a wheel and the index serves no metadata for it.`,
        {
          artifact: file.filename,
        },
      );
    }
    const where = file.filename;
    this.stats.rangeReads++;
    const tail = await this.get(
      file.url,
      { range: `bytes=-${TAIL}`, 'accept-encoding': 'identity' },
      MAX_WHEEL_IN_MEMORY,
    );
    if (tail.status !== 206) return this.whole(file, tail.body);
    const cr = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(tail.headers['content-range'] ?? ''));
    if (!cr) return this.whole(file, undefined);
    const tailStart = Number(cr[1]);
    const cd = findCentralDirectory(tail.body, tailStart, where);
    const cdBytes =
      cd.offset >= tailStart
        ? tail.body.subarray(cd.offset - tailStart, cd.offset - tailStart + cd.size)
        : (await this.range(file, cd.offset, cd.size)).body;
    const entry = findMetadataEntry(readCentralDirectory(cdBytes, where), where);
    // The local header's extra field may differ from the central one: ask for some slack.
    const want = 30 + 1024 + entry.name.length + entry.compressedSize;
    const local = (await this.range(file, entry.localHeaderOffset, want)).body;
    return inflateMember(entry, local.subarray(localDataOffset(local, where)), where).toString('utf8');
  }

  /** An sdist's top-level PKG-INFO (the whole archive, checked against the index first). */
  private async fromSdist(file: IndexFile): Promise<string> {
    this.stats.wholeWheels++;
    const bytes = (await this.get(file.url, { 'accept-encoding': 'identity' }, MAX_WHEEL_IN_MEMORY)).body;
    this.checkWhole(file, bytes);
    let text: string | undefined;
    const parser = new Parser({
      onReadEntry: (e: ReadEntry) => {
        const parts = e.path.replace(/^\.\//, '').split('/');
        if (text === undefined && parts.length === 2 && parts[1] === 'PKG-INFO') {
          const chunks: Buffer[] = [];
          e.on('data', (c: Buffer) => chunks.push(c));
          e.on('end', () => (text = Buffer.concat(chunks).toString('utf8')));
        } else e.resume();
      },
    });
    await new Promise<void>((resolve, reject) => {
      parser.on('error', reject);
      parser.on('end', () => resolve());
      parser.end(gunzipSync(bytes));
    });
    if (text === undefined)
      throw new FerryError('INTEGRITY', `${file.filename} has no PKG-INFO.`, { artifact: file.filename });
    return text;
  }

  private checkWhole(file: IndexFile, bytes: Buffer): void {
    const got = createHash('sha256').update(bytes).digest('hex');
    if (got !== file.sha256) {
      throw new FerryError(
        'CHECKSUM',
        `${file.filename} (${redactUrl(file.url)}) does not match the sha256 the index lists: expected ${file.sha256}, got ${got}.`,
        {
          artifact: file.filename,
          hint: 'The index (or a mirror or proxy on the way) served different bytes.',
        },
      );
    }
  }

  private async range(file: IndexFile, start: number, length: number) {
    const res = await this.get(
      file.url,
      { range: `bytes=${start}-${start + length - 1}`, 'accept-encoding': 'identity' },
      MAX_WHEEL_IN_MEMORY,
    );
    if (res.status !== 206)
      throw new FerryError('HTTP', `${redactUrl(file.url)} did not honour a byte range.`, {
        artifact: file.filename,
      });
    return res;
  }

  private async whole(file: IndexFile, body: Buffer | undefined): Promise<string> {
    this.stats.wholeWheels++;
    const bytes =
      body ?? (await this.get(file.url, { 'accept-encoding': 'identity' }, MAX_WHEEL_IN_MEMORY)).body;
    this.checkWhole(file, bytes);
    return metadataFromWheel(bytes, file.filename);
  }
}
