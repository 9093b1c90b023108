import { createHash } from 'node:crypto';
import type { CarryContext } from '../kind.js';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { FerryError, toErrorValue, type ErrorValue } from '../../base/errors/index.js';
import type { Artifact, DebArtifact } from '../../bundle/manifest.js';
import { ensureRepoSigner, type RepoSigner } from '../../bundle/keys/repo-key.js';
import { discardPartial, downloadToFile } from '../../fetch/download/download-file.js';
import { Limiter } from '../../fetch/download/limit.js';
import { mirrorUrl } from '../../fetch/download/mirrors.js';
import { readDebControl } from './control.js';
import { debKind } from './kind.js';
import { PRESTEP_FILE, prestepPlaybook } from './prestep.js';
import { writeAptRepo, type RepoPackage } from './repo.js';
import { ResolvedDebSetSchema, type ResolvedDeb, type ResolvedDebSet } from './set.js';

/**
 * ResolvedDebSet → apt repositories in the bundle. Every .deb goes through Ferry's download layer
 * (mirrors, proxy, resume, retries) and is checked against the sha256 and size of its signed
 * Packages stanza while it streams; only then is it renamed to repos/<os>/pool/…. A file several
 * OSes share (same pool path, same sha256) is stored once, under the first OS that has it, and
 * the others' `deb` artifacts name that path (serve publishes it under each OS's URL). When every
 * .deb is in, each OS gets its own signed repository (repo.ts) and a `repo` artifact.
 */

/** The plan's OS package sets: plan.json's `debs`, one ResolvedDebSet per target OS. */
export function debSetsOf(plan: unknown): ResolvedDebSet[] {
  const raw = (plan as { debs?: unknown } | null)?.debs;
  if (raw === undefined) return [];
  const r = z.array(ResolvedDebSetSchema).safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new FerryError(
      'USAGE',
      `The plan's debs are not resolved package sets: debs.${i.path.join('.')}: ${i.message}.`,
      {
        hint: "Make the plan again with 'ferry plan'.",
      },
    );
  }
  const seen = new Set<string>();
  for (const s of r.data) {
    if (seen.has(s.os))
      throw new FerryError('USAGE', `The plan lists the OS ${s.os} twice under debs.`, {
        hint: "Make the plan again with 'ferry plan'.",
      });
    seen.add(s.os);
  }
  return r.data;
}

export const debArtifactId = (os: string, p: { package: string; version: string; arch: string }): string =>
  `deb:${os}/${p.package}_${p.version}_${p.arch}`;
export const repoArtifactId = (os: string): string => `repo:apt/${os}`;

/** Where a package's file lives in its OS repository (pool/ kept, anything else put under it). */
export function poolPath(os: string, filename: string): string {
  const f = filename.replace(/^\/+/, '');
  return `repos/${os}/${f.startsWith('pool/') ? f : `pool/${f}`}`;
}

/** The part of a repos/<os>/… path below the OS folder: what the stanza's Filename says. */
export function repoRelative(p: string): string {
  return p.split('/').slice(2).join('/');
}

/** The Ubuntu/Debian codename a set's repository is named by: its first suite without the pocket. */
export function suiteOf(set: ResolvedDebSet): string {
  return set.sources[0].suite.replace(/-(updates|security|backports|proposed)$/, '');
}

const isDocker = (p: ResolvedDeb): boolean => /(^|\/\/)download\.docker\.com\//.test(p.uri);

/** What the carry hook lends (CarryContext; onItem is per package), with the signer chosen. */
export interface DebFetchOptions extends Pick<
  CarryContext,
  'client' | 'writer' | 'mirrors' | 'signal' | 'concurrency' | 'onBytes' | 'onItem'
> {
  signer: RepoSigner;
  /** Repository Date (tests pin it). */
  date?: Date;
}

export interface DebFetchResult {
  present: number;
  fetched: number;
  removed: number;
  failures: Array<{ id: string; name: string; error: ErrorValue }>;
}

async function md5File(file: string): Promise<string> {
  const h = createHash('md5');
  for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return h.digest('hex');
}

export async function fetchDebSets(sets: ResolvedDebSet[], o: DebFetchOptions): Promise<DebFetchResult> {
  const w = o.writer;
  const result: DebFetchResult = { present: 0, fetched: 0, removed: 0, failures: [] };
  interface Job {
    set: ResolvedDebSet;
    p: ResolvedDeb;
    id: string;
    path: string;
    url: string;
  }
  // Plan every file: one job per (os, package), one stored path per distinct file.
  const jobs: Job[] = [];
  const bySha = new Map<string, string>();
  for (const a of w.listArtifacts()) if (a.kind === 'deb') bySha.set(a.sha256, a.paths[0]);
  const stored = new Map<string, { sha256: string; first: Job }>();
  for (const set of sets) {
    const ids = new Set<string>();
    for (const p of set.packages) {
      const id = debArtifactId(set.os, p);
      if (ids.has(id)) continue;
      ids.add(id);
      const own = poolPath(set.os, p.filename);
      // The same file under the same pool path in an OS stored earlier: share that copy.
      const earlier = bySha.get(p.sha256);
      const shared = earlier && repoRelative(earlier) === repoRelative(own) ? earlier : undefined;
      const at = shared ?? own;
      const have = stored.get(at);
      if (have && have.sha256 !== p.sha256)
        throw new FerryError(
          'INTEGRITY',
          `${set.os}: ${p.package} ${p.version} and ${have.first.p.package} ${have.first.p.version} both want ${at} with different contents.`,
          { artifact: at, hint: "Make the plan again with 'ferry plan'." },
        );
      const job = { set, p, id, path: at, url: `${p.uri.replace(/\/+$/, '')}/${p.filename}` };
      if (!have) stored.set(at, { sha256: p.sha256, first: job });
      bySha.set(p.sha256, at);
      jobs.push(job);
    }
  }
  // Artifacts of OSes or versions the plan no longer names go; dropUnreferenced removes their files.
  const wanted = new Set([...jobs.map((j) => j.id), ...sets.map((s) => repoArtifactId(s.os))]);
  for (const a of w.listArtifacts()) {
    if ((a.kind === 'deb' || (a.kind === 'repo' && a.format === 'apt')) && !wanted.has(a.id)) {
      await w.removeArtifact(a.id);
      result.removed++;
    }
  }

  const limit = new Limiter(o.concurrency);
  const inflight = new Map<string, Promise<void>>();
  const fetchFile = (j: Job): Promise<void> => {
    let run = inflight.get(j.path);
    if (!run) {
      run = (async () => {
        // A reopened finished bundle lists its files from the manifest: check the disk as well.
        const f = w.file(j.path);
        if (f && f.sha256 === j.p.sha256 && f.size === j.p.size && (await sizeIs(w.dir, j.path, j.p.size)))
          return;
        await limit.run(async () => {
          const tmp = w.resumePath(j.url);
          o.onItem?.({ id: j.id, name: `${j.set.os} ${j.p.package} ${j.p.version}`, status: 'started' });
          const r = await downloadToFile(o.client, {
            url: mirrorUrl(j.url, o.mirrors),
            dest: tmp,
            expectSha256: j.p.sha256,
            expectSize: j.p.size,
            label: j.url,
            checksumHint: `${j.p.package} ${j.p.version} (${j.p.arch}) does not match the SHA256 of its stanza in the signed Packages index of ${j.p.uri}; check the mirror, or make the plan again with 'ferry plan' if the archive moved on.`,
            signal: o.signal,
            onBytes: o.onBytes,
          });
          if (r.size !== j.p.size) {
            await discardPartial(tmp);
            throw new FerryError('CHECKSUM', `${j.url} is ${r.size} bytes; its stanza says ${j.p.size}.`, {
              artifact: j.url,
            });
          }
          await w.commitFile(tmp, j.path, r);
          await discardPartial(tmp);
        });
      })();
      inflight.set(j.path, run);
    }
    return run;
  };

  // Largest first: the limiter starts them in this order, so the big files do not end up alone
  // at the tail of the run on a throttled link.
  const order = [...jobs].sort((a, b) => b.p.size - a.p.size);
  await Promise.all(
    order.map(async (j) => {
      const name = `${j.set.os} ${j.p.package} ${j.p.version} (${j.p.arch})`;
      const had = w.artifact(j.id);
      const f = w.file(j.path);
      try {
        // What the package is, by its signed stanza: the held record must say the same.
        const pinned = {
          os: j.set.os,
          package: j.p.package,
          version: j.p.version,
          arch: j.p.arch,
          sha256: j.p.sha256,
          size: j.p.size,
        };
        const want = { ...pinned, paths: [j.path] };
        const present =
          had?.kind === 'deb' &&
          debKind.fetch!.holds(had, want) &&
          f?.sha256 === j.p.sha256 &&
          (await sizeIs(w.dir, j.path, j.p.size));
        if (present) {
          result.present++;
          o.onItem?.({ id: j.id, name, status: 'present' });
          return;
        }
        await fetchFile(j);
        const a: DebArtifact = { id: j.id, kind: 'deb', ...pinned, url: j.url, paths: [j.path] };
        await w.addArtifact(a);
        result.fetched++;
        o.onItem?.({ id: j.id, name, status: 'done' });
      } catch (err) {
        const error = toErrorValue(err);
        if (error.code === 'CANCELLED' || o.signal.aborted) return;
        result.failures.push({ id: j.id, name, error });
        o.onItem?.({ id: j.id, name, status: 'failed', error });
      }
    }),
  );
  if (o.signal.aborted) throw new FerryError('CANCELLED', 'Cancelled; run the same command again to resume.');
  if (result.failures.length || sets.length === 0) return result;

  // Every .deb is in and verified: write each OS's repository from their control files.
  const prestep = 'repos/' + PRESTEP_FILE;
  await w.addBytes(prestep, prestepPlaybook());
  for (const set of sets) {
    const pkgs: RepoPackage[] = [];
    for (const j of jobs.filter((x) => x.set === set)) {
      const file = path.join(w.dir, ...j.path.split('/'));
      pkgs.push({
        control: await readDebControl(file),
        arch: j.p.arch,
        filename: repoRelative(poolPath(set.os, j.p.filename)),
        size: j.p.size,
        md5: await md5File(file),
        sha256: j.p.sha256,
        components: isDocker(j.p) ? ['main', 'stable'] : ['main'],
      });
    }
    const written = await writeAptRepo(w, {
      root: `repos/${set.os}`,
      os: set.os,
      suite: suiteOf(set),
      arches: set.arches,
      packages: pkgs,
      signer: o.signer,
      ...(o.date ? { date: o.date } : {}),
    });
    const repo: Artifact = {
      id: repoArtifactId(set.os),
      kind: 'repo',
      format: 'apt',
      os: set.os,
      sources: set.sources.map((s) => ({ uri: s.uri, suite: s.suite, ...(s.date ? { date: s.date } : {}) })),
      paths: [...written, prestep],
    };
    await w.addArtifact(repo);
  }
  return result;
}

async function sizeIs(dir: string, rel: string, size: number): Promise<boolean> {
  try {
    const st = await fs.lstat(path.join(dir, ...rel.split('/')));
    return st.isFile() && st.size === size;
  } catch {
    return false;
  }
}

/** One error for a fetch whose packages failed: the first checksum failure names the package. */
export function debFailuresError(failures: DebFetchResult['failures'], total: number): FerryError {
  const first = failures.find((f) => f.error.code === 'CHECKSUM') ?? failures[0];
  return new FerryError(
    first.error.code,
    `${failures.length} of ${total} OS packages failed; the bundle is not finished. First: ${first.name}: ${first.error.message}`,
    {
      artifact: first.error.artifact ?? first.id,
      details: { failures },
      hint: `${first.error.hint ? first.error.hint + ' ' : ''}Then run the same command again: the packages already verified are kept.`,
    },
  );
}

/**
 * What fetch-bundle calls: the plan's OS package sets into the bundle, signed with the machine's
 * repository key (made on first use) unless one is given. Throws when any package failed.
 */
export async function fetchPlanDebs(
  plan: unknown,
  o: Omit<DebFetchOptions, 'signer'> & { keysDir: string; signer?: RepoSigner },
): Promise<DebFetchResult> {
  const sets = debSetsOf(plan);
  const held = o.writer
    .listArtifacts()
    .some((a) => a.kind === 'deb' || (a.kind === 'repo' && a.format === 'apt'));
  if (sets.length === 0 && !held) return { present: 0, fetched: 0, removed: 0, failures: [] };
  const signer = o.signer ?? (sets.length ? await ensureRepoSigner(o.keysDir) : undefined);
  const r = await fetchDebSets(sets, { ...o, signer: signer! });
  if (r.failures.length)
    throw debFailuresError(
      r.failures,
      sets.reduce((n, s) => n + s.packages.length, 0),
    );
  return r;
}
