import { compare as pep440Compare, valid as pep440Valid } from '@renovatebot/pep440';

/**
 * The deploy host's PyPI, as pages: a PEP 503 simple index (HTML) and its PEP 691 JSON form,
 * computed from the wheels a verified bundle carries, plus a hashes-pinned requirements file for
 * `pip install --require-hashes`. Pure: the caller decides which files are intact and where they
 * are served; only those reach a page, so pip is never offered a file Ferry would refuse.
 */

export interface IndexFile {
  /** PEP 503-normalized project name. */
  project: string;
  version: string;
  filename: string;
  sha256: string;
  size: number;
  requiresPython?: string;
  /** sha256 of the PEP 658 `.metadata` file, present only when that file is served intact. */
  metadataSha256?: string;
}

/**
 * A distribution's entry: name, version and Requires-Python from its record, size and hash from
 * the bytes the bundle holds, and the metadata file's hash only when that file is there too.
 */
export function indexFile(
  d: { project: string; version: string; filename: string; requiresPython?: string | undefined },
  bytes: { sha256: string; size: number },
  metadata: { sha256: string } | undefined,
): IndexFile {
  return {
    project: normalizeProject(d.project),
    version: d.version,
    filename: d.filename,
    sha256: bytes.sha256,
    size: bytes.size,
    ...(d.requiresPython ? { requiresPython: d.requiresPython } : {}),
    ...(metadata ? { metadataSha256: metadata.sha256 } : {}),
  };
}

/** PEP 691 versions of the API this index speaks; 1.1 adds `versions` and `size` (PEP 700). */
export const API_VERSION = '1.1';
export const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';
export const HTML_TYPE = 'application/vnd.pypi.simple.v1+html';

/** PEP 503 normalization: runs of `-`, `_`, `.` become one `-`, lowercased. */
export function normalizeProject(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** Newest first by PEP 440 (unparseable versions last, by string), then by filename. */
function byVersionDesc(a: IndexFile, b: IndexFile): number {
  const va = pep440Valid(a.version);
  const vb = pep440Valid(b.version);
  const v =
    va && vb ? pep440Compare(b.version, a.version) : va ? -1 : vb ? 1 : b.version.localeCompare(a.version);
  return v || a.filename.localeCompare(b.filename);
}

/** Files per project, each list newest version first; one entry per filename. */
export function groupByProject(files: readonly IndexFile[]): Map<string, IndexFile[]> {
  const out = new Map<string, IndexFile[]>();
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.filename)) continue;
    seen.add(f.filename);
    const list = out.get(f.project) ?? [];
    list.push(f);
    out.set(f.project, list);
  }
  for (const list of out.values()) list.sort(byVersionDesc);
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

const META = `<meta name="pypi:repository-version" content="${API_VERSION}">`;

export function rootHtml(projects: readonly string[]): string {
  const rows = projects.map(
    (p) => `<a href="${escapeHtml(encodeURIComponent(p))}/">${escapeHtml(p)}</a><br>`,
  );
  return `<!DOCTYPE html>\n<html><head>${META}<title>Simple index</title></head>\n<body>\n${rows.join('\n')}\n</body></html>\n`;
}

export function rootJson(projects: readonly string[]): object {
  return { meta: { 'api-version': API_VERSION }, projects: projects.map((name) => ({ name })) };
}

/**
 * A project page. `href(f)` is the file's URL relative to the page. Metadata is announced as
 * PEP 714's `data-core-metadata` only, never PEP 658's `data-dist-info-metadata`: Debian 12's
 * pip 23.0.1 reads only the latter, and when it takes a `.metadata` file it compares the
 * metadata's `Name` with the requirement byte for byte, so a wheel published as `Jinja2`,
 * `MarkupSafe` or `PyYAML` required as `jinja2` is refused ("inconsistent Name"). Without the
 * attribute it downloads the wheel, where names are compared normalized; newer pips read
 * `data-core-metadata` (PEP 714 makes clients prefer it) and use the metadata file.
 */
export function projectHtml(
  project: string,
  files: readonly IndexFile[],
  href: (f: IndexFile) => string,
): string {
  const rows = files.map((f) => {
    const attrs = [`href="${escapeHtml(`${href(f)}#sha256=${f.sha256}`)}"`];
    if (f.requiresPython) attrs.push(`data-requires-python="${escapeHtml(f.requiresPython)}"`);
    if (f.metadataSha256) attrs.push(`data-core-metadata="sha256=${f.metadataSha256}"`);
    return `<a ${attrs.join(' ')}>${escapeHtml(f.filename)}</a><br>`;
  });
  const t = `Links for ${escapeHtml(project)}`;
  return `<!DOCTYPE html>\n<html><head>${META}<title>${t}</title></head>\n<body>\n<h1>${t}</h1>\n${rows.join('\n')}\n</body></html>\n`;
}

/**
 * The PEP 691 project document. Metadata goes under `core-metadata` only: Debian 12's pip 23.0.1
 * reads `dist-info-metadata` as a string and crashes (`TypeError: unhashable type: 'dict'`) on
 * the spec's dict form, while it ignores `core-metadata` and downloads the wheel instead; newer
 * pips read `core-metadata`.
 */
export function projectJson(
  project: string,
  files: readonly IndexFile[],
  href: (f: IndexFile) => string,
): object {
  const versions = [...new Set(files.map((f) => f.version))].reverse();
  return {
    meta: { 'api-version': API_VERSION },
    name: project,
    versions,
    files: files.map((f) => ({
      filename: f.filename,
      url: href(f),
      hashes: { sha256: f.sha256 },
      ...(f.requiresPython ? { 'requires-python': f.requiresPython } : {}),
      'core-metadata': f.metadataSha256 ? { sha256: f.metadataSha256 } : false,
      size: f.size,
      yanked: false,
    })),
  };
}

/**
 * Content negotiation (PEP 691): the acceptable type with the highest q wins, ties going to the
 * order pip lists them in; no Accept, `*\/*` or only unknown types get HTML, which every client
 * reads. Returns undefined when every type we speak is refused with q=0 (answer 406).
 */
export function negotiate(accept: string | undefined): 'json' | 'html' | undefined {
  if (!accept || !accept.trim()) return 'html';
  const offers: Array<[string, 'json' | 'html']> = [
    [JSON_TYPE, 'json'],
    ['application/vnd.pypi.simple.latest+json', 'json'],
    [HTML_TYPE, 'html'],
    ['application/vnd.pypi.simple.latest+html', 'html'],
    ['text/html', 'html'],
  ];
  let best: { q: number; kind: 'json' | 'html' } | undefined;
  let refusedAll = true;
  let anyKnown = false;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().split(';');
    const t = type.trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    const offer = t === '*/*' || t === 'text/*' ? 'html' : offers.find(([o]) => o === t)?.[1];
    if (!offer) continue;
    anyKnown = true;
    if (q > 0) refusedAll = false;
    if (q > 0 && (!best || q > best.q)) best = { q, kind: offer };
  }
  if (!anyKnown) return 'html';
  return refusedAll ? undefined : best?.kind;
}

/**
 * `pip install --require-hashes -r` input: per project its newest version (of the files `keep`
 * accepts), with the sha256 of every file of that version, so pip can pick the one for its
 * interpreter and refuses any byte that differs.
 */
export function requirementsTxt(
  files: readonly IndexFile[],
  opts: { keep?: (f: IndexFile) => boolean; header?: string } = {},
): string {
  const lines = [
    `# ${opts.header ?? 'Written by Ferry from a verified bundle'}: pip install --require-hashes -r <this file>`,
  ];
  for (const [project, list] of groupByProject(files.filter(opts.keep ?? (() => true)))) {
    const version = list[0].version;
    const hashes = [...new Set(list.filter((f) => f.version === version).map((f) => f.sha256))];
    lines.push(`${project}==${version} \\\n${hashes.map((h) => `    --hash=sha256:${h}`).join(' \\\n')}`);
  }
  return lines.join('\n') + '\n';
}

/** A wheel filename's parts (binary distribution format); undefined for an sdist or a bad name. */
export function parseWheelFilename(
  filename: string,
): { name: string; version: string; tags: Array<{ py: string; abi: string; plat: string }> } | undefined {
  const m = /^([^-]+)-([^-]+)(?:-(\d[^-]*))?-([^-]+)-([^-]+)-([^-]+)\.whl$/.exec(filename);
  if (!m) return undefined;
  const tags: Array<{ py: string; abi: string; plat: string }> = [];
  for (const py of m[4].split('.'))
    for (const abi of m[5].split('.')) for (const plat of m[6].split('.')) tags.push({ py, abi, plat });
  return { name: m[1], version: m[2], tags };
}
