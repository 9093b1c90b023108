import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { DebArtifact } from '../../bundle/manifest.js';
import type { RepoSigner } from '../../bundle/keys/repo-key.js';
import { carryPackages, carryPlanPackages, packageSetsOf } from '../packages/carry.js';
import type { PackageCarryOptions, PackageCarryResult } from '../packages/carry.js';
import { readDebControl } from './control.js';
import { debKind } from './kind.js';
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
  return packageSetsOf(plan, 'debs', z.array(ResolvedDebSetSchema));
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
export interface DebFetchOptions extends PackageCarryOptions {
  signer: RepoSigner;
  /** Repository Date (tests pin it). */
  date?: Date;
}

async function md5File(file: string): Promise<string> {
  const h = createHash('md5');
  for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return h.digest('hex');
}

export async function fetchDebSets(sets: ResolvedDebSet[], o: DebFetchOptions): Promise<PackageCarryResult> {
  return carryPackages<ResolvedDebSet, ResolvedDeb, DebArtifact>(sets, o, {
    kind: 'deb',
    repoFormat: 'apt',
    artifactId: debArtifactId,
    repoArtifactId,
    place: (set, p) => ({
      path: poolPath(set.os, p.filename),
      url: `${p.uri.replace(/\/+$/, '')}/${p.filename}`,
    }),
    // The same file under the same pool path in an OS stored earlier.
    mayShare: (_set, earlier, own) => repoRelative(earlier) === repoRelative(own),
    label: (p) => `${p.package} ${p.version}`,
    itemName: (set, p) => `${set.os} ${p.package} ${p.version} (${p.arch})`,
    checksumHint: (p) =>
      `${p.package} ${p.version} (${p.arch}) does not match the SHA256 of its stanza in the signed Packages index of ${p.uri}; check the mirror, or make the plan again with 'ferry plan' if the archive moved on.`,
    sizeSays: 'its stanza',
    // What the package is, by its signed stanza: the held record must say the same.
    pinned: (set, p) => ({
      os: set.os,
      package: p.package,
      version: p.version,
      arch: p.arch,
      sha256: p.sha256,
      size: p.size,
    }),
    holds: (held, want) => debKind.fetch!.holds(held, want),
    // Every .deb is in and verified: the OS's repository from their control files.
    async writeRepo(set, jobs) {
      const pkgs: RepoPackage[] = [];
      for (const j of jobs) {
        const file = path.join(o.writer.dir, ...j.path.split('/'));
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
      return writeAptRepo(o.writer, {
        root: `repos/${set.os}`,
        os: set.os,
        suite: suiteOf(set),
        arches: set.arches,
        packages: pkgs,
        signer: o.signer,
        ...(o.date ? { date: o.date } : {}),
      });
    },
    repoSources: (set) =>
      set.sources.map((s) => ({ uri: s.uri, suite: s.suite, ...(s.date ? { date: s.date } : {}) })),
  });
}

/**
 * What fetch-bundle calls: the plan's OS package sets into the bundle, signed with the machine's
 * repository key (made on first use) unless one is given. Throws when any package failed.
 */
export async function fetchPlanDebs(
  plan: unknown,
  o: Omit<DebFetchOptions, 'signer'> & { keysDir: string; signer?: RepoSigner },
): Promise<PackageCarryResult> {
  return carryPlanPackages(debSetsOf(plan), o, {
    kind: 'deb',
    repoFormat: 'apt',
    noun: 'OS packages',
    first: ['CHECKSUM'],
    carry: (sets, signer) => fetchDebSets(sets, { ...o, signer }),
  });
}
