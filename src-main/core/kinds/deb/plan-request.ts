/**
 * The OS-package part of a plan request: which target OSes, extra packages, Recommends and
 * keyrings (flags win over the profile), and the call that turns them into one ResolvedDebSet per
 * OS for plan.json. Kept apart from the catalog so planning files and images needs no network.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../../base/errors/index.js';
import type { HttpClient } from '../../fetch/download/http-client.js';
import type { MirrorMap } from '../../fetch/download/mirrors.js';
import type { ComputeOptions } from '../../plan/catalog/plan.js';
import type { KubesprayData } from '../../plan/catalog/source.js';
import type { PyDict } from '../../plan/catalog/jinja/values.js';
import type { Profile } from '../../plan/profile/schema.js';
import { parseOsList, requireDebFamily } from '../os.js';
import { planDebSet, pruneIndexCache, type DebPlanContext } from './plan.js';
import type { ResolveChoice } from './resolve.js';
import { kubesprayOsRoots } from './roots.js';
import type { ResolvedDebSet } from './set.js';

export interface OsPackagesRequest {
  /** --os (repeatable, comma lists); else the profile's `os`. */
  os?: string[];
  /** --os-package NAME (added to the profile's `osPackages.extra`). */
  extra?: string[];
  /** --no-recommends; else the profile's `osPackages.recommends` (default true). */
  noRecommends?: boolean;
  /** --keyring OS=FILE (or docker=FILE); over the profile's `osPackages.keyrings`. */
  keyrings?: string[];
  /** --deploy-os: the deploy host's OS, whose set gains what running Kubespray needs. */
  deployOs?: string | undefined;
  profile?: Profile | undefined;
  /** Folder the profile's relative keyring paths are relative to. */
  profileDir?: string | undefined;
}

export interface OsPackagesSettings {
  os: string[];
  extra: string[];
  recommends: boolean;
  keyrings: Record<string, string[]>;
  deployOs?: string | undefined;
}

/** Merges flags over the profile; an unknown OS or a malformed --keyring is a USAGE error. */
export function osPackagesSettings(req: OsPackagesRequest): OsPackagesSettings {
  const p = req.profile?.osPackages;
  const os = parseOsList(req.os?.length ? req.os : req.profile?.os) ?? [];
  for (const id of os) requireDebFamily(id);
  const keyrings: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(p?.keyrings ?? {})) {
    keyrings[k] = [path.resolve(req.profileDir ?? '.', v)];
  }
  for (const pair of req.keyrings ?? []) {
    const i = pair.indexOf('=');
    if (i <= 0 || i === pair.length - 1) {
      throw new FerryError('USAGE', `--keyring '${pair}' is not OS=FILE.`, {
        hint: 'Example: --keyring ubuntu-24.04=/usr/share/keyrings/ubuntu-archive-keyring.gpg or --keyring docker=docker.gpg',
      });
    }
    (keyrings[pair.slice(0, i)] ??= []).push(path.resolve(pair.slice(i + 1)));
  }
  const deployOs = req.deployOs ?? p?.deployHost;
  if (deployOs) {
    requireDebFamily(deployOs);
    if (!os.includes(deployOs)) os.push(deployOs);
  }
  return {
    os,
    extra: [...new Set([...(p?.extra ?? []), ...(req.extra ?? [])])],
    recommends: req.noRecommends ? false : (p?.recommends ?? true),
    keyrings,
    deployOs,
  };
}

export interface OsPackagesPlan {
  debs: ResolvedDebSet[];
  choices: { os: string; choice: ResolveChoice }[];
}

/** Resolves every target OS's set for the plan's architectures and variables. */
export async function planOsPackages(
  settings: OsPackagesSettings,
  plan: { data: KubesprayData; options: ComputeOptions },
  net: {
    client: HttpClient;
    cacheDir: string;
    mirrors?: MirrorMap | undefined;
    now?: Date | undefined;
    signal?: AbortSignal | undefined;
    log?: (m: string) => void;
  },
): Promise<OsPackagesPlan> {
  const keyrings: Record<string, Uint8Array[]> = {};
  for (const [k, files] of Object.entries(settings.keyrings)) {
    keyrings[k] = await Promise.all(
      files.map((f) =>
        fs.readFile(f).catch((e: Error) => {
          throw new FerryError('CONFIG', `Cannot read the keyring ${f}: ${e.message}`, { artifact: f });
        }),
      ),
    );
  }
  const ctx: DebPlanContext = { ...net, keyrings };
  const debs: ResolvedDebSet[] = [];
  const choices: OsPackagesPlan['choices'] = [];
  for (const id of settings.os) {
    const os = requireDebFamily(id);
    const roots = kubesprayOsRoots(plan.data, os, {
      vars: plan.options.vars as PyDict | undefined,
      inventoryVars: plan.options.inventoryVars as PyDict | undefined,
      arch: plan.options.arches[0],
      deployHost: settings.deployOs === id,
      extra: settings.extra,
    });
    const r = await planDebSet(
      { os, arches: plan.options.arches, roots, recommends: settings.recommends },
      ctx,
    );
    debs.push(r.set);
    for (const c of r.choices) choices.push({ os: id, choice: c });
  }
  await pruneIndexCache(net.cacheDir, 30, net.now);
  return { debs, choices };
}

/** `ferry plan`'s text for the OS sets: per OS the roots and why, the counts and the total size. */
export function osPackagesSummary(debs: ResolvedDebSet[]): string[] {
  const out: string[] = [];
  const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
  for (const s of debs) {
    const size = s.packages.reduce((a, p) => a + p.size, 0);
    out.push('');
    out.push(
      `OS packages for ${s.os} (${s.arches.join(', ')}): ${s.roots.length} roots → ${s.packages.length} packages, ${mb(size)}`,
    );
    for (const src of s.sources) {
      out.push(
        `  from ${src.uri} ${src.suite} ${src.components.join(' ')}${src.date ? ` (${src.date})` : ''}`,
      );
    }
    const w = Math.max(8, ...s.roots.map((r) => r.name.length));
    for (const r of s.roots) out.push(`  ${r.name.padEnd(w)}  ${r.why}`);
  }
  return out;
}
