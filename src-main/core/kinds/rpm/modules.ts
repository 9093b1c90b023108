/**
 * AppStream's module metadata (`modules.yaml`: modulemd v2 and modulemd-defaults documents).
 * dnf filters packages by it: a modular package is visible only when its stream is active
 * (the module's default stream, or one the user enabled), and a non-modular package is hidden
 * when an active stream ships a package of the same name. The resolver applies the same rule,
 * and the carried repository gets the documents of the streams it uses, verbatim, so dnf on the
 * node sees the same thing.
 */
import YAML from 'yaml';
import { FerryError } from '../../base/errors/index.js';
import type { RpmPackage } from './package.js';

export interface ModuleStream {
  module: string;
  stream: string;
  version: number;
  context: string;
  arch: string;
  /** artifacts.rpms, as NEVRAs 'name-epoch:version-release.arch'. */
  artifacts: string[];
  /** The document's text, '---' to '...', as published. */
  text: string;
}

export interface ModuleIndex {
  streams: ModuleStream[];
  /** Per module: its default stream (absent when the defaults name none) and the document text. */
  defaults: Map<string, { stream?: string; text: string }>;
}

/** 'name-epoch:version-release.arch', the form modulemd artifacts use (epoch always present). */
export function nevraOf(p: Pick<RpmPackage, 'name' | 'epoch' | 'version' | 'release' | 'arch'>): string {
  return `${p.name}-${p.epoch}:${p.version}-${p.release}.${p.arch}`;
}

/** The name of a NEVRA (everything before the version's '-'). */
export function nameOfNevra(nevra: string): string {
  const noArch = nevra.slice(0, nevra.lastIndexOf('.'));
  const rel = noArch.lastIndexOf('-');
  const ver = noArch.lastIndexOf('-', rel - 1);
  return ver > 0 ? noArch.slice(0, ver) : noArch;
}

/** Normalises an artifact NEVRA to always carry its epoch ('foo-1.0-1.x86_64' → 'foo-0:1.0-1.x86_64'). */
function normaliseNevra(nevra: string): string {
  const dot = nevra.lastIndexOf('.');
  const noArch = nevra.slice(0, dot);
  const rel = noArch.lastIndexOf('-');
  const ver = noArch.lastIndexOf('-', rel - 1);
  if (ver < 0) return nevra;
  const v = noArch.slice(ver + 1, rel);
  return v.includes(':') ? nevra : `${noArch.slice(0, ver)}-0:${v}${nevra.slice(rel)}`;
}

/** Splits a YAML stream into its documents' texts (each from '---' to '...' inclusive). */
function splitDocuments(text: string): string[] {
  const out: string[] = [];
  let cur: string[] | undefined;
  for (const line of text.split('\n')) {
    if (/^---(\s|$)/.test(line)) {
      if (cur && cur.some((l) => l.trim() !== '')) out.push([...cur, '...'].join('\n'));
      cur = ['---'];
      const rest = line.slice(3).trim();
      if (rest) cur.push(rest);
    } else if (/^\.\.\.\s*$/.test(line)) {
      if (cur) out.push([...cur, '...'].join('\n'));
      cur = undefined;
    } else if (cur) cur.push(line);
    else if (line.trim() !== '' && !line.startsWith('#') && !line.startsWith('%')) cur = ['---', line];
  }
  if (cur && cur.length > 1) out.push([...cur, '...'].join('\n'));
  return out;
}

/**
 * Parses modules.yaml. Unknown documents (modulemd-obsoletes, translations) are skipped;
 * a document that is not YAML, or a modulemd without name/stream, is a FerryError naming `source`.
 */
export function parseModules(text: string, source = 'modules.yaml'): ModuleIndex {
  const streams: ModuleStream[] = [];
  const defaults = new Map<string, { stream?: string; text: string }>();
  for (const doc of splitDocuments(text)) {
    let v: { document?: unknown; data?: Record<string, unknown> };
    try {
      v = YAML.parse(doc) as typeof v;
    } catch (e) {
      throw new FerryError('INTEGRITY', `${source}: a document is not valid YAML (${(e as Error).message})`, {
        artifact: source,
        hint: 'the mirror served damaged module metadata; refresh it or use another mirror',
        cause: e,
      });
    }
    if (!v || typeof v !== 'object' || !v.data) continue;
    const d = v.data;
    if (v.document === 'modulemd') {
      if (d.name === undefined || d.stream === undefined) {
        throw new FerryError('INTEGRITY', `${source}: a modulemd document has no name or stream`, {
          artifact: source,
        });
      }
      const rpms = (d.artifacts as { rpms?: unknown } | undefined)?.rpms;
      streams.push({
        module: String(d.name),
        stream: String(d.stream),
        version: Number(d.version ?? 0),
        context: String(d.context ?? ''),
        arch: String(d.arch ?? ''),
        artifacts: Array.isArray(rpms) ? rpms.map((r) => normaliseNevra(String(r))) : [],
        text: doc,
      });
    } else if (v.document === 'modulemd-defaults' && d.module !== undefined) {
      defaults.set(String(d.module), {
        ...(d.stream !== undefined ? { stream: String(d.stream) } : {}),
        text: doc,
      });
    }
  }
  return { streams, defaults };
}

/**
 * The streams dnf treats as active for `arch`: each module's default stream, or the one
 * `enabled` names, keeping only the latest version per context (what libdnf selects).
 */
export function activeStreams(
  index: ModuleIndex,
  arch: string,
  enabled: Record<string, string> = {},
): ModuleStream[] {
  const want = new Map<string, string>();
  for (const [m, d] of index.defaults) if (d.stream !== undefined) want.set(m, d.stream);
  for (const [m, s] of Object.entries(enabled)) want.set(m, s);
  const latest = new Map<string, ModuleStream>();
  for (const s of index.streams) {
    if (want.get(s.module) !== s.stream) continue;
    if (s.arch && s.arch !== arch && s.arch !== 'noarch') continue;
    const key = `${s.module}:${s.stream}:${s.context}`;
    const cur = latest.get(key);
    if (!cur || s.version > cur.version) latest.set(key, s);
  }
  return [...latest.values()];
}

/**
 * dnf's modular filter as a predicate: true for a package dnf would not show. Modular packages
 * (listed in any stream) are visible only through an active stream; non-modular packages whose
 * name an active stream ships are hidden behind it.
 */
export function modularFilter(
  index: ModuleIndex,
  arch: string,
  enabled: Record<string, string> = {},
): { hidden(p: RpmPackage): boolean; modular(p: RpmPackage): boolean } {
  const allModular = new Set<string>();
  for (const s of index.streams) for (const a of s.artifacts) allModular.add(a);
  const visible = new Set<string>();
  const shadowedNames = new Set<string>();
  for (const s of activeStreams(index, arch, enabled)) {
    for (const a of s.artifacts) {
      if (a.endsWith('.src')) continue;
      visible.add(a);
      shadowedNames.add(nameOfNevra(a));
    }
  }
  return {
    modular: (p) => allModular.has(nevraOf(p)),
    hidden: (p) => {
      const n = nevraOf(p);
      if (allModular.has(n)) return !visible.has(n);
      return shadowedNames.has(p.name);
    },
  };
}

/**
 * The module metadata a carried repository needs: the modulemd documents of every stream that
 * ships one of `usedNevras`, followed by those modules' modulemd-defaults, verbatim. '' when
 * nothing used is modular.
 */
export function modulesFor(index: ModuleIndex, usedNevras: Iterable<string>): string {
  const used = new Set<string>();
  for (const n of usedNevras) used.add(normaliseNevra(n));
  const docs: string[] = [];
  const modules = new Set<string>();
  for (const s of index.streams) {
    if (s.artifacts.some((a) => used.has(a))) {
      docs.push(s.text);
      modules.add(s.module);
    }
  }
  for (const m of modules) {
    const d = index.defaults.get(m);
    if (d) docs.push(d.text);
  }
  return docs.length ? docs.join('\n') + '\n' : '';
}
