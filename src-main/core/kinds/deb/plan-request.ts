/**
 * The OS-package part of a plan request: which target OSes, extra packages, Recommends and
 * keyrings (flags win over the profile), and the call that turns them into one ResolvedDebSet per
 * OS for plan.json. Kept apart from the catalog so planning files and images needs no network.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../../base/errors/index.js';
import type { HttpClient, TlsSettings } from '../../fetch/download/http-client.js';
import type { MirrorMap } from '../../fetch/download/mirrors.js';
import type { ComputeOptions } from '../../plan/catalog/plan.js';
import type { KubesprayData } from '../../plan/catalog/source.js';
import { fromPlain, PyDict } from '../../plan/catalog/jinja/values.js';
import type { Profile } from '../../plan/profile/schema.js';
import { osModel, parseOsList, RPM_OS_IDS, rpmRepos, type RpmRepoOptions } from '../os.js';
import { planRpmSet, type RpmPlanContext } from '../rpm/plan.js';
import { readPinnedKeys } from '../rpm/repomd.js';
import type { ResolvedRpmSet } from '../rpm/set.js';
import { planDebSet, pruneIndexCache, type DebPlanContext } from './plan.js';
import type { ResolveChoice } from './resolve.js';
import { kubesprayOsRoots, kubesprayVar, type RootsOptions } from './roots.js';
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
  /** --rpm-repo OS=URL (a distribution root) or OS:ID=URL (one repository); over the profile's. */
  rpmRepos?: string[] | undefined;
  /** --rpm-key OS=FILE (or epel=FILE, docker=FILE): a key trusted in place of the pinned one. */
  rpmKeys?: string[] | undefined;
  /** --client-cert / --client-key: PEM files for mutual TLS with the RPM repositories' hosts. */
  clientCert?: string | undefined;
  clientKey?: string | undefined;
  /** --rpm-ca: the CA the RPM repositories' hosts are signed by (Red Hat's CDN: redhat-uep.pem). */
  rpmCa?: string | undefined;
}

export interface OsPackagesSettings {
  os: string[];
  extra: string[];
  recommends: boolean;
  keyrings: Record<string, string[]>;
  deployOs?: string | undefined;
  /** Per RPM OS id: the repository root / exact repositories the user gave. */
  rpmRepos: Record<string, RpmRepoOptions>;
  /** Key files by OS id, 'epel' or 'docker' (absolute paths). */
  rpmKeys: Record<string, string[]>;
  clientCert?: string | undefined;
  clientKey?: string | undefined;
  rpmCa?: string | undefined;
}

/** Splits NAME=VALUE, refusing a malformed pair as a USAGE error naming the flag. */
function pairOf(flag: string, pair: string, example: string): [string, string] {
  const i = pair.indexOf('=');
  if (i <= 0 || i === pair.length - 1) {
    throw new FerryError('USAGE', `${flag} '${pair}' is not ${example.split(' ')[0]}.`, {
      hint: `Example: ${flag} ${example.split(' ').slice(1).join(' ')}`,
    });
  }
  return [pair.slice(0, i), pair.slice(i + 1)];
}

/** --rpm-repo values (and the profile's rpmRepos) into per-OS repository options. */
function rpmRepoOptions(values: Array<[string, string]>): Record<string, RpmRepoOptions> {
  const out: Record<string, RpmRepoOptions> = {};
  for (const [k, url] of values) {
    const [id, repo] = k.split(':');
    const m = osModel(id.trim().toLowerCase());
    if (m.family !== 'rpm') {
      throw new FerryError('USAGE', `--rpm-repo names ${m.title}, which is not an RPM OS.`, {
        artifact: k,
        hint: `Use one of ${RPM_OS_IDS.join(', ')}; Debian and Ubuntu archives are set with --mirror.`,
      });
    }
    if (!/^(https?|file):\/\//.test(url)) {
      throw new FerryError('USAGE', `--rpm-repo ${k}=${url}: the base URL must be http(s)://.`, {
        artifact: k,
      });
    }
    const o = (out[m.id] ??= {});
    if (repo) (o.repos ??= {})[repo.trim()] = url;
    else o.root = url;
  }
  return out;
}

/** Merges flags over the profile; an unknown OS or a malformed --keyring is a USAGE error. */
export function osPackagesSettings(req: OsPackagesRequest): OsPackagesSettings {
  const p = req.profile?.osPackages;
  const os = parseOsList(req.os?.length ? req.os : req.profile?.os) ?? [];
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
  const rel = (f: string): string => path.resolve(req.profileDir ?? '.', f);
  const rpmKeys: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(p?.rpmKeys ?? {})) rpmKeys[k] = [rel(v)];
  for (const pair of req.rpmKeys ?? []) {
    const [k, f] = pairOf(
      '--rpm-key',
      pair,
      'OS=FILE rocky-9=RPM-GPG-KEY-mirror or epel=FILE or docker=FILE',
    );
    (rpmKeys[k] ??= []).push(path.resolve(f));
  }
  const rpmRepos = rpmRepoOptions([
    ...Object.entries(p?.rpmRepos ?? {}),
    ...(req.rpmRepos ?? []).map((x) =>
      pairOf('--rpm-repo', x, 'OS=URL rhel-9=https://satellite.example/pulp/content/org/lib/rhel9'),
    ),
  ]);
  const clientCert = req.clientCert ?? (p?.clientCert ? rel(p.clientCert) : undefined);
  const clientKey = req.clientKey ?? (p?.clientKey ? rel(p.clientKey) : undefined);
  if ((clientCert === undefined) !== (clientKey === undefined)) {
    throw new FerryError('USAGE', 'A client certificate needs its key, and a key its certificate.', {
      hint: 'Give both --client-cert FILE and --client-key FILE (PEM), e.g. an entitlement certificate and key from /etc/pki/entitlement.',
    });
  }
  const rpmCa = req.rpmCa ?? (p?.rpmCa ? rel(p.rpmCa) : undefined);
  const deployOs = req.deployOs ?? p?.deployHost;
  if (deployOs) {
    osModel(deployOs);
    if (!os.includes(deployOs)) os.push(deployOs);
  }
  return {
    os,
    extra: [...new Set([...(p?.extra ?? []), ...(req.extra ?? [])])],
    recommends: req.noRecommends ? false : (p?.recommends ?? true),
    keyrings,
    ...(deployOs ? { deployOs } : {}),
    rpmRepos,
    rpmKeys,
    ...(clientCert ? { clientCert } : {}),
    ...(clientKey ? { clientKey } : {}),
    ...(rpmCa ? { rpmCa } : {}),
  };
}

export interface OsPackagesPlan {
  debs: ResolvedDebSet[];
  rpms: ResolvedRpmSet[];
  choices: { os: string; choice: ResolveChoice }[];
}

/** The client certificate, key and CA files read once, or undefined when none is given. */
async function rpmTlsMaterial(
  settings: Pick<OsPackagesSettings, 'clientCert' | 'clientKey' | 'rpmCa'>,
): Promise<TlsSettings | undefined> {
  if (!settings.rpmCa && (!settings.clientCert || !settings.clientKey)) return undefined;
  const read = (f: string, what: string): Promise<string> =>
    fs.readFile(f, 'utf8').catch((e: Error) => {
      throw new FerryError('CONFIG', `Cannot read the ${what} ${f}: ${e.message}`, { artifact: f });
    });
  return {
    ...(settings.clientCert ? { cert: await read(settings.clientCert, 'client certificate') } : {}),
    ...(settings.clientKey ? { key: await read(settings.clientKey, 'client key') } : {}),
    ...(settings.rpmCa ? { ca: await read(settings.rpmCa, 'CA certificate') } : {}),
  };
}

/**
 * The client certificate for every host the RPM OSes are read from (their roots and exact
 * repositories), so mutual TLS reaches the CDN or Satellite and no other host gets it.
 */
export async function rpmClientTls(
  settings: OsPackagesSettings,
): Promise<Record<string, TlsSettings> | undefined> {
  const t = await rpmTlsMaterial(settings);
  if (!t) return undefined;
  const tls: Record<string, TlsSettings> = {};
  for (const id of settings.os) {
    const m = osModel(id);
    if (m.family !== 'rpm') continue;
    for (const arch of m.arches) {
      let repos: ReturnType<typeof rpmRepos> = [];
      try {
        repos = rpmRepos(m, arch, settings.rpmRepos[id] ?? {});
      } catch {
        // No root for RHEL: planning reports it with the flag to use.
      }
      for (const r of repos) {
        const u = new URL(r.baseurl);
        if (u.protocol === 'https:') tls[u.host] = t;
      }
    }
  }
  return tls;
}

/**
 * The same certificate and CA for fetching a plan's packages: the hosts come from the plan's
 * own RPM sources (a fetch of a finished plan has no --rpm-repo), so the .rpm downloads present
 * the certificate to exactly the hosts the metadata was read from.
 */
export async function rpmFetchTls(
  settings: Pick<OsPackagesSettings, 'clientCert' | 'clientKey' | 'rpmCa'>,
  rpms: readonly ResolvedRpmSet[] | undefined,
): Promise<Record<string, TlsSettings> | undefined> {
  if (!rpms?.length) return undefined;
  const t = await rpmTlsMaterial(settings);
  if (!t) return undefined;
  const tls: Record<string, TlsSettings> = {};
  for (const set of rpms)
    for (const src of set.sources) {
      const u = new URL(src.uri);
      if (u.protocol === 'https:') tls[u.host] = t;
    }
  return tls;
}

/** Resolves every target OS's set for the plan's architectures and variables. */
export async function planOsPackages(
  settings: OsPackagesSettings,
  plan: { data: KubesprayData; options: ComputeOptions },
  net: {
    client: HttpClient;
    cacheDir: string;
    /** Where verified RPM metadata is cached (default: beside cacheDir, `dnf`). */
    rpmCacheDir?: string | undefined;
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
  const rpmKeys: Record<string, Uint8Array[]> = {};
  for (const [k, files] of Object.entries(settings.rpmKeys)) {
    rpmKeys[k] = await Promise.all(
      files.map(async (f) => {
        const bytes = await fs.readFile(f).catch((e: Error) => {
          throw new FerryError('CONFIG', `Cannot read the RPM key ${f}: ${e.message}`, { artifact: f });
        });
        // Read once here so a file that is no key is refused naming the file, before any download.
        await readPinnedKeys(bytes, `The RPM key ${f} (for ${k})`).catch((e: unknown) => {
          if (!(e instanceof FerryError)) throw e;
          throw new FerryError(e.code, e.message, {
            artifact: f,
            hint: `Give the repository's armoured or binary OpenPGP public key (e.g. RPM-GPG-KEY-…) for ${k}.`,
            cause: e,
          });
        });
        return bytes;
      }),
    );
  }
  const rpmCtx: RpmPlanContext = {
    ...net,
    cacheDir: net.rpmCacheDir ?? path.join(net.cacheDir, '..', 'dnf'),
    keys: rpmKeys,
  };
  const debs: ResolvedDebSet[] = [];
  const rpms: ResolvedRpmSet[] = [];
  const choices: OsPackagesPlan['choices'] = [];
  // ComputeOptions allow plain objects as well as PyDicts; the roots' variable store takes PyDicts.
  const dict = (v: Record<string, unknown> | PyDict): PyDict =>
    v instanceof PyDict ? v : (fromPlain(v) as PyDict);
  const varOpts: RootsOptions = {
    ...(plan.options.vars ? { vars: dict(plan.options.vars) } : {}),
    ...(plan.options.inventoryVars ? { inventoryVars: dict(plan.options.inventoryVars) } : {}),
  };
  for (const id of settings.os) {
    const os = osModel(id);
    const roots = kubesprayOsRoots(plan.data, os, {
      ...varOpts,
      ...(plan.options.arches[0] ? { arch: plan.options.arches[0] } : {}),
      deployHost: settings.deployOs === id,
      extra: settings.extra,
    });
    if (os.family === 'rpm') {
      const epel = kubesprayVar(plan.data, os, varOpts, 'epel_enabled');
      const r = await planRpmSet(
        {
          os,
          arches: plan.options.arches,
          roots,
          weakDeps: settings.recommends,
          repos: { ...settings.rpmRepos[id], ...(epel ? { epel: true } : {}) },
        },
        rpmCtx,
      );
      rpms.push(r.set);
      continue;
    }
    const r = await planDebSet(
      { os, arches: plan.options.arches, roots, recommends: settings.recommends },
      ctx,
    );
    debs.push(r.set);
    for (const c of r.choices) choices.push({ os: id, choice: c });
  }
  await pruneIndexCache(net.cacheDir, 30, net.now);
  if (rpms.length) await pruneIndexCache(rpmCtx.cacheDir, 30, net.now);
  return { debs, rpms, choices };
}

const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;

/** One OS set's head in `ferry plan`'s text: the counts and size, its sources, its roots and why. */
function setSummaryHead<Src>(
  s: {
    os: string;
    arches: string[];
    roots: Array<{ name: string; why: string }>;
    packages: Array<{ size: number }>;
    sources: Src[];
  },
  source: (src: Src) => string,
): string[] {
  const size = s.packages.reduce((a, p) => a + p.size, 0);
  const out = [
    '',
    `OS packages for ${s.os} (${s.arches.join(', ')}): ${s.roots.length} roots → ${s.packages.length} packages, ${mb(size)}`,
    ...s.sources.map((src) => `  from ${source(src)}`),
  ];
  const w = Math.max(8, ...s.roots.map((r) => r.name.length));
  for (const r of s.roots) out.push(`  ${r.name.padEnd(w)}  ${r.why}`);
  return out;
}

/** `ferry plan`'s text for the OS sets: per OS the roots and why, the counts and the total size. */
export function osPackagesSummary(debs: ResolvedDebSet[]): string[] {
  return debs.flatMap((s) =>
    setSummaryHead(
      s,
      (src) => `${src.uri} ${src.suite} ${src.components.join(' ')}${src.date ? ` (${src.date})` : ''}`,
    ),
  );
}

/**
 * `ferry plan`'s text for the RPM sets: per OS the repositories (and whether their repomd is
 * signed), the roots and why, then every package with its size, per architecture.
 */
export function rpmPackagesSummary(rpms: ResolvedRpmSet[]): string[] {
  const out: string[] = [];
  for (const s of rpms) {
    out.push(
      ...setSummaryHead(
        s,
        (src) =>
          `${src.id} ${src.arch} ${src.uri} (${src.repomdSigned ? 'repomd signed' : 'repomd unsigned'})`,
      ),
    );
    for (const arch of s.arches) {
      const ps = s.packages.filter((p) => p.repoArch === arch);
      out.push(`  ${arch}: ${ps.length} packages, ${mb(ps.reduce((a, p) => a + p.size, 0))}`);
      for (const p of ps) {
        const evr = `${p.epoch ? `${p.epoch}:` : ''}${p.version}-${p.release}`;
        out.push(
          `    ${`${p.name}-${evr}.${p.arch}`.padEnd(50)} ${mb(p.size).padStart(9)}  ${p.source}${p.modular ? ' (modular)' : ''}`,
        );
      }
    }
    if (s.modules)
      out.push('  modules.yaml carried for the modular packages (and module_hotfixes=1 on the node)');
  }
  return out;
}
