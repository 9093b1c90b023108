import fs from 'node:fs/promises';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { z } from 'zod';
import { FerryError, toErrorValue, type ErrorValue } from '../../base/errors/index.js';
import type { Artifact, RpmArtifact } from '../../bundle/manifest.js';
import { ensureRepoSigner, type RepoSigner } from '../../bundle/keys/repo-key.js';
import { discardPartial, downloadToFile } from '../../fetch/download/download-file.js';
import { Limiter } from '../../fetch/download/limit.js';
import { mirrorUrl } from '../../fetch/download/mirrors.js';
import { PRESTEP_FILE, prestepPlaybook } from '../deb/prestep.js';
import type { CarryContext } from '../kind.js';
import { readRpmHeader, type RpmHeader } from './header.js';
import { rpmKind } from './kind.js';
import { buildRpmRepodata } from './repodata.js';
import { checkHeaderSignature } from './signature.js';
import { ResolvedRpmSetSchema, type ResolvedRpm, type ResolvedRpmSet } from './set.js';
import { RPM_FERRY_KEY } from './vars.js';

/**
 * ResolvedRpmSet → one RPM repository per OS and architecture in the bundle:
 *
 *   repos/<os>/<arch>/Packages/<letter>/<file>.rpm   byte for byte what upstream served
 *   repos/<os>/<arch>/repodata/                       written and signed by Ferry (repodata.ts)
 *   repos/<os>/RPM-GPG-KEY-<name>                     the distribution's (Docker's, EPEL's) keys
 *   repos/<os>/RPM-GPG-KEY-ferry                      Ferry's repository key (repomd.xml.asc)
 *
 * Every .rpm goes through Ferry's download layer (mirrors, proxy, resume, retries) and is checked
 * against the sha256 and size primary.xml gave it while it streams, then its header signature is
 * checked (signature.ts): a package signed by no key the plan carries, not signed, or whose
 * signature does not verify is refused before it enters the bundle, since dnf with gpgcheck=1 on the node would refuse it there, offline. A noarch file
 * both architectures list is stored once, under the first, and the other's `rpm` artifact names
 * that file (serve answers it under both folders). When every package of an OS is in, each
 * architecture gets its repodata from the packages' own headers, and the OS a `repo` artifact.
 */

/** The plan's RHEL-family package sets: plan.json's `rpms`, one ResolvedRpmSet per target OS. */
export function rpmSetsOf(plan: unknown): ResolvedRpmSet[] {
  const raw = (plan as { rpms?: unknown } | null)?.rpms;
  if (raw === undefined) return [];
  const r = z.array(ResolvedRpmSetSchema).safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new FerryError(
      'USAGE',
      `The plan's rpms are not resolved package sets: rpms.${i.path.join('.')}: ${i.message}.`,
      { hint: "Make the plan again with 'ferry plan'." },
    );
  }
  const seen = new Set<string>();
  for (const s of r.data) {
    if (seen.has(s.os))
      throw new FerryError('USAGE', `The plan lists the OS ${s.os} twice under rpms.`, {
        hint: "Make the plan again with 'ferry plan'.",
      });
    seen.add(s.os);
  }
  return r.data;
}

export const nevra = (p: { name: string; epoch?: number; version: string; release: string; arch: string }) =>
  `${p.name}-${p.epoch ? `${p.epoch}:` : ''}${p.version}-${p.release}.${p.arch}`;

export const rpmArtifactId = (os: string, p: ResolvedRpm): string => `rpm:${os}/${p.repoArch}/${nevra(p)}`;
export const rpmRepoArtifactId = (os: string): string => `repo:rpm/${os}`;

/**
 * Where a package lives in its repository: Packages/<first letter>/<file>, the layout of
 * Rocky's and Alma's mirrors (Docker's flat Packages/ is regrouped the same way).
 */
export function rpmPackagePath(os: string, repoArch: string, location: string): string {
  const file = location.split('/').pop() ?? location;
  if (!/^[A-Za-z0-9][A-Za-z0-9._+~^-]*\.rpm$/.test(file))
    throw new FerryError('INTEGRITY', `${os}: the package location ${location} is not an .rpm file name.`, {
      artifact: location,
      hint: "Make the plan again with 'ferry plan'.",
    });
  return `repos/${os}/${repoArch}/Packages/${file[0].toLowerCase()}/${file}`;
}

/** The part of repos/<os>/<arch>/… below the architecture folder: primary's location href. */
const inRepo = (p: string): string => p.split('/').slice(3).join('/');

export interface RpmFetchOptions extends Pick<
  CarryContext,
  'client' | 'writer' | 'mirrors' | 'signal' | 'concurrency' | 'onBytes' | 'onItem'
> {
  signer: RepoSigner;
  /** repomd <revision> (tests pin it); the time of the fetch otherwise. */
  revision?: string;
}

export interface RpmFetchResult {
  present: number;
  fetched: number;
  removed: number;
  failures: Array<{ id: string; name: string; error: ErrorValue }>;
}

interface SetKeys {
  /** Key ids (16 hex, primary and subkeys) and fingerprints → the carried file holding them. */
  ids: Map<string, string>;
  keys: openpgp.Key[];
}

/** The keys a set carries, parsed (and held to the fingerprints the plan pinned them to). */
async function keysOf(set: ResolvedRpmSet): Promise<SetKeys> {
  const ids = new Map<string, string>();
  const all: openpgp.Key[] = [];
  for (const k of set.keys ?? []) {
    let keys: openpgp.Key[];
    try {
      keys = await openpgp.readKeys({ armoredKeys: k.armored });
    } catch (err) {
      throw new FerryError(
        'INTEGRITY',
        `${set.os}: the plan's key ${k.file} does not parse: ${(err as Error).message}`,
        {
          artifact: k.file,
          hint: "Make the plan again with 'ferry plan'.",
        },
      );
    }
    for (const key of keys) {
      all.push(key);
      const fp = key.getFingerprint().toUpperCase();
      if (k.fingerprints?.length && !k.fingerprints.includes(fp))
        throw new FerryError(
          'INTEGRITY',
          `${set.os}: the plan's key ${k.file} has the fingerprint ${fp}, not one it was pinned to (${k.fingerprints.join(', ')}).`,
          { artifact: k.file, hint: "Make the plan again with 'ferry plan'." },
        );
      ids.set(fp, k.file);
      for (const id of key.getKeyIDs()) ids.set(id.toHex().toUpperCase(), k.file);
    }
  }
  return { ids, keys: all };
}

/**
 * Refuse a package whose signature names no carried key (say which key it names, and which are
 * carried), or whose header signature by that key does not verify.
 */
async function checkSigner(
  set: ResolvedRpmSet,
  p: ResolvedRpm,
  file: string,
  h: RpmHeader,
  { ids, keys }: SetKeys,
): Promise<void> {
  const name = `${nevra(p)} (${set.os})`;
  const carried = (set.keys ?? []).map((k) => k.file).join(', ') || 'none';
  const sig = h.signature;
  if (!sig || (!sig.keyId && !sig.fingerprint))
    throw new FerryError('INTEGRITY', `${name} is not signed; nodes check every package with gpgcheck=1.`, {
      artifact: p.location,
      hint: `Use a repository whose packages are signed, or sign your mirror's packages and give its key with --rpm-key. Carried keys: ${carried}.`,
    });
  const by = (sig.fingerprint && ids.get(sig.fingerprint)) || (sig.keyId && ids.get(sig.keyId));
  if (!by)
    throw new FerryError(
      'INTEGRITY',
      `${name} is signed by key ${sig.fingerprint ?? sig.keyId}, which is not among the keys carried for ${set.os} (${carried}).`,
      {
        artifact: p.location,
        hint: 'Check the mirror: it may serve packages from another distribution or a rebuilt copy. If it is your own signed mirror, give its key with --rpm-key and plan again.',
      },
    );
  const v = await checkHeaderSignature(file, h.headerRange, keys);
  if (!v.ok)
    throw new FerryError(
      'INTEGRITY',
      `${name}: its header signature by ${by} does not verify (${v.detail}); dnf with gpgcheck=1 would refuse it.`,
      {
        artifact: p.location,
        hint: 'The package was altered or re-signed after it was published: check the mirror, then make the plan again.',
      },
    );
}

async function sizeIs(dir: string, rel: string, size: number): Promise<boolean> {
  try {
    const st = await fs.lstat(path.join(dir, ...rel.split('/')));
    return st.isFile() && st.size === size;
  } catch {
    return false;
  }
}

export async function fetchRpmSets(sets: ResolvedRpmSet[], o: RpmFetchOptions): Promise<RpmFetchResult> {
  const w = o.writer;
  const result: RpmFetchResult = { present: 0, fetched: 0, removed: 0, failures: [] };
  interface Job {
    set: ResolvedRpmSet;
    p: ResolvedRpm;
    id: string;
    /** The bundle path holding the file (another architecture's, when shared). */
    path: string;
    url: string;
  }
  const jobs: Job[] = [];
  const stored = new Map<string, { sha256: string; first: Job }>();
  const bySha = new Map<string, string>();
  for (const a of w.listArtifacts()) if (a.kind === 'rpm') bySha.set(a.sha256, a.paths[0]);
  for (const set of sets) {
    const ids = new Set<string>();
    for (const p of set.packages) {
      const id = rpmArtifactId(set.os, p);
      if (ids.has(id)) continue;
      ids.add(id);
      const src = set.sources.find((s) => s.id === p.source && s.arch === p.repoArch);
      if (!src)
        throw new FerryError(
          'USAGE',
          `${set.os}: ${nevra(p)} names the repository ${p.source} (${p.repoArch}), which the plan does not list.`,
          { hint: "Make the plan again with 'ferry plan'." },
        );
      const own = rpmPackagePath(set.os, p.repoArch, p.location);
      // The same file under the same name in another architecture of this OS: share that copy.
      const earlier = bySha.get(p.sha256);
      const shared =
        earlier && earlier.startsWith(`repos/${set.os}/`) && inRepo(earlier) === inRepo(own)
          ? earlier
          : undefined;
      const at = shared ?? own;
      const have = stored.get(at);
      if (have && have.sha256 !== p.sha256)
        throw new FerryError(
          'INTEGRITY',
          `${set.os}: ${nevra(p)} and ${nevra(have.first.p)} both want ${at} with different contents.`,
          { artifact: at, hint: "Make the plan again with 'ferry plan'." },
        );
      const job: Job = {
        set,
        p,
        id,
        path: at,
        url: `${src.uri.replace(/\/+$/, '')}/${p.location.replace(/^\/+/, '')}`,
      };
      if (!have) stored.set(at, { sha256: p.sha256, first: job });
      bySha.set(p.sha256, at);
      jobs.push(job);
    }
  }
  // Artifacts of OSes or builds the plan no longer names go; dropUnreferenced removes their files.
  const wanted = new Set([...jobs.map((j) => j.id), ...sets.map((s) => rpmRepoArtifactId(s.os))]);
  for (const a of w.listArtifacts()) {
    if ((a.kind === 'rpm' || (a.kind === 'repo' && a.format === 'rpm')) && !wanted.has(a.id)) {
      await w.removeArtifact(a.id);
      result.removed++;
    }
  }

  const keyIds = new Map<ResolvedRpmSet, SetKeys>();
  for (const s of sets) keyIds.set(s, await keysOf(s));
  /** Headers read as the packages come in (or from the held files), for the repodata. */
  const headers = new Map<string, RpmHeader>();

  const limit = new Limiter(o.concurrency);
  const inflight = new Map<string, Promise<void>>();
  const fetchFile = (j: Job): Promise<void> => {
    let run = inflight.get(j.path);
    if (!run) {
      run = (async () => {
        const f = w.file(j.path);
        if (f && f.sha256 === j.p.sha256 && f.size === j.p.size && (await sizeIs(w.dir, j.path, j.p.size)))
          return;
        await limit.run(async () => {
          const tmp = w.resumePath(j.url);
          o.onItem?.({ id: j.id, name: `${j.set.os} ${nevra(j.p)}`, status: 'started' });
          const r = await downloadToFile(o.client, {
            url: mirrorUrl(j.url, o.mirrors),
            dest: tmp,
            expectSha256: j.p.sha256,
            expectSize: j.p.size,
            label: j.url,
            checksumHint: `${nevra(j.p)} does not match the SHA256 primary.xml of ${j.p.source} gives it (signed through repomd.xml); check the mirror, or make the plan again with 'ferry plan' if the repository moved on.`,
            signal: o.signal,
            ...(o.onBytes ? { onBytes: o.onBytes } : {}),
          });
          if (r.size !== j.p.size) {
            await discardPartial(tmp);
            throw new FerryError('CHECKSUM', `${j.url} is ${r.size} bytes; primary.xml says ${j.p.size}.`, {
              artifact: j.url,
            });
          }
          // Whose signature it carries, before it enters the bundle.
          const h = await readRpmHeader(tmp, j.url);
          try {
            await checkSigner(j.set, j.p, tmp, h, keyIds.get(j.set)!);
          } catch (err) {
            await discardPartial(tmp);
            throw err;
          }
          headers.set(j.path, h);
          await w.commitFile(tmp, j.path, r);
          await discardPartial(tmp);
        });
      })();
      inflight.set(j.path, run);
    }
    return run;
  };

  // Largest first, so the big files do not end up alone at the tail of a throttled run.
  const order = [...jobs].sort((a, b) => b.p.size - a.p.size);
  await Promise.all(
    order.map(async (j) => {
      const name = `${j.set.os} ${nevra(j.p)}`;
      const had = w.artifact(j.id);
      const f = w.file(j.path);
      try {
        const pinned = {
          os: j.set.os,
          package: j.p.name,
          ...(j.p.epoch ? { epoch: j.p.epoch } : {}),
          version: j.p.version,
          release: j.p.release,
          arch: j.p.arch,
          repoArch: j.p.repoArch,
          sha256: j.p.sha256,
          size: j.p.size,
        };
        const present =
          had?.kind === 'rpm' &&
          rpmKind.fetch!.holds(had, { ...pinned, paths: [j.path] }) &&
          f?.sha256 === j.p.sha256 &&
          (await sizeIs(w.dir, j.path, j.p.size));
        if (present) {
          result.present++;
          o.onItem?.({ id: j.id, name, status: 'present' });
          return;
        }
        await fetchFile(j);
        const a: RpmArtifact = { id: j.id, kind: 'rpm', ...pinned, url: j.url, paths: [j.path] };
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

  // Every .rpm is in and verified: each architecture's repodata from the packages' own headers.
  const prestep = `repos/${PRESTEP_FILE}`;
  await w.addBytes(prestep, prestepPlaybook());
  const revision = o.revision ?? String(Math.floor(Date.now() / 1000));
  for (const set of sets) {
    const written: string[] = [];
    const mine = jobs.filter((j) => j.set === set);
    for (const arch of [...new Set(mine.map((j) => j.p.repoArch))].sort()) {
      const entries = [];
      for (const j of mine.filter((x) => x.p.repoArch === arch)) {
        let h = headers.get(j.path);
        if (!h) {
          // Held from an earlier run: its signature was checked then, and is checked again here.
          const file = path.join(w.dir, ...j.path.split('/'));
          h = await readRpmHeader(file, j.path);
          await checkSigner(set, j.p, file, h, keyIds.get(set)!);
          headers.set(j.path, h);
        }
        entries.push({
          location: inRepo(rpmPackagePath(set.os, arch, j.p.location)),
          sha256: j.p.sha256,
          size: j.p.size,
          header: h,
        });
      }
      const files = await buildRpmRepodata(entries, {
        signer: o.signer,
        revision,
        ...(set.modules ? { modules: set.modules } : {}),
      });
      for (const f of files) {
        const rel = `repos/${set.os}/${arch}/${f.path}`;
        await w.addBytes(rel, Buffer.from(f.data));
        written.push(rel);
      }
    }
    for (const k of set.keys ?? []) {
      const rel = `repos/${set.os}/${k.file}`;
      await w.addBytes(rel, k.armored.endsWith('\n') ? k.armored : `${k.armored}\n`);
      written.push(rel);
    }
    const ferryKey = `repos/${set.os}/${RPM_FERRY_KEY}`;
    await w.addBytes(ferryKey, o.signer.armoredPublicKey);
    written.push(ferryKey, prestep);
    const repo: Artifact = {
      id: rpmRepoArtifactId(set.os),
      kind: 'repo',
      format: 'rpm',
      os: set.os,
      // `suite` names the repository id and architecture; a repomd revision is no date, so none.
      sources: set.sources.map((s) => ({ uri: s.uri, suite: `${s.id}/${s.arch}` })),
      paths: written,
    };
    await w.addArtifact(repo);
  }
  return result;
}

/** One error for a fetch whose packages failed: the first checksum or signature failure names the package. */
export function rpmFailuresError(failures: RpmFetchResult['failures'], total: number): FerryError {
  const first =
    failures.find((f) => f.error.code === 'CHECKSUM' || f.error.code === 'INTEGRITY') ?? failures[0];
  return new FerryError(
    first.error.code,
    `${failures.length} of ${total} RPM packages failed; the bundle is not finished. First: ${first.name}: ${first.error.message}`,
    {
      artifact: first.error.artifact ?? first.id,
      details: { failures },
      hint: `${first.error.hint ? first.error.hint + ' ' : ''}Then run the same command again: the packages already verified are kept.`,
    },
  );
}

/**
 * What fetch-bundle calls (the rpm kind's carry hook): the plan's RPM sets into the bundle, the
 * repodata signed with the machine's repository key (made on first use) unless one is given.
 * Throws when any package failed.
 */
export async function fetchPlanRpms(
  plan: unknown,
  o: Omit<RpmFetchOptions, 'signer'> & { keysDir: string; signer?: RepoSigner },
): Promise<RpmFetchResult> {
  const sets = rpmSetsOf(plan);
  const held = o.writer
    .listArtifacts()
    .some((a) => a.kind === 'rpm' || (a.kind === 'repo' && a.format === 'rpm'));
  if (sets.length === 0 && !held) return { present: 0, fetched: 0, removed: 0, failures: [] };
  const signer = o.signer ?? (sets.length ? await ensureRepoSigner(o.keysDir) : undefined);
  const r = await fetchRpmSets(sets, { ...o, signer: signer! });
  if (r.failures.length)
    throw rpmFailuresError(
      r.failures,
      sets.reduce((n, s) => n + s.packages.length, 0),
    );
  return r;
}
