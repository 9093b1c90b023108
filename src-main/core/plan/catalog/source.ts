import { createReadStream, existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { FerryError, throwIfAborted } from '../../base/errors/index.js';
import { dataDir } from '../../base/config/dirs.js';
import { PyDict, type PyValue } from './jinja/values.js';
import { parseYaml11 } from './yaml11.js';

/** The role data one Kubespray tag defines: everything the download list depends on. */
export interface KubesprayData {
  /** e.g. 'v2.31.0' ('unknown' for a source tree that does not say). */
  tag: string;
  /** 'kubespray_defaults' (v2.28+) or 'kubespray-defaults'. */
  role: string;
  /** Role defaults, files merged in Ansible's sorted order. */
  defaults: PyDict;
  /** Role vars (higher precedence than inventory variables). */
  vars: PyDict;
  /** The role files read, relative to the role folder, in load order. */
  files: string[];
  source: { kind: 'dir' | 'tarball'; path: string; tag?: string };
  /**
   * Variable names the tag defines or documents outside that role: other roles' defaults and vars,
   * the sample inventory (commented-out examples included), and names the read files use
   * optionally (`x | default(…)`, `x is defined`). Only for spotting misspelt variables; a source
   * holding just the role (the shared reference data) has few.
   */
  otherNames?: string[];
  /** Kubespray's preflight task files (validate_inventory, preinstall's verify-settings), verbatim, when the source has them. */
  preflight?: { path: string; text: string }[];
  /**
   * The source is a whole Kubespray tree (a checkout or release tarball: it has the preflight
   * tasks), so `otherNames` covers every role; false for data holding only some roles.
   */
  wholeTree?: boolean;
  /** The tree's top-level requirements.txt (the deploy host's Python packages), when it has one. */
  requirements?: string;
  /**
   * The files that say which OS packages nodes install (preinstall's and system_packages' `pkgs`,
   * the docker role's package data), verbatim by path, for core/kinds/deb/roots.ts.
   */
  osPackageFiles?: Record<string, string>;
}

export interface LoadOptions {
  /** Downloads the tag's tarball (through Ferry's download layer and mirrors) and returns its local path. */
  fetchTarball?: (tag: string, url: string) => Promise<string>;
  signal?: AbortSignal | undefined;
  /** Where tarballs of tags are cached; defaults to <data dir>/cache/kubespray. */
  cacheDir?: string;
  env?: NodeJS.ProcessEnv | undefined;
}

export function tarballUrl(tag: string): string {
  return `https://github.com/kubernetes-sigs/kubespray/archive/refs/tags/${encodeURIComponent(tag)}.tar.gz`;
}

export function tarballBundlePath(tag: string): string {
  return `kubespray/kubespray-${tag}.tar.gz`;
}

export function cachedTarballPath(tag: string, opts: LoadOptions = {}): string {
  return path.join(
    opts.cacheDir ?? path.join(dataDir(opts.env), 'cache', 'kubespray'),
    `kubespray-${tag}.tar.gz`,
  );
}

const TAG_RE = /^v\d+\.\d+\.\d+([-.+][0-9A-Za-z.-]+)?$/;

/**
 * Loads Kubespray's data from a source tree, a release tarball, or a tag (cached tarball, else the
 * injected fetchTarball). The role is `roles/kubespray_defaults` (v2.28+) or
 * `roles/kubespray-defaults`; `defaults/main/` and `vars/main/` folders are read in sorted
 * order, as are single `main.yml` files.
 */
export async function loadKubespray(
  source: { dir?: string; tarball?: string; tag?: string },
  opts: LoadOptions = {},
): Promise<KubesprayData> {
  throwIfAborted(opts.signal);
  if (source.dir) return loadFromDir(source.dir, source.tag);
  if (source.tarball) return loadFromTarball(source.tarball, source.tag, opts.signal);
  if (source.tag) {
    if (!TAG_RE.test(source.tag)) {
      throw new FerryError('USAGE', `'${source.tag}' is not a Kubespray tag (expected e.g. v2.31.0).`, {
        hint: 'Pass a tag like v2.31.0, a Kubespray source folder or a release tarball.',
      });
    }
    const cached = cachedTarballPath(source.tag, opts);
    let file: string;
    if (existsSync(cached)) file = cached;
    else if (opts.fetchTarball) file = await opts.fetchTarball(source.tag, tarballUrl(source.tag));
    else {
      throw new FerryError(
        'NOT_FOUND',
        `Kubespray ${source.tag} is not available offline and no downloader was given.`,
        {
          artifact: tarballUrl(source.tag),
          hint: `Download ${tarballUrl(source.tag)} and pass it with --kubespray FILE.tar.gz, or point --kubespray at a Kubespray source folder.`,
        },
      );
    }
    const data = await loadFromTarball(file, source.tag, opts.signal);
    return data;
  }
  throw new FerryError('USAGE', 'No Kubespray source given.', {
    hint: 'Pass --kubespray TAG|DIR|TARBALL or set `kubespray:` in the profile.',
  });
}

const ROLE_FILE = /^roles\/(kubespray[-_]defaults)\/(defaults|vars)\/(main(?:\/.+|\.ya?ml|\.json)?)$/;
const VAR_EXT = /(\.ya?ml|\.json)$/;
/** Any other role's defaults or vars (roles/container-engine/docker/defaults/main.yml, …). */
const OTHER_ROLE_FILE = /^roles\/(.+?)\/(defaults|vars)\/(?:.+\/)?[^/]+\.ya?ml$/;
const SAMPLE_INVENTORY_FILE = /^inventory\/sample\/group_vars\/.+\.ya?ml$/;
/** Where Kubespray asserts its enumerated settings: validate_inventory from v2.28, preinstall before. */
const PREFLIGHT_FILE =
  /^roles\/(?:validate_inventory\/tasks\/main\.ya?ml|kubernetes\/preinstall\/tasks\/[^/]*verify-settings\.ya?ml)$/;

/** What a source holds besides the role: names for the misspelling check and the preflight asserts. */
interface Extras {
  names: Set<string>;
  preflight: { path: string; text: string }[];
  osPackages: Map<string, string>;
}

function newExtras(): Extras {
  return { names: new Set(), preflight: [], osPackages: new Map() };
}

const OS_PACKAGE_FILE =
  /^roles\/(kubernetes\/preinstall\/vars|system_packages\/vars|container-engine\/docker\/(defaults|vars))\/[^/]+\.ya?ml$/;

const TOP_KEY = /^([A-Za-z_][A-Za-z0-9_]*)[ \t]*:(?=\s|$)/gm;
const COMMENTED_KEY = /^#[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*:(?=\s|$)/gm;
const OPTIONAL_USE =
  /\b([A-Za-z_][A-Za-z0-9_]*)\s*\|\s*(?:default|d)\s*\(|\b([A-Za-z_][A-Za-z0-9_]*)\s+is\s+(?:not\s+)?defined\b/g;

/**
 * Collects names from a file's text with patterns, not a YAML parse: only names are wanted, and
 * a file Ferry's YAML reader would refuse must not stop a plan. Top-level keys are the variables
 * a file defines; the sample inventory documents most of its variables commented out.
 */
function addNames(x: Extras, rel: string, text: string): void {
  const add = (re: RegExp) => {
    for (const m of text.matchAll(re)) {
      const name = m[1] ?? m[2];
      if (name) x.names.add(name);
    }
  };
  if (OTHER_ROLE_FILE.test(rel) || SAMPLE_INVENTORY_FILE.test(rel) || ROLE_FILE.test(rel)) add(TOP_KEY);
  if (SAMPLE_INVENTORY_FILE.test(rel)) add(COMMENTED_KEY);
  add(OPTIONAL_USE);
}

function wantsExtra(rel: string): boolean {
  return OTHER_ROLE_FILE.test(rel) || SAMPLE_INVENTORY_FILE.test(rel) || PREFLIGHT_FILE.test(rel);
}

function addExtra(x: Extras, rel: string, text: string): void {
  if (PREFLIGHT_FILE.test(rel)) x.preflight.push({ path: rel, text });
  if (OS_PACKAGE_FILE.test(rel)) x.osPackages.set(rel, text);
  addNames(x, rel, text);
}

function roleFileOrder(
  files: { role: string; kind: string; rel: string }[],
  kind: string,
): { role: string; rel: string }[] {
  const mine = files.filter((f) => f.kind === kind);
  // Ansible prefers the main/ folder and reads it recursively in sorted order; a lone main.yml otherwise.
  const inDir = mine.filter(
    (f) => f.rel.startsWith('main/') && VAR_EXT.test(f.rel) && !path.basename(f.rel).startsWith('.'),
  );
  if (inDir.length) return inDir.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  for (const name of ['main.yml', 'main.yaml', 'main.json', 'main']) {
    const f = mine.find((x) => x.rel === name);
    if (f) return [f];
  }
  return [];
}

function assemble(
  entries: { role: string; kind: string; rel: string; text: string }[],
  where: string,
  tag: string,
  src: KubesprayData['source'],
  extras: Extras = newExtras(),
): KubesprayData {
  if (!entries.length) {
    throw new FerryError(
      'NOT_FOUND',
      `${where} does not contain roles/kubespray_defaults (or roles/kubespray-defaults).`,
      {
        artifact: where,
        hint: 'Point Ferry at the top folder of a Kubespray checkout or at a Kubespray release tarball.',
      },
    );
  }
  const roles = [...new Set(entries.map((e) => e.role))];
  const role = roles.includes('kubespray_defaults') ? 'kubespray_defaults' : roles[0];
  const mine = entries.filter((e) => e.role === role);
  const layer = (kind: string): { dict: PyDict; files: string[] } => {
    const dict = new PyDict();
    const files: string[] = [];
    for (const f of roleFileOrder(mine, kind)) {
      const e = mine.find((x) => x.kind === kind && x.rel === f.rel)!;
      const rel = `roles/${role}/${kind}/${f.rel}`;
      const value = parseYaml11(e.text, `${where}: ${rel}`);
      if (value === null) continue;
      if (!(value instanceof PyDict)) {
        throw new FerryError('CONFIG', `${rel} is not a map of variables.`, { artifact: rel });
      }
      for (const [k, v] of value.entries()) dict.set(k, v);
      files.push(`${kind}/${f.rel}`);
    }
    return { dict, files };
  };
  const d = layer('defaults');
  const v = layer('vars');
  if (!d.dict.has('downloads')) {
    throw new FerryError('CONFIG', `${where}: roles/${role}/defaults does not define 'downloads'.`, {
      artifact: where,
      hint: 'Ferry supports Kubespray v2.26 and later, where the download list lives in the kubespray defaults role.',
    });
  }
  for (const e of mine) addNames(extras, `roles/${role}/${e.kind}/${e.rel}`, e.text);
  extras.preflight.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    tag,
    role,
    defaults: d.dict,
    vars: v.dict,
    files: [...d.files, ...v.files],
    source: src,
    otherNames: [...extras.names].sort(),
    preflight: extras.preflight,
    wholeTree: extras.preflight.length > 0,
    osPackageFiles: Object.fromEntries([...extras.osPackages].sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

async function walk(dir: string, base = ''): Promise<string[]> {
  const out: string[] = [];
  let ents;
  try {
    ents = await fs.readdir(path.join(dir, base), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of ents) {
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(dir, rel)));
    else out.push(rel);
  }
  return out;
}

async function loadFromDir(dir: string, tag?: string): Promise<KubesprayData> {
  const root = path.resolve(dir);
  const st = await fs.stat(root).catch(() => null);
  if (!st?.isDirectory()) {
    throw new FerryError('NOT_FOUND', `Kubespray folder ${root} does not exist.`, { artifact: root });
  }
  const entries: { role: string; kind: string; rel: string; text: string }[] = [];
  for (const role of ['kubespray_defaults', 'kubespray-defaults']) {
    for (const kind of ['defaults', 'vars']) {
      const base = `roles/${role}/${kind}`;
      for (const rel of await walk(root, base)) {
        const m = ROLE_FILE.exec(rel);
        if (!m) continue;
        entries.push({ role, kind, rel: m[3], text: await fs.readFile(path.join(root, rel), 'utf8') });
      }
    }
  }
  const extras = newExtras();
  for (const base of ['roles', 'inventory/sample/group_vars']) {
    for (const rel of await walk(root, base)) {
      if (ROLE_FILE.test(rel) || !wantsExtra(rel)) continue;
      addExtra(extras, rel, await fs.readFile(path.join(root, rel), 'utf8'));
    }
  }
  const found = tag ?? (await tagOfTree(root));
  const data = assemble(entries, root, found, { kind: 'dir', path: root, tag: found }, extras);
  const requirements = await fs.readFile(path.join(root, 'requirements.txt'), 'utf8').catch(() => undefined);
  return requirements === undefined ? data : { ...data, requirements };
}

async function tagOfTree(root: string): Promise<string> {
  // A Kubespray checkout carries galaxy.yml with its version; the shared reference data is kept in
  // folders named after the tag.
  const galaxy = await fs.readFile(path.join(root, 'galaxy.yml'), 'utf8').catch(() => '');
  const m = /^version:\s*["']?([0-9][^\s"']*)/m.exec(galaxy);
  if (m) return `v${m[1]}`;
  const base = path.basename(root);
  if (TAG_RE.test(base)) return base;
  const k = /^kubespray-(\d+\.\d+\.\d+.*)$/.exec(base);
  return k ? `v${k[1]}` : 'unknown';
}

/** Streams a release tarball and keeps only the role's files (a few hundred KB of YAML). */
async function loadFromTarball(
  file: string,
  tag: string | undefined,
  signal?: AbortSignal,
): Promise<KubesprayData> {
  const abs = path.resolve(file);
  const st = await fs.stat(abs).catch(() => null);
  if (!st?.isFile())
    throw new FerryError('NOT_FOUND', `Kubespray tarball ${abs} does not exist.`, { artifact: abs });
  const entries: { role: string; kind: string; rel: string; text: string }[] = [];
  let top: string | undefined;
  let galaxy = '';
  let requirements: string | undefined;
  const extras = newExtras();
  const pending: Promise<void>[] = [];
  const collect = (entry: ReadEntry, onText: (t: string) => void) => {
    const chunks: Buffer[] = [];
    pending.push(
      new Promise<void>((resolve, reject) => {
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => {
          onText(Buffer.concat(chunks).toString('utf8'));
          resolve();
        });
        entry.on('error', reject);
      }),
    );
  };
  const parser = new Parser({
    onReadEntry: (entry: ReadEntry) => {
      const p = entry.path.replace(/^\.\//, '');
      const parts = p.split('/');
      // Tolerate both layouts: kubespray-2.31.0/roles/… (GitHub archives) and roles/… at the top.
      const inner = parts[0] === 'roles' ? p : parts.slice(1).join('/');
      if (parts[0] !== 'roles' && !top && parts.length > 1) top = parts[0];
      const m = entry.type === 'File' ? ROLE_FILE.exec(inner) : null;
      if (m) {
        collect(entry, (text) => entries.push({ role: m[1], kind: m[2], rel: m[3], text }));
        return;
      }
      if (entry.type === 'File' && wantsExtra(inner)) {
        collect(entry, (text) => addExtra(extras, inner, text));
        return;
      }
      if (entry.type === 'File' && (inner === 'requirements.txt' || p === 'requirements.txt')) {
        collect(entry, (text) => (requirements = text));
        return;
      }
      if (entry.type === 'File' && (inner === 'galaxy.yml' || p === 'galaxy.yml')) {
        collect(entry, (text) => (galaxy = text));
        return;
      }
      entry.resume();
    },
  });
  await new Promise<void>((resolve, reject) => {
    const rs = createReadStream(abs);
    const onAbort = () => rs.destroy(new FerryError('CANCELLED', 'Cancelled.'));
    signal?.addEventListener('abort', onAbort, { once: true });
    rs.on('error', reject);
    parser.on('error', (err: Error) =>
      reject(
        new FerryError('INTEGRITY', `${abs} is not a readable tar archive: ${err.message}`, {
          artifact: abs,
          cause: err,
        }),
      ),
    );
    parser.on('end', () => resolve());
    rs.pipe(parser);
  }).finally(() => undefined);
  await Promise.all(pending);
  throwIfAborted(signal);
  const g = /^version:\s*["']?([0-9][^\s"']*)/m.exec(galaxy);
  const found =
    tag ??
    (g
      ? `v${g[1]}`
      : top && /^kubespray-(\d.*)$/.test(top)
        ? `v${top.replace(/^kubespray-/, '')}`
        : 'unknown');
  const data = assemble(entries, abs, found, { kind: 'tarball', path: abs, tag: found }, extras);
  return requirements === undefined ? data : { ...data, requirements };
}

/** Every variable name the tag's role defines (defaults and vars). */
export function roleVariableNames(data: KubesprayData): string[] {
  const names = new Set<string>();
  for (const k of data.defaults.keys()) names.add(String(k));
  for (const k of data.vars.keys()) names.add(String(k));
  return [...names];
}

export type { PyValue };
