import { createHash, type Hash } from 'node:crypto';
import zlib from 'node:zlib';
import type { RepoSigner } from '../../bundle/keys/repo-key.js';
import { FerryError } from '../../base/errors/index.js';
import { isRpmlib, type RpmHeader, type RpmHeaderDep } from './header.js';

/**
 * Writes the repodata/ of an RPM repository from the headers of its .rpm files — what
 * createrepo_c writes, in the same shapes dnf (libsolv's repo_rpmmd, librepo) reads:
 *   repodata/<sha256>-primary.xml.gz    names, EVRs, relations, the "primary" subset of files
 *   repodata/<sha256>-filelists.xml.gz  every file of every package
 *   repodata/<sha256>-other.xml.gz      changelogs (the newest ten, as createrepo_c keeps)
 *   repodata/<sha256>-modules.yaml.gz   when module metadata is carried
 *   repodata/repomd.xml                 checksums (compressed and open) and sizes of the above
 *   repodata/repomd.xml.asc             armored detached signature over repomd.xml
 * File names carry their own sha256 (createrepo_c's --unique-md-filenames, the default) so a
 * client never mixes a new repomd with a cached old primary.
 *
 * The XML is produced package by package into gzip streams whose checksums are computed on the
 * fly, so the uncompressed documents (hundreds of MB for a large repository) are never held.
 *
 * Dependency rules follow createrepo_c's header parser, so a repository Ferry writes resolves
 * like one createrepo_c writes from the same files: rpmlib(…) requires dropped, requires on a
 * package's own primary files or its own provides dropped, exact duplicates dropped, pre="1" for install-time
 * prerequisites, epoch="0" when a versioned relation names none.
 */

export interface RpmRepodataEntry {
  /** Path of the .rpm relative to the repository root (Packages/c/conntrack-….rpm). */
  location: string;
  /** sha256 of the whole .rpm file (the pkgid). */
  sha256: string;
  /** Bytes of the .rpm file. */
  size: number;
  /** File mtime in seconds (primary's <time file>); defaults to the build time. */
  mtime?: number;
  header: RpmHeader;
}

export interface RpmRepodataOptions {
  signer: Pick<RepoSigner, 'detachSign'>;
  /** Verbatim modules.yaml (modulemd + modulemd-defaults documents) to carry. */
  modules?: string;
  /** repomd <revision>; defaults to the timestamp. */
  revision?: string;
  /** Seconds since the epoch for repomd's <timestamp> entries; defaults to now. */
  timestamp?: number;
}

export interface RepodataFile {
  /** Relative to the repository root: repodata/… */
  path: string;
  data: Uint8Array;
}

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';

// XML 1.0 forbids most C0 controls even escaped; createrepo_c drops them too.
const INVALID_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

// Most strings (file paths, names) need no escaping: one test instead of four replaces.
const NEEDS_ESCAPE = /[&<>"\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

function text(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(INVALID_XML, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return text(s).replace(/"/g, '&quot;');
}

/** createrepo_c's cr_is_primary: the files primary lists so common file requires resolve without filelists. */
export function isPrimaryFile(path: string): boolean {
  return path.startsWith('/etc/') || path === '/usr/lib/sendmail' || path.includes('bin/');
}

function entry(d: RpmHeaderDep, withPre: boolean): string {
  let s = `<rpm:entry name="${attr(d.name)}"`;
  if (d.flags && d.ver !== undefined) {
    s += ` flags="${d.flags}" epoch="${d.epoch ?? 0}" ver="${attr(d.ver)}"`;
    if (d.rel !== undefined) s += ` rel="${attr(d.rel)}"`;
  }
  if (withPre && d.pre) s += ' pre="1"';
  return `${s}/>`;
}

const depKey = (d: RpmHeaderDep): string =>
  `${d.name}\0${d.flags ?? ''}\0${d.epoch ?? 0}\0${d.ver ?? ''}\0${d.rel ?? ''}`;

/** The relation lists as createrepo_c writes them. Exported for the resolver tests. */
export function repodataDeps(
  h: RpmHeader,
): Record<
  | 'provides'
  | 'requires'
  | 'conflicts'
  | 'obsoletes'
  | 'suggests'
  | 'enhances'
  | 'recommends'
  | 'supplements',
  RpmHeaderDep[]
> {
  const own = new Set(h.files.filter((f) => isPrimaryFile(f.path)).map((f) => f.path));
  // A requirement the package satisfies itself (config(x) = evr, which rpmbuild adds for
  // %config files) is not listed, as createrepo_c does not.
  const selfProvided = new Set(h.provides.map(depKey));
  const uniq = (list: RpmHeaderDep[], keep: (d: RpmHeaderDep) => boolean = () => true): RpmHeaderDep[] => {
    const seen = new Map<string, RpmHeaderDep>();
    for (const d of list) {
      if (!keep(d)) continue;
      const k = depKey(d);
      const prev = seen.get(k);
      // The same requirement twice (once as a scriptlet prerequisite): one entry, pre if either is.
      if (prev) {
        if (d.pre && !prev.pre) seen.set(k, { ...prev, pre: true });
      } else seen.set(k, d);
    }
    return [...seen.values()];
  };
  return {
    provides: uniq(h.provides),
    requires: uniq(
      h.requires,
      (d) => !isRpmlib(d) && !(d.name.startsWith('/') && own.has(d.name)) && !selfProvided.has(depKey(d)),
    ),
    conflicts: uniq(h.conflicts),
    obsoletes: uniq(h.obsoletes),
    suggests: uniq(h.suggests),
    enhances: uniq(h.enhances),
    recommends: uniq(h.recommends),
    supplements: uniq(h.supplements),
  };
}

function versionTag(h: RpmHeader): string {
  return `<version epoch="${h.epoch ?? 0}" ver="${attr(h.version)}" rel="${attr(h.release)}"/>`;
}

function fileTag(f: { path: string; type: string }): string {
  return f.type === 'file' ? `<file>${text(f.path)}</file>` : `<file type="${f.type}">${text(f.path)}</file>`;
}

function primaryPackage(e: RpmRepodataEntry): string {
  const h = e.header;
  const d = repodataDeps(h);
  const out = [
    '<package type="rpm">',
    `  <name>${text(h.name)}</name>`,
    `  <arch>${text(h.arch)}</arch>`,
    `  ${versionTag(h)}`,
    `  <checksum type="sha256" pkgid="YES">${e.sha256}</checksum>`,
    `  <summary>${text(h.summary)}</summary>`,
    `  <description>${text(h.description)}</description>`,
    `  <packager>${text(h.packager ?? '')}</packager>`,
    `  <url>${text(h.url ?? '')}</url>`,
    `  <time file="${e.mtime ?? h.buildTime}" build="${h.buildTime}"/>`,
    `  <size package="${e.size}" installed="${h.installedSize}" archive="${h.archiveSize}"/>`,
    `  <location href="${attr(e.location)}"/>`,
    '  <format>',
    `    <rpm:license>${text(h.license ?? '')}</rpm:license>`,
    `    <rpm:vendor>${text(h.vendor ?? '')}</rpm:vendor>`,
    `    <rpm:group>${text(h.group ?? '')}</rpm:group>`,
    `    <rpm:buildhost>${text(h.buildhost ?? '')}</rpm:buildhost>`,
    `    <rpm:sourcerpm>${text(h.sourcerpm ?? '')}</rpm:sourcerpm>`,
    `    <rpm:header-range start="${h.headerRange.start}" end="${h.headerRange.end}"/>`,
  ];
  for (const k of [
    'provides',
    'requires',
    'conflicts',
    'obsoletes',
    'suggests',
    'enhances',
    'recommends',
    'supplements',
  ] as const) {
    if (!d[k].length) continue;
    out.push(`    <rpm:${k}>`);
    for (const x of d[k]) out.push(`      ${entry(x, k === 'requires')}`);
    out.push(`    </rpm:${k}>`);
  }
  for (const f of h.files) if (isPrimaryFile(f.path)) out.push(`    ${fileTag(f)}`);
  out.push('  </format>', '</package>', '');
  return out.join('\n');
}

function pkgOpen(e: RpmRepodataEntry): string {
  return `<package pkgid="${e.sha256}" name="${attr(e.header.name)}" arch="${attr(e.header.arch)}">\n  ${versionTag(e.header)}\n`;
}

function filelistsPackage(e: RpmRepodataEntry): string {
  return `${pkgOpen(e)}${e.header.files.map((f) => `  ${fileTag(f)}\n`).join('')}</package>\n`;
}

/** createrepo_c's default --changelog-limit. */
const CHANGELOG_LIMIT = 10;

function otherPackage(e: RpmRepodataEntry): string {
  // The header lists newest first; createrepo_c keeps the newest ten and writes them oldest first.
  const log = e.header.changelog.slice(0, CHANGELOG_LIMIT).reverse();
  return `${pkgOpen(e)}${log
    .map((c) => `  <changelog author="${attr(c.author)}" date="${c.date}">${text(c.text)}</changelog>\n`)
    .join('')}</package>\n`;
}

interface Compressed {
  data: Uint8Array;
  sha256: string;
  openSha256: string;
  openSize: number;
}

/** Streams text pieces through gzip, hashing both sides, without joining the pieces. */
async function gzipPieces(pieces: Iterable<string>): Promise<Compressed> {
  const gz = zlib.createGzip();
  const open: Hash = createHash('sha256');
  const closed: Hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let openSize = 0;
  gz.on('data', (c: Buffer) => {
    closed.update(c);
    chunks.push(c);
  });
  const done = new Promise<void>((resolve, reject) => {
    gz.on('end', resolve);
    gz.on('error', reject);
  });
  // Pieces are joined into ~256 KiB writes: each write is one trip to zlib's thread, and one
  // per package cost more than the compression itself.
  let batch: string[] = [];
  let batched = 0;
  const flush = async (): Promise<void> => {
    if (!batch.length) return;
    const b = Buffer.from(batch.join(''), 'utf8');
    batch = [];
    batched = 0;
    open.update(b);
    openSize += b.length;
    // Respect backpressure so a large repository's XML is not all queued at once.
    if (!gz.write(b)) await new Promise<void>((r) => gz.once('drain', r));
  };
  for (const p of pieces) {
    batch.push(p);
    batched += p.length;
    if (batched >= 256 << 10) await flush();
  }
  await flush();
  gz.end();
  await done;
  return {
    data: Buffer.concat(chunks),
    sha256: closed.digest('hex'),
    openSha256: open.digest('hex'),
    openSize,
  };
}

function* document(
  head: string,
  entries: RpmRepodataEntry[],
  each: (e: RpmRepodataEntry) => string,
  tail: string,
): Iterable<string> {
  yield head;
  for (const e of entries) yield each(e);
  yield tail;
}

/**
 * The repodata files for these packages, signed. Entries are written in location order, so the
 * same packages give the same bytes (apart from the revision/timestamp asked for).
 */
export async function buildRpmRepodata(
  entries: RpmRepodataEntry[],
  opts: RpmRepodataOptions,
): Promise<RepodataFile[]> {
  const sorted = [...entries].sort((a, b) =>
    a.location < b.location ? -1 : a.location > b.location ? 1 : 0,
  );
  const seen = new Set<string>();
  for (const e of sorted) {
    if (seen.has(e.location))
      throw new FerryError('INTERNAL', `${e.location} is listed twice in one RPM repository.`, {
        artifact: e.location,
      });
    seen.add(e.location);
    if (!/^[0-9a-f]{64}$/.test(e.sha256))
      throw new FerryError('INTERNAL', `${e.location} has no sha256 to list in primary.xml.`, {
        artifact: e.location,
      });
  }
  const n = sorted.length;
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const revision = opts.revision ?? String(timestamp);

  const parts: Array<{ type: string; name: string; c: Compressed }> = [];
  parts.push({
    type: 'primary',
    name: 'primary.xml.gz',
    c: await gzipPieces(
      document(
        `${XML_HEAD}<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="${n}">\n`,
        sorted,
        primaryPackage,
        '</metadata>\n',
      ),
    ),
  });
  parts.push({
    type: 'filelists',
    name: 'filelists.xml.gz',
    c: await gzipPieces(
      document(
        `${XML_HEAD}<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="${n}">\n`,
        sorted,
        filelistsPackage,
        '</filelists>\n',
      ),
    ),
  });
  parts.push({
    type: 'other',
    name: 'other.xml.gz',
    c: await gzipPieces(
      document(
        `${XML_HEAD}<otherdata xmlns="http://linux.duke.edu/metadata/other" packages="${n}">\n`,
        sorted,
        otherPackage,
        '</otherdata>\n',
      ),
    ),
  });
  if (opts.modules?.trim())
    parts.push({ type: 'modules', name: 'modules.yaml.gz', c: await gzipPieces([opts.modules]) });

  const files: RepodataFile[] = [];
  const repomd = [
    XML_HEAD.trimEnd(),
    '<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">',
    `  <revision>${text(revision)}</revision>`,
  ];
  for (const p of parts) {
    const href = `repodata/${p.c.sha256}-${p.name}`;
    files.push({ path: href, data: p.c.data });
    repomd.push(
      `  <data type="${p.type}">`,
      `    <checksum type="sha256">${p.c.sha256}</checksum>`,
      `    <open-checksum type="sha256">${p.c.openSha256}</open-checksum>`,
      `    <location href="${href}"/>`,
      `    <timestamp>${timestamp}</timestamp>`,
      `    <size>${p.c.data.length}</size>`,
      `    <open-size>${p.c.openSize}</open-size>`,
      '  </data>',
    );
  }
  repomd.push('</repomd>', '');
  const repomdBytes = Buffer.from(repomd.join('\n'), 'utf8');
  files.push({ path: 'repodata/repomd.xml', data: repomdBytes });
  const asc = await opts.signer.detachSign(repomdBytes);
  files.push({ path: 'repodata/repomd.xml.asc', data: Buffer.from(asc, 'utf8') });
  return files;
}
