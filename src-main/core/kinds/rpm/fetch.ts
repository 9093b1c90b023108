import path from 'node:path';
import * as openpgp from 'openpgp';
import { z } from 'zod';
import { FerryError } from '../../base/errors/index.js';
import type { RpmArtifact } from '../../bundle/manifest.js';
import type { RepoSigner } from '../../bundle/keys/repo-key.js';
import { discardPartial } from '../../fetch/download/download-file.js';
import { carryPackages, carryPlanPackages, packageSetsOf } from '../packages/carry.js';
import type { PackageCarryOptions, PackageCarryResult } from '../packages/carry.js';
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
  return packageSetsOf(plan, 'rpms', z.array(ResolvedRpmSetSchema));
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

export interface RpmFetchOptions extends PackageCarryOptions {
  signer: RepoSigner;
  /** repomd <revision> (tests pin it); the time of the fetch otherwise. */
  revision?: string;
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
  // A key the plan carries for some repositories only (Docker's, EPEL's) does not vouch for others'.
  const entry = set.keys?.find((k) => k.file === by);
  if (entry?.sources && !entry.sources.includes(p.source))
    throw new FerryError(
      'INTEGRITY',
      `${name} comes from ${p.source} but is signed by ${by}, which the plan carries for ${entry.sources.join(', ')} only.`,
      {
        artifact: p.location,
        hint: 'Check the mirror: it may serve another repository’s packages under this one. Then make the plan again.',
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

export async function fetchRpmSets(sets: ResolvedRpmSet[], o: RpmFetchOptions): Promise<PackageCarryResult> {
  const w = o.writer;
  const keyIds = new Map<ResolvedRpmSet, SetKeys>();
  /** Headers read as the packages come in (or from the held files), for the repodata. */
  const headers = new Map<string, RpmHeader>();
  let revision: string | undefined;
  return carryPackages<ResolvedRpmSet, ResolvedRpm, RpmArtifact>(sets, o, {
    kind: 'rpm',
    repoFormat: 'rpm',
    artifactId: rpmArtifactId,
    repoArtifactId: rpmRepoArtifactId,
    place(set, p) {
      const src = set.sources.find((s) => s.id === p.source && s.arch === p.repoArch);
      if (!src)
        throw new FerryError(
          'USAGE',
          `${set.os}: ${nevra(p)} names the repository ${p.source} (${p.repoArch}), which the plan does not list.`,
          { hint: "Make the plan again with 'ferry plan'." },
        );
      return {
        path: rpmPackagePath(set.os, p.repoArch, p.location),
        url: `${src.uri.replace(/\/+$/, '')}/${p.location.replace(/^\/+/, '')}`,
      };
    },
    // The same file under the same name in another architecture of this OS.
    mayShare: (set, earlier, own) =>
      earlier.startsWith(`repos/${set.os}/`) && inRepo(earlier) === inRepo(own),
    label: nevra,
    itemName: (set, p) => `${set.os} ${nevra(p)}`,
    checksumHint: (p) =>
      `${nevra(p)} does not match the SHA256 primary.xml of ${p.source} gives it (signed through repomd.xml); check the mirror, or make the plan again with 'ferry plan' if the repository moved on.`,
    sizeSays: 'primary.xml',
    pinned: (set, p) => ({
      os: set.os,
      package: p.name,
      ...(p.epoch ? { epoch: p.epoch } : {}),
      version: p.version,
      release: p.release,
      arch: p.arch,
      repoArch: p.repoArch,
      sha256: p.sha256,
      size: p.size,
    }),
    holds: (held, want) => rpmKind.fetch!.holds(held, want),
    async prepare() {
      for (const s of sets) keyIds.set(s, await keysOf(s));
    },
    // Whose signature it carries, before it enters the bundle.
    async admit(j, tmp) {
      const h = await readRpmHeader(tmp, j.url);
      try {
        await checkSigner(j.set, j.p, tmp, h, keyIds.get(j.set)!);
      } catch (err) {
        await discardPartial(tmp);
        throw err;
      }
      headers.set(j.path, h);
    },
    // Every .rpm is in and verified: each architecture's repodata from the packages' own headers.
    async writeRepo(set, mine) {
      revision ??= o.revision ?? String(Math.floor(Date.now() / 1000));
      const written: string[] = [];
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
      written.push(ferryKey);
      return written;
    },
    // `suite` names the repository id and architecture; a repomd revision is no date, so none.
    repoSources: (set) => set.sources.map((s) => ({ uri: s.uri, suite: `${s.id}/${s.arch}` })),
  });
}

/**
 * What fetch-bundle calls (the rpm kind's carry hook): the plan's RPM sets into the bundle, the
 * repodata signed with the machine's repository key (made on first use) unless one is given.
 * Throws when any package failed.
 */
export async function fetchPlanRpms(
  plan: unknown,
  o: Omit<RpmFetchOptions, 'signer'> & { keysDir: string; signer?: RepoSigner },
): Promise<PackageCarryResult> {
  return carryPlanPackages(rpmSetsOf(plan), o, {
    kind: 'rpm',
    repoFormat: 'rpm',
    noun: 'RPM packages',
    first: ['CHECKSUM', 'INTEGRITY'],
    carry: (sets, signer) => fetchRpmSets(sets, { ...o, signer }),
  });
}
