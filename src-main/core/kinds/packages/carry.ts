import fs from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { FerryError, toErrorValue, type ErrorValue } from '../../base/errors/index.js';
import type { Artifact, DebArtifact, RepoArtifact, RpmArtifact } from '../../bundle/manifest.js';
import { ensureRepoSigner, type RepoSigner } from '../../bundle/keys/repo-key.js';
import { discardPartial, downloadToFile } from '../../fetch/download/download-file.js';
import { Limiter } from '../../fetch/download/limit.js';
import { mirrorUrl } from '../../fetch/download/mirrors.js';
import type { CarryContext } from '../kind.js';
import { PRESTEP_FILE, prestepPlaybook } from '../deb/prestep.js';

/**
 * Carrying an OS package set into the bundle, the part apt's and dnf's kinds share (deb/fetch.ts,
 * rpm/fetch.ts): one job per (OS, package); a file several OSes or architectures list with the
 * same sha256 stored once; the artifacts the plan no longer names dropped; every file through
 * Ferry's download layer, checked against the signed index's sha256 and size while it streams;
 * held packages kept; failures per package; then, only when every package is in, one signed
 * repository per OS. What differs between the kinds (names, bundle layout, the RPM signature
 * check, the repository writer) is the `PackageCarry` a kind passes in.
 */

/** What both kinds' resolved packages pin a file by. */
export interface PackageFacts {
  sha256: string;
  size: number;
}

export interface PackageSet<P extends PackageFacts> {
  os: string;
  packages: P[];
}

/** One package of one OS, with the bundle path holding its file (another's, when shared). */
export interface CarryJob<S, P> {
  set: S;
  p: P;
  id: string;
  path: string;
  url: string;
}

/** What the carry hook lends (CarryContext; onItem is per package). */
export type PackageCarryOptions = Pick<
  CarryContext,
  'client' | 'writer' | 'mirrors' | 'signal' | 'concurrency' | 'onBytes' | 'onItem'
>;

export interface PackageCarryResult {
  present: number;
  fetched: number;
  removed: number;
  failures: Array<{ id: string; name: string; error: ErrorValue }>;
}

type PackageArtifact = DebArtifact | RpmArtifact;
type Pinned<A extends PackageArtifact> = Omit<A, 'id' | 'kind' | 'url' | 'paths'>;

/** How one package kind names, places, checks and publishes its packages. */
export interface PackageCarry<S extends PackageSet<P>, P extends PackageFacts, A extends PackageArtifact> {
  kind: A['kind'];
  repoFormat: 'apt' | 'rpm';
  artifactId(os: string, p: P): string;
  repoArtifactId(os: string): string;
  /** The package's own bundle path and its upstream URL (throws when the plan cannot place it). */
  place(set: S, p: P): { path: string; url: string };
  /** May a file stored earlier at `earlier`, with the same sha256, stand for `own`? */
  mayShare(set: S, earlier: string, own: string): boolean;
  /** The package in messages: 'curl 8.5.0-2', a NEVRA. */
  label(p: P): string;
  /** The package in the item list. */
  itemName(set: S, p: P): string;
  checksumHint(p: P): string;
  /** What the size is checked against, in the message: 'its stanza', 'primary.xml'. */
  sizeSays: string;
  /** The record fields that pin the package: a held record must say the same. */
  pinned(set: S, p: P): Pinned<A>;
  /** The kind's fetch.holds. */
  holds(held: A, want: Pinned<A> & { paths: string[] }): boolean;
  /** Once the stale artifacts went and before any download (the RPM kind parses its keys). */
  prepare?(): Promise<void>;
  /**
   * A download that matched its sha256 and size, before it enters the bundle (the RPM header
   * signature check); a refusal discards `tmp` itself.
   */
  admit?(j: CarryJob<S, P>, tmp: string): Promise<void>;
  /** Every package is in: write one OS's repository; the paths it wrote. */
  writeRepo(set: S, jobs: Array<CarryJob<S, P>>): Promise<string[]>;
  repoSources(set: S): RepoArtifact['sources'];
}

/** Does the artifact belong to the kind: one of its packages, or one of its repositories? */
function ownedBy(kind: PackageArtifact['kind'], format: 'apt' | 'rpm') {
  return (a: Artifact): boolean => a.kind === kind || (a.kind === 'repo' && a.format === format);
}

/** A plan section (plan.json `debs`, `rpms`): one resolved set per OS, each OS once. */
export function packageSetsOf<T extends { os: string }>(
  plan: unknown,
  section: string,
  schema: z.ZodType<T[]>,
): T[] {
  const raw = (plan as Record<string, unknown> | null)?.[section];
  if (raw === undefined) return [];
  const r = schema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new FerryError(
      'USAGE',
      `The plan's ${section} are not resolved package sets: ${section}.${i.path.join('.')}: ${i.message}.`,
      { hint: "Make the plan again with 'ferry plan'." },
    );
  }
  const seen = new Set<string>();
  for (const s of r.data) {
    if (seen.has(s.os))
      throw new FerryError('USAGE', `The plan lists the OS ${s.os} twice under ${section}.`, {
        hint: "Make the plan again with 'ferry plan'.",
      });
    seen.add(s.os);
  }
  return r.data;
}

async function sizeIs(dir: string, rel: string, size: number): Promise<boolean> {
  try {
    const st = await fs.lstat(path.join(dir, ...rel.split('/')));
    return st.isFile() && st.size === size;
  } catch {
    return false;
  }
}

export async function carryPackages<
  S extends PackageSet<P>,
  P extends PackageFacts,
  A extends PackageArtifact,
>(sets: S[], o: PackageCarryOptions, k: PackageCarry<S, P, A>): Promise<PackageCarryResult> {
  const w = o.writer;
  const result: PackageCarryResult = { present: 0, fetched: 0, removed: 0, failures: [] };
  type Job = CarryJob<S, P>;
  // Plan every file: one job per (os, package), one stored path per distinct file.
  const jobs: Job[] = [];
  const stored = new Map<string, { sha256: string; first: Job }>();
  const bySha = new Map<string, string>();
  for (const a of w.listArtifacts()) if (a.kind === k.kind) bySha.set(a.sha256, a.paths[0]);
  for (const set of sets) {
    const ids = new Set<string>();
    for (const p of set.packages) {
      const id = k.artifactId(set.os, p);
      if (ids.has(id)) continue;
      ids.add(id);
      const { path: own, url } = k.place(set, p);
      // The same file stored earlier where this package may share it: share that copy.
      const earlier = bySha.get(p.sha256);
      const at = earlier && k.mayShare(set, earlier, own) ? earlier : own;
      const have = stored.get(at);
      if (have && have.sha256 !== p.sha256)
        throw new FerryError(
          'INTEGRITY',
          `${set.os}: ${k.label(p)} and ${k.label(have.first.p)} both want ${at} with different contents.`,
          { artifact: at, hint: "Make the plan again with 'ferry plan'." },
        );
      const job: Job = { set, p, id, path: at, url };
      if (!have) stored.set(at, { sha256: p.sha256, first: job });
      bySha.set(p.sha256, at);
      jobs.push(job);
    }
  }
  // Artifacts of OSes or builds the plan no longer names go; dropUnreferenced removes their files.
  const wanted = new Set([...jobs.map((j) => j.id), ...sets.map((s) => k.repoArtifactId(s.os))]);
  const owns = ownedBy(k.kind, k.repoFormat);
  for (const a of w.listArtifacts()) {
    if (owns(a) && !wanted.has(a.id)) {
      await w.removeArtifact(a.id);
      result.removed++;
    }
  }
  await k.prepare?.();

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
          o.onItem?.({ id: j.id, name: `${j.set.os} ${k.label(j.p)}`, status: 'started' });
          const r = await downloadToFile(o.client, {
            url: mirrorUrl(j.url, o.mirrors),
            dest: tmp,
            expectSha256: j.p.sha256,
            expectSize: j.p.size,
            label: j.url,
            checksumHint: k.checksumHint(j.p),
            signal: o.signal,
            ...(o.onBytes ? { onBytes: o.onBytes } : {}),
          });
          if (r.size !== j.p.size) {
            await discardPartial(tmp);
            throw new FerryError('CHECKSUM', `${j.url} is ${r.size} bytes; ${k.sizeSays} says ${j.p.size}.`, {
              artifact: j.url,
            });
          }
          await k.admit?.(j, tmp);
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
      const name = k.itemName(j.set, j.p);
      const had = w.artifact(j.id);
      const f = w.file(j.path);
      try {
        const pinned = k.pinned(j.set, j.p);
        const present =
          had?.kind === k.kind &&
          k.holds(had as A, { ...pinned, paths: [j.path] }) &&
          f?.sha256 === j.p.sha256 &&
          (await sizeIs(w.dir, j.path, j.p.size));
        if (present) {
          result.present++;
          o.onItem?.({ id: j.id, name, status: 'present' });
          return;
        }
        await fetchFile(j);
        const a = { id: j.id, kind: k.kind, ...pinned, url: j.url, paths: [j.path] } as A;
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

  // Every package is in and verified: the node pre-step (one playbook for both families), then
  // each OS's repository.
  const prestep = `repos/${PRESTEP_FILE}`;
  await w.addBytes(prestep, prestepPlaybook());
  for (const set of sets) {
    const written = await k.writeRepo(
      set,
      jobs.filter((j) => j.set === set),
    );
    const repo: Artifact = {
      id: k.repoArtifactId(set.os),
      kind: 'repo',
      format: k.repoFormat,
      os: set.os,
      sources: k.repoSources(set),
      paths: [...written, prestep],
    };
    await w.addArtifact(repo);
  }
  return result;
}

/** One error for a carry whose packages failed (the first failure of a code in `first` first). */
function packageFailuresError(
  failures: PackageCarryResult['failures'],
  total: number,
  o: { noun: string; first: readonly string[] },
): FerryError {
  const first = failures.find((f) => o.first.includes(f.error.code)) ?? failures[0];
  return new FerryError(
    first.error.code,
    `${failures.length} of ${total} ${o.noun} failed; the bundle is not finished. First: ${first.name}: ${first.error.message}`,
    {
      artifact: first.error.artifact ?? first.id,
      details: { failures },
      hint: `${first.error.hint ? first.error.hint + ' ' : ''}Then run the same command again: the packages already verified are kept.`,
    },
  );
}

/**
 * What a package kind's carry hook runs: its sets into the bundle, signed with the machine's
 * repository key (made on first use) unless one is given; nothing at all when the plan names no
 * set and the bundle holds none of the kind. Throws one error when any package failed: the first
 * failure of a code in `first` (a checksum, a signature) names the package.
 */
export async function carryPlanPackages<S extends { packages: unknown[] }>(
  sets: S[],
  o: PackageCarryOptions & { keysDir: string; signer?: RepoSigner },
  k: {
    kind: PackageArtifact['kind'];
    repoFormat: 'apt' | 'rpm';
    /** The packages in the error: 'OS packages', 'RPM packages'. */
    noun: string;
    first: readonly string[];
    carry: (sets: S[], signer: RepoSigner) => Promise<PackageCarryResult>;
  },
): Promise<PackageCarryResult> {
  const held = o.writer.listArtifacts().some(ownedBy(k.kind, k.repoFormat));
  if (sets.length === 0 && !held) return { present: 0, fetched: 0, removed: 0, failures: [] };
  const signer = o.signer ?? (sets.length ? await ensureRepoSigner(o.keysDir) : undefined);
  const r = await k.carry(sets, signer!);
  if (r.failures.length)
    throw packageFailuresError(
      r.failures,
      sets.reduce((n, s) => n + s.packages.length, 0),
      k,
    );
  return r;
}
