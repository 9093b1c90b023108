import { createHash } from 'node:crypto';
import { FerryError } from '../../base/errors/index.js';
import type { IndexClient, IndexFile } from './index-client.js';
import { markerHolds, parseRequirement, type Requirement } from './markers.js';
import { parseCoreMetadata } from './metadata.js';
import {
  compareVersions,
  isPrerelease,
  isVersion,
  normalizeName,
  satisfiesSpec,
  specAllowsPrereleases,
} from './pep440.js';
import type { ResolvedWheel, ResolvedWheelSet } from './set.js';
import { parseSdistFilename, parseWheelFilename, TagRanking } from './tags.js';
import type { PythonTarget } from './targets.js';

/**
 * Kubespray's requirements (and the user's extras) → one pinned file per distribution for one
 * deploy-host target, the way pip would choose on that host: for each project the highest
 * version that satisfies every specifier collected so far, is not yanked, whose Requires-Python
 * admits the target's Python, and that has a wheel for the target (the best by `packaging.tags`
 * priority; an sdist only when the user allows it); then its Requires-Dist, with markers
 * evaluated for the target. Kubespray pins everything with `==`, so a worklist suffices; a later
 * specifier that the chosen version violates restarts the walk with that specifier learned
 * (backtracking only on conflict).
 */

export interface ResolveOptions {
  index: IndexClient;
  /** sdists are errors unless allowed: true for every project, or a list of names. */
  allowSdist?: boolean | string[] | undefined;
}

export interface RequirementLine {
  line: string;
  why: string;
}

interface Choice {
  file: IndexFile;
  version: string;
  metadataText?: string;
  sdist: boolean;
}

interface Candidate {
  version: string;
  files: IndexFile[];
}

const MAX_RESTARTS = 50;
export const SAFE_FILENAME = /^[A-Za-z0-9][A-Za-z0-9._+!-]*$/;

class Conflict extends Error {
  constructor(
    readonly project: string,
    readonly spec: string,
    readonly from: string,
  ) {
    super(`conflict on ${project}`);
  }
}

function targetName(t: PythonTarget): string {
  return `Python ${t.python} ${t.arch} glibc ${t.glibc}`;
}

/** Versions on the index, newest first, each with its files (yanked ones left out). */
function candidates(files: IndexFile[], project: string): Candidate[] {
  const byVersion = new Map<string, Candidate>();
  for (const f of files) {
    // One portable path segment (it becomes python/files/<filename>); anything else is not a distribution.
    if (f.yanked || !SAFE_FILENAME.test(f.filename)) continue;
    const w = parseWheelFilename(f.filename) ?? parseSdistFilename(f.filename);
    if (!w || w.project !== project || !isVersion(w.version)) continue;
    const key = [...byVersion.keys()].find((k) => compareVersions(k, w.version) === 0) ?? w.version;
    const c = byVersion.get(key) ?? { version: key, files: [] };
    c.files.push(f);
    byVersion.set(key, c);
  }
  return [...byVersion.values()].sort((a, b) => compareVersions(b.version, a.version));
}

export async function resolveWheels(
  requirements: RequirementLine[],
  target: PythonTarget & { os?: string },
  opts: ResolveOptions,
): Promise<ResolvedWheelSet> {
  const roots = requirements.map((r) => ({ ...r, req: parseRequirement(r.line, r.why) }));
  const learned: Array<{ project: string; spec: string; from: string }> = [];
  for (let attempt = 0; ; attempt++) {
    try {
      const wheels = await resolveOnce(roots, target, opts, learned);
      return {
        target: {
          python: target.python,
          arch: target.arch,
          glibc: target.glibc,
          ...(target.os ? { os: target.os } : {}),
        },
        indexes: opts.index.opts.indexes,
        requirements: requirements.map((r) => ({ line: r.line, why: r.why })),
        wheels,
      };
    } catch (err) {
      if (!(err instanceof Conflict) || attempt >= MAX_RESTARTS) throw err;
      learned.push({ project: err.project, spec: err.spec, from: err.from });
    }
  }
}

async function resolveOnce(
  roots: Array<RequirementLine & { req: Requirement }>,
  target: PythonTarget,
  opts: ResolveOptions,
  learned: Array<{ project: string; spec: string; from: string }>,
): Promise<ResolvedWheel[]> {
  const tags = new TagRanking(target);
  const python = `${target.python}.0`;
  const constraints = new Map<string, Array<{ spec: string; from: string }>>();
  const extras = new Map<string, Set<string>>();
  /** Every reason a project is in the set, first one first (roots before dependencies). */
  const why = new Map<string, string[]>();
  const display = new Map<string, string>();
  const chosen = new Map<string, Choice>();
  /** Extras whose Requires-Dist were already followed, per project. */
  const followed = new Map<string, Set<string>>();
  const queue: string[] = [];

  for (const l of learned) {
    const c = constraints.get(l.project) ?? [];
    c.push({ spec: l.spec, from: l.from });
    constraints.set(l.project, c);
  }

  const add = (req: Requirement, from: string, parentExtras: Iterable<string>) => {
    if (!markerHolds(req.marker, target, parentExtras)) return;
    const c = constraints.get(req.name) ?? [];
    c.push({ spec: req.specifier, from });
    constraints.set(req.name, c);
    const ex = extras.get(req.name) ?? new Set<string>();
    for (const e of req.extras) ex.add(e);
    extras.set(req.name, ex);
    const reasons = why.get(req.name) ?? [];
    if (!reasons.includes(from)) reasons.push(from);
    why.set(req.name, reasons);
    if (!display.has(req.name)) display.set(req.name, req.display);
    const have = chosen.get(req.name);
    if (have && !satisfiesSpec(have.version, req.specifier, true))
      throw new Conflict(req.name, req.specifier, from);
    queue.push(req.name);
  };

  for (const r of roots) add(r.req, r.why, []);

  while (queue.length) {
    const name = queue.shift()!;
    let choice = chosen.get(name);
    if (!choice) {
      choice = await choose(name, constraints.get(name) ?? [], target, tags, python, opts);
      chosen.set(name, choice);
    }
    const want = extras.get(name) ?? new Set<string>();
    const done = followed.get(name);
    if (done && [...want].every((e) => done.has(e))) continue;
    followed.set(name, new Set(want));
    const meta = parseCoreMetadata(choice.metadataText ?? '', choice.file.filename);
    for (const line of meta.requiresDist) {
      const dep = parseRequirement(line, `Requires-Dist of ${choice.file.filename}`);
      add(dep, `Requires-Dist of ${display.get(name) ?? name} ${choice.version}: ${line}`, want);
    }
  }

  return [...chosen.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([project, c]) => {
      const f = c.file;
      const metaSha =
        f.coreMetadata && f.coreMetadata.sha256
          ? f.coreMetadata.sha256
          : f.coreMetadata && c.metadataText !== undefined
            ? createHash('sha256').update(c.metadataText).digest('hex')
            : undefined;
      return {
        project,
        version: c.version,
        filename: f.filename,
        url: f.url,
        sha256: f.sha256,
        ...(f.size !== undefined ? { size: f.size } : {}),
        ...(f.requiresPython ? { requiresPython: f.requiresPython } : {}),
        ...(metaSha ? { metadataSha256: metaSha } : {}),
        why: (why.get(project) ?? []).join('; also ') + (c.sdist ? ' (sdist: allowed by the user)' : ''),
      } satisfies ResolvedWheel;
    });
}

function sdistAllowed(opts: ResolveOptions, project: string): boolean {
  const a = opts.allowSdist;
  return a === true || (Array.isArray(a) && a.map(normalizeName).includes(project));
}

async function choose(
  name: string,
  specs: Array<{ spec: string; from: string }>,
  target: PythonTarget,
  tags: TagRanking,
  python: string,
  opts: ResolveOptions,
): Promise<Choice> {
  const page = await opts.index.project(name);
  const all = candidates(page.files, name);
  const pre = specs.some((s) => specAllowsPrereleases(s.spec));
  const matching = (allowPre: boolean) =>
    all.filter(
      (c) =>
        (allowPre || !isPrerelease(c.version)) && specs.every((s) => satisfiesSpec(c.version, s.spec, true)),
    );
  // packaging's filter: pre-releases only when asked, or when nothing final matches.
  let versions = matching(pre);
  if (!versions.length && !pre) versions = matching(true);
  const wanted = specs.map((s) => `${s.spec || '(any)'} from ${s.from}`).join('; ');
  if (!versions.length) {
    throw new FerryError(
      'NOT_FOUND',
      `No version of ${name} satisfies ${wanted} (the index has ${
        all
          .map((c) => c.version)
          .slice(0, 10)
          .join(', ') || 'none'
      }).`,
      {
        artifact: name,
        hint: 'Check the requirement, or point Ferry at an index that publishes that version.',
      },
    );
  }
  let firstMiss: { version: string; why: string } | undefined;
  for (const c of versions) {
    const usable = c.files.filter((f) => !f.requiresPython || satisfiesSpec(python, f.requiresPython, true));
    if (!usable.length) {
      firstMiss ??= { version: c.version, why: `its files need Python ${c.files[0]?.requiresPython}` };
      continue;
    }
    let best: { f: IndexFile; rank: number; build: number } | undefined;
    for (const f of usable) {
      const rank = tags.of(f.filename);
      if (rank === undefined) continue;
      const build = Number(/^(\d+)/.exec(parseWheelFilename(f.filename)?.build ?? '')?.[1] ?? -1);
      if (!best || rank < best.rank || (rank === best.rank && build > best.build)) best = { f, rank, build };
    }
    let file = best?.f;
    let sdist = false;
    if (!file) {
      const sd = usable.find((f) => parseSdistFilename(f.filename));
      if (sd && sdistAllowed(opts, name)) {
        file = sd;
        sdist = true;
      } else {
        firstMiss ??= {
          version: c.version,
          why: sd
            ? 'only an sdist is published for it (allow sdists to take it)'
            : 'it has no wheel for this platform',
        };
        continue;
      }
    }
    const metadataText = await opts.index.metadata(file);
    const meta = parseCoreMetadata(metadataText, file.filename);
    if (normalizeName(meta.name) !== name || compareVersions(meta.version, c.version) !== 0) {
      throw new FerryError(
        'INTEGRITY',
        `${file.filename}'s metadata names ${meta.name} ${meta.version}, not ${name} ${c.version}.`,
        {
          artifact: file.filename,
          hint: 'The index serves inconsistent files; report it to whoever runs the index.',
        },
      );
    }
    if (meta.requiresPython && !satisfiesSpec(python, meta.requiresPython, true)) {
      firstMiss ??= { version: c.version, why: `its metadata needs Python ${meta.requiresPython}` };
      continue;
    }
    return { file, version: c.version, metadataText, sdist };
  }
  const miss = firstMiss!;
  throw new FerryError(
    'NOT_FOUND',
    `${name} ${miss.version} has no compatible wheel for ${targetName(target)}: ${miss.why}.`,
    {
      artifact: `${name} ${miss.version}`,
      details: { project: name, version: miss.version, target },
      hint: `Choose a deploy-host target ${name} publishes wheels for (another Python, architecture or glibc), or allow an sdist for ${name} (--allow-sdist ${name}), which the deploy host must then build.`,
    },
  );
}
