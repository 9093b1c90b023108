/**
 * Planning the OS packages of one RHEL-family target: for each architecture, the repositories
 * of the OS model (or the user's), each repomd.xml verified with the pinned distribution key (or
 * the user's key), primary / filelists / modules fetched against repomd's checksums, and the
 * roots resolved like dnf from a bare system into a ResolvedRpmSet, the contract `fetch`
 * downloads from. Every package is pinned to its file and the sha256 that chain gives.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { FerryError } from '../../base/errors/index.js';
import { discardPartial, downloadToFile } from '../../fetch/download/download-file.js';
import { mirrorUrl } from '../../fetch/download/mirrors.js';
import type { RootPackage } from '../deb/roots.js';
import {
  requireFamily,
  rpmArch,
  rpmPinnedKey,
  rpmRepos,
  type OsModel,
  type RpmKeyId,
  type RpmRepoOptions,
  type RpmRepoSpec,
} from '../os.js';
import { decompressedStream } from './decompress.js';
import { compareEvr, parseEvr } from './evr.js';
import { mergeFiles, readFilelists, wantedFiles } from './filelists.js';
import { fetchMetadata, verifiedStream } from './metadata.js';
import { modulesFor, nevraOf, parseModules } from './modules.js';
import type { RpmPackage } from './package.js';
import { readPrimaryInto } from './primary.js';
import { loadRepomd, readPinnedKeys, type RepoRef, type RepomdContext, type RepomdEntry } from './repomd.js';
import { resolveRpms } from './resolve.js';
import type { ResolvedRpm, ResolvedRpmSet, RpmSource } from './set.js';

export interface RpmPlanContext extends RepomdContext {
  /**
   * Keys the user gives (--rpm-key OS=FILE, epel=FILE, docker=FILE): trusted as given, in place
   * of the pinned key of that role. A private mirror signed with its own key is trusted this way.
   */
  keys?: Record<string, Uint8Array[]>;
}

export interface RpmPlanRequest {
  os: OsModel;
  /** Ferry's architecture names (amd64, arm64). */
  arches: string[];
  roots: RootPackage[];
  /** dnf's install_weak_deps (default true, as on a node). */
  weakDeps?: boolean;
  /** The user's repository root or exact repositories, EPEL (epel_enabled). */
  repos?: RpmRepoOptions;
}

export interface RpmPlanResult {
  set: ResolvedRpmSet;
}

type CarriedKey = NonNullable<ResolvedRpmSet['keys']>[number];

/** File name of a carried key in repos/<os>/ and on the node: the distribution's own name. */
function keyFile(os: OsModel, role: RpmKeyId, given: boolean): string {
  if (given) return `RPM-GPG-KEY-${role === 'distro' ? os.id : role}-given`;
  const pinned = rpmPinnedKey(os, role);
  const base = path.posix.basename(pinned.nodePath ?? new URL(pinned.url).pathname);
  if (role === 'docker') return 'RPM-GPG-KEY-docker-ce';
  return /^RPM-GPG-KEY-[A-Za-z0-9._-]+$/.test(base) ? base : `RPM-GPG-KEY-${os.id}`;
}

/**
 * The keys of one role as one armour block (openpgp.js and rpm --import both read all the
 * keys of a block; Red Hat's two blocks become one), with the fingerprints they carry.
 */
function carriedKey(os: OsModel, role: RpmKeyId, keys: openpgp.PublicKey[], given: boolean): CarriedKey {
  const parts = keys.map((k) => k.write());
  const bytes = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
  let at = 0;
  for (const b of parts) {
    bytes.set(b, at);
    at += b.length;
  }
  return {
    file: keyFile(os, role, given),
    armored: openpgp.armor(openpgp.enums.armor.publicKey, bytes),
    fingerprints: keys.map((k) => k.getFingerprint().toUpperCase()),
  };
}

/** The keys verifying one repository: the user's for that role, else the pinned key fetched. */
async function keysFor(
  os: OsModel,
  role: RpmKeyId,
  ctx: RpmPlanContext,
  cache: Map<string, Promise<openpgp.PublicKey[]>>,
): Promise<openpgp.PublicKey[]> {
  const name = role === 'distro' ? os.id : role;
  const given = ctx.keys?.[name];
  if (given?.length) {
    const out: openpgp.PublicKey[] = [];
    for (const [i, b] of given.entries())
      out.push(...(await readPinnedKeys(b, `--rpm-key ${name} (${i + 1})`)));
    return out;
  }
  const pinned = rpmPinnedKey(os, role);
  let p = cache.get(pinned.url);
  if (!p) {
    p = (async () => {
      const dest = path.join(ctx.cacheDir, 'tmp', `key-${encodeURIComponent(pinned.url)}`);
      await fs.mkdir(path.dirname(dest), { recursive: true });
      await discardPartial(dest);
      await downloadToFile(ctx.client, {
        url: mirrorUrl(pinned.url, ctx.mirrors),
        dest,
        label: pinned.url,
        segments: false,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      }).catch(async (e: unknown) => {
        await discardPartial(dest);
        // A Satellite user may not reach the distribution's site: the key file on a node will do.
        if (e instanceof FerryError && e.code !== 'CANCELLED') {
          throw new FerryError(e.code, `${e.message} (the ${role === 'distro' ? os.title : role} key)`, {
            artifact: pinned.url,
            hint: `Give the key with --rpm-key ${role === 'distro' ? os.id : role}=FILE${pinned.nodePath ? ` (${pinned.nodePath} on a node)` : ''}; Ferry checks the fingerprint only of keys it fetches itself.`,
            cause: e,
          });
        }
        throw e;
      });
      const bytes = await fs.readFile(dest);
      await discardPartial(dest);
      const keys = await readPinnedKeys(bytes, pinned.url, pinned.fingerprints);
      ctx.log?.(`${os.id}: ${pinned.url} has the published fingerprint`);
      return keys;
    })();
    cache.set(pinned.url, p);
  }
  return p;
}

interface LoadedRepo {
  spec: RpmRepoSpec;
  source: RpmSource;
  packages: RpmPackage[];
  /** repomd's filelists entry, read only when a file requirement needs it. */
  filelists?: RepomdEntry;
  modules?: string;
}

async function loadRepo(
  os: OsModel,
  spec: RpmRepoSpec,
  arch: string,
  ctx: RpmPlanContext,
  keyCache: Map<string, Promise<openpgp.PublicKey[]>>,
): Promise<LoadedRepo> {
  const ref: RepoRef = { id: spec.id, baseurl: spec.baseurl, label: `${os.id} ${spec.id} ${arch}` };
  const keys = await keysFor(os, spec.key, ctx, keyCache);
  const md = await loadRepomd(ctx, ref, keys);
  const primary = md.repomd.data.get('primary')!;
  const file = await fetchMetadata(ctx, ref, primary);
  const what = `${ref.label} ${primary.href}`;
  const packages: RpmPackage[] = [];
  await readPrimaryInto(decompressedStream(verifiedStream(file, primary, what), primary.href), spec.id, (p) =>
    packages.push(p),
  );
  let modules: string | undefined;
  const mod = md.repomd.data.get('modules');
  if (mod) {
    const mf = await fetchMetadata(ctx, ref, mod);
    const chunks: Buffer[] = [];
    for await (const c of decompressedStream(verifiedStream(mf, mod, `${ref.label} ${mod.href}`), mod.href)) {
      chunks.push(c as Buffer);
    }
    modules = Buffer.concat(chunks).toString('utf8');
  }
  ctx.log?.(`${ref.label}: ${packages.length} packages${md.signed ? ', repomd signed' : ''}`);
  return {
    spec,
    packages,
    ...(md.repomd.data.get('filelists') ? { filelists: md.repomd.data.get('filelists')! } : {}),
    ...(modules !== undefined ? { modules } : {}),
    source: {
      id: spec.id,
      uri: spec.baseurl,
      arch,
      ...(md.repomd.revision ? { revision: md.repomd.revision } : {}),
      repomdSha256: md.sha256,
      repomdSigned: md.signed,
    },
  };
}

/**
 * File requirements (/usr/bin/sh) are looked up in filelists, reading only the required paths,
 * so memory stays bounded by what is asked rather than by the repository's file count. The
 * repomd read again must be the one the primary came from (a mirror mid-update is refused).
 */
async function mergeFilelists(
  os: OsModel,
  repos: LoadedRepo[],
  arch: string,
  ctx: RpmPlanContext,
): Promise<void> {
  const wanted = wantedFiles(repos.flatMap((r) => r.packages));
  if (!wanted.size) return;
  for (const r of repos) {
    const fl = r.filelists;
    if (!fl) continue;
    const ref: RepoRef = { id: r.spec.id, baseurl: r.spec.baseurl, label: `${os.id} ${r.spec.id} ${arch}` };
    const file = await fetchMetadata(ctx, ref, fl);
    const found = await readFilelists(
      decompressedStream(verifiedStream(file, fl, `${ref.label} ${fl.href}`), fl.href),
      wanted,
      ref.label,
    );
    mergeFiles(r.packages, found);
  }
}

/**
 * Kubespray's pinned versions (docker-ce-3:28.3.3-1.el9): only that EVR of the name stays a
 * candidate. A spec that only looked versioned but names a package (foo-2-utils) is a name.
 */
function applyPins(
  packages: RpmPackage[],
  roots: RootPackage[],
  os: OsModel,
  arch: string,
): { packages: RpmPackage[]; roots: RootPackage[] } {
  const out = [...packages];
  const names = new Set(packages.map((p) => p.name));
  const fixed: RootPackage[] = [];
  const drop = new Set<RpmPackage>();
  for (const r of roots) {
    if (!r.version) {
      fixed.push(r);
      continue;
    }
    const full = `${r.name}-${r.version}`;
    if (!names.has(r.name) && names.has(full)) {
      fixed.push({ name: full, why: r.why, ...(r.source ? { source: r.source } : {}) });
      continue;
    }
    const want = parseEvr(r.version);
    const same = packages.filter((p) => p.name === r.name);
    const match = same.filter((p) => compareEvr(p, want) === 0);
    if (!match.length) {
      const have = [...new Set(same.map((p) => `${p.epoch ? `${p.epoch}:` : ''}${p.version}-${p.release}`))];
      throw new FerryError(
        'NOT_FOUND',
        `${os.id} ${arch}: ${r.name}-${r.version} is in none of the repositories (${have.length ? `they have ${have.join(', ')}` : `no version of ${r.name}`}).`,
        {
          artifact: `${r.name}-${r.version}`,
          hint: 'Kubespray pins this version; check docker_version / docker_containerd_version and the repository.',
        },
      );
    }
    for (const p of same) if (!match.includes(p)) drop.add(p);
    fixed.push(r);
  }
  return { packages: out.filter((p) => !drop.has(p)), roots: fixed };
}

const sortKey = (p: ResolvedRpm): string => `${p.name}\u0000${p.arch}\u0000${p.repoArch}`;

/** Resolves one RHEL-family OS for every architecture from its repositories' verified metadata. */
export async function planRpmSet(req: RpmPlanRequest, ctx: RpmPlanContext): Promise<RpmPlanResult> {
  const os = requireFamily(req.os.id, 'rpm');
  const needsDocker = req.roots.some((r) => r.source === 'docker');
  const keyCache = new Map<string, Promise<openpgp.PublicKey[]>>();
  const sources: RpmSource[] = [];
  const packages: ResolvedRpm[] = [];
  const moduleDocs: string[] = [];
  const errors: string[] = [];
  const details: Array<{ arch: string; package: string; requirement: string; message: string }> = [];
  const arches: string[] = [];
  const carried = new Map<RpmKeyId, CarriedKey>();
  for (const ferryArch of req.arches) {
    if (!os.arches.includes(ferryArch)) {
      throw new FerryError('UNSUPPORTED', `${os.title} has no ${ferryArch} packages in Ferry's model.`, {
        artifact: `${os.id} ${ferryArch}`,
      });
    }
    const arch = rpmArch(ferryArch);
    arches.push(arch);
    const specs = rpmRepos(os, ferryArch, {
      ...req.repos,
      docker: needsDocker || req.repos?.docker === true,
    });
    const repos: LoadedRepo[] = [];
    for (const s of specs) {
      repos.push(await loadRepo(os, s, arch, ctx, keyCache));
      const given = (ctx.keys?.[s.key === 'distro' ? os.id : s.key]?.length ?? 0) > 0;
      const k = carried.get(s.key) ?? {
        ...carriedKey(os, s.key, await keysFor(os, s.key, ctx, keyCache), given),
        sources: [],
      };
      if (!k.sources!.includes(s.id)) k.sources!.push(s.id);
      carried.set(s.key, k);
    }
    await mergeFilelists(os, repos, arch, ctx);
    sources.push(...repos.map((r) => r.source));
    const all = repos.flatMap((r) => r.packages);
    const pinned = applyPins(all, req.roots, os, arch);
    const modulesText = repos
      .map((r) => r.modules)
      .filter((m): m is string => m !== undefined)
      .join('\n');
    const modules = modulesText ? parseModules(modulesText, `${os.id} ${arch} modules.yaml`) : undefined;
    const r = resolveRpms({
      packages: pinned.packages,
      roots: pinned.roots.map((x) => ({ name: x.name, why: x.why })),
      arch,
      ...(modules ? { modules } : {}),
      weakDeps: req.weakDeps ?? true,
    });
    for (const p of r.problems) {
      errors.push(`${arch}: ${p.message}`);
      details.push({ arch, ...p });
    }
    const used = new Set<string>();
    const artifacts = new Set(modules?.streams.flatMap((m) => m.artifacts) ?? []);
    for (const p of r.packages) {
      const nevra = nevraOf(p);
      const modular = artifacts.has(nevra);
      if (modular) used.add(nevra);
      if (p.checksum.type !== 'sha256') {
        throw new FerryError(
          'INTEGRITY',
          `${os.id} ${p.repo} ${arch}: primary gives ${p.name} a ${p.checksum.type} checksum, not sha256.`,
          { artifact: p.location, hint: 'use a mirror whose repodata has sha256 checksums' },
        );
      }
      packages.push({
        name: p.name,
        epoch: p.epoch,
        version: p.version,
        release: p.release,
        arch: p.arch,
        source: p.repo,
        repoArch: arch,
        location: p.location,
        sha256: p.checksum.value,
        size: p.size,
        ...(modular ? { modular: true } : {}),
        why: p.why,
      });
    }
    if (modules && used.size) moduleDocs.push(modulesFor(modules, used));
  }
  if (errors.length) {
    throw new FerryError(
      'NOT_FOUND',
      `${os.title}: ${errors.length} requirement(s) cannot be met:\n  ${errors.join('\n  ')}`,
      {
        artifact: os.id,
        hint: 'Check the package names (--os-package), the repositories (--rpm-repo) and the architectures; a private mirror may lack a repository (CRB, EPEL).',
        details: { problems: details },
      },
    );
  }
  packages.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
  const modules = [...new Set(moduleDocs.filter(Boolean))].join('\n');
  return {
    set: {
      os: os.id,
      arches,
      sources,
      roots: req.roots.map((r) => ({ name: r.version ? `${r.name}-${r.version}` : r.name, why: r.why })),
      packages,
      keys: [...carried.values()],
      ...(modules ? { modules } : {}),
    },
  };
}
