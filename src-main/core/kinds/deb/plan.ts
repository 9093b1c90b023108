/**
 * Planning the OS packages of one target OS: fetch each suite's InRelease through Ferry's
 * download layer (mirrors, proxy, retries), verify it with the distribution's keyring and its
 * dates, fetch the Packages indexes it names (checked against its SHA256 lines while they
 * stream), and resolve the roots per architecture into a ResolvedDebSet, the contract `fetch`
 * downloads from. Everything of one OS is resolved from the one moment the InRelease files name.
 */
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../../base/errors/index.js';
import { downloadToFile, discardPartial } from '../../fetch/download/download-file.js';
import type { HttpClient } from '../../fetch/download/http-client.js';
import { mirrorUrl, type MirrorMap } from '../../fetch/download/mirrors.js';
import { defaultSuites, dockerSuite, requireDebFamily, type AptSuite, type OsModel } from '../os.js';
import { DEBIAN_ARCHIVE_KEYRING } from './keyrings.js';
import { readPackagesIndex, type DebPackage } from './packages.js';
import { packagesIndexes, readKeyring, verifyInRelease, type Keyring, type Release } from './release.js';
import { resolve, Universe, type ResolveChoice } from './resolve.js';
import type { RootPackage } from './roots.js';
import type { DebSource, ResolvedDeb, ResolvedDebSet } from './set.js';

export interface DebPlanContext {
  client: HttpClient;
  /** Verified indexes are kept here by sha256, so planning again reads them from disk. */
  cacheDir: string;
  mirrors?: MirrorMap | undefined;
  /**
   * Keyring files by OS id (a private mirror's key, Ubuntu's archive key) and `docker` for
   * Docker's repository. Debian's archive keyring is shipped with Ferry.
   */
  keyrings?: Record<string, Uint8Array[]>;
  /** Replaces the default suites of an OS (tests, private mirrors with another layout). */
  suites?: (os: OsModel, arch: string) => AptSuite[];
  now?: Date | undefined;
  signal?: AbortSignal | undefined;
  /** Progress lines ("debian bookworm: InRelease verified"). */
  log?: (message: string) => void;
}

export interface DebPlanRequest {
  os: OsModel;
  arches: string[];
  roots: RootPackage[];
  /** apt's Install-Recommends (default true, as on a node). */
  recommends?: boolean;
}

export interface DebPlanResult {
  set: ResolvedDebSet;
  /** Relations met by one of several providers: which was chosen. */
  choices: ResolveChoice[];
}

const label = (os: OsModel, s: AptSuite): string =>
  `${os.id} ${s.uri.replace(/^https?:\/\//, '')} ${s.suite}`;

async function keyringFor(os: OsModel, s: AptSuite, ctx: DebPlanContext): Promise<Keyring> {
  const given = s.keyring === 'docker' ? ctx.keyrings?.docker : ctx.keyrings?.[os.id];
  if (given?.length) return readKeyring(...given);
  if (s.keyring === 'distro' && os.keyring?.shipped === 'debian-archive-keyring.gpg') {
    return readKeyring(DEBIAN_ARCHIVE_KEYRING());
  }
  throw new FerryError(
    'CONFIG',
    s.keyring === 'docker'
      ? `No keyring for Docker's repository ${s.uri} (container_manager: docker).`
      : `No archive keyring for ${os.title}: Ferry ships Debian's only.`,
    {
      artifact: label(os, s),
      hint:
        s.keyring === 'docker'
          ? "Give Docker's public key (https://download.docker.com/linux/<distro>/gpg) with --keyring docker=FILE."
          : `Give the keyring with --keyring ${os.id}=FILE (${os.keyring?.path ?? 'the distribution key'}, from the ${os.keyring?.package ?? 'keyring'} package).`,
    },
  );
}

/** GETs a small file into `dest` afresh (no resume across runs: an InRelease changes in place). */
async function getFresh(ctx: DebPlanContext, url: string, dest: string, what: string): Promise<Buffer> {
  await discardPartial(dest);
  await downloadToFile(ctx.client, {
    url: mirrorUrl(url, ctx.mirrors),
    dest,
    label: what,
    signal: ctx.signal,
  });
  const b = await fs.readFile(dest);
  await discardPartial(dest);
  return b;
}

interface SuiteIndex {
  suite: AptSuite;
  release: Release;
  source: DebSource;
}

async function loadSuite(os: OsModel, s: AptSuite, ctx: DebPlanContext): Promise<SuiteIndex> {
  const name = label(os, s);
  const base = `${s.uri.replace(/\/+$/, '')}/dists/${s.suite}`;
  const tmp = path.join(ctx.cacheDir, 'tmp', `${encodeURIComponent(`${s.uri}|${s.suite}`)}.InRelease`);
  // The keyring first: without one nothing fetched could be trusted, so nothing is fetched.
  const keyring = await keyringFor(os, s, ctx);
  const raw = await getFresh(ctx, `${base}/InRelease`, tmp, `${name} InRelease`);
  const v = await verifyInRelease(raw, { suite: name, keyring, now: ctx.now });
  ctx.log?.(`${name}: InRelease verified (${v.release.date?.toISOString() ?? 'undated'})`);
  return {
    suite: s,
    release: v.release,
    source: {
      uri: s.uri,
      suite: s.suite,
      components: s.components,
      ...(v.release.date ? { date: v.release.date.toISOString() } : {}),
    },
  };
}

/**
 * One component/arch index of a verified suite: from the cache when a file of that sha256 is
 * there, else downloaded (the first listed form the mirror has: .xz, .gz, plain). Its bytes are
 * checked against the Release while they are parsed; a mismatch throws, naming both values.
 */
async function loadIndex(
  os: OsModel,
  si: SuiteIndex,
  component: string,
  arch: string,
  ctx: DebPlanContext,
): Promise<DebPackage[]> {
  const name = label(os, si.suite);
  const candidates = packagesIndexes(si.release, component, arch, name);
  const base = `${si.suite.uri.replace(/\/+$/, '')}/dists/${si.suite.suite}`;
  let lastMissing: unknown;
  const cached = async (c: (typeof candidates)[number]): Promise<boolean> =>
    fs.stat(path.join(ctx.cacheDir, 'indexes', c.sha256)).then(
      (st) => st.size === c.size,
      () => false,
    );
  // Any form already cached wins over asking the mirror again for a better-compressed one.
  const order: typeof candidates = [];
  for (const c of candidates) if (await cached(c)) order.push(c);
  for (const c of candidates) if (!order.includes(c)) order.push(c);
  for (const c of order) {
    const file = path.join(ctx.cacheDir, 'indexes', c.sha256);
    const have = await cached(c);
    if (!have) {
      const part = `${file}.part`;
      try {
        await downloadToFile(ctx.client, {
          url: mirrorUrl(`${base}/${c.path}`, ctx.mirrors),
          dest: part,
          expectSha256: c.sha256,
          expectSize: c.size,
          label: `${name} ${c.path}`,
          checksumHint:
            'the mirror serves another index than its InRelease names; refresh or use another mirror',
          signal: ctx.signal,
        });
      } catch (e) {
        // A mirror without the compressed forms: try the next one the Release lists.
        if (e instanceof FerryError && e.code === 'NOT_FOUND') {
          lastMissing = e;
          await discardPartial(part);
          continue;
        }
        throw e;
      }
      await fs.rename(part, file);
      await fs.rm(`${part}.json`, { force: true });
    }
    // Marks the file as in use, for pruneIndexCache.
    const t = new Date();
    await fs.utimes(file, t, t).catch(() => undefined);
    const records = await readPackagesIndex(createReadStream(file, { highWaterMark: 1 << 20 }), {
      index: c,
      plain: si.release.files.get(c.path.replace(/\.(xz|gz)$/, '')),
      name: `${name} ${c.path}`,
      origin: `${si.suite.uri} ${si.suite.suite}`,
    }).catch(async (e: unknown) => {
      // A cached file that no longer matches is dropped, so the next run downloads it again.
      await fs.rm(file, { force: true });
      throw e;
    });
    return records;
  }
  throw new FerryError(
    'NOT_FOUND',
    `${name}: none of ${candidates.map((c) => c.path).join(', ')} is served.`,
    {
      artifact: name,
      hint: 'the mirror lacks the indexes its Release lists; use a complete mirror',
      cause: lastMissing,
    },
  );
}

/** Keeps, for names Kubespray pins, only the pinned version (so the Universe's candidate is it). */
function applyPins(records: DebPackage[], roots: RootPackage[], os: OsModel, arch: string): DebPackage[] {
  const pins = new Map(roots.filter((r) => r.version).map((r) => [r.name, r.version!]));
  if (!pins.size) return records;
  const out = records.filter((p) => !pins.has(p.package) || p.version === pins.get(p.package));
  for (const [name, version] of pins) {
    if (!out.some((p) => p.package === name)) {
      const have = [...new Set(records.filter((p) => p.package === name).map((p) => p.version))];
      throw new FerryError(
        'NOT_FOUND',
        `${os.id} ${arch}: ${name}=${version} is in none of the suites (${have.length ? `they have ${have.join(', ')}` : `no version of ${name}`}).`,
        {
          artifact: `${name}=${version}`,
          hint: 'Kubespray pins this version; check the docker_version / containerd settings and the mirror.',
        },
      );
    }
  }
  return out;
}

function whyOf(reason: string | undefined, roots: Map<string, RootPackage>, name: string): string {
  if (reason === 'root') return roots.get(name)?.why ?? 'asked for';
  if (reason === 'baseline') return 'Essential/required: on every node, included so an old node updates';
  const m = /^(\S+) (Pre-Depends|Depends|Recommends)$/.exec(reason ?? '');
  return m ? `${m[2]} of ${m[1]}` : (reason ?? '');
}

/** Resolves one OS for every architecture from its suites' verified indexes. */
export async function planDebSet(req: DebPlanRequest, ctx: DebPlanContext): Promise<DebPlanResult> {
  const os = requireDebFamily(req.os.id);
  const needsDocker = req.roots.some((r) => r.source === 'docker');
  const rootsByName = new Map(req.roots.map((r) => [r.name, r]));
  const suitesCache = new Map<string, Promise<SuiteIndex>>();
  const sources = new Map<string, DebSource>();
  const packages = new Map<string, ResolvedDeb>();
  const choices: ResolveChoice[] = [];
  const errors: string[] = [];
  for (const arch of req.arches) {
    if (!os.arches.includes(arch)) {
      throw new FerryError('UNSUPPORTED', `${os.title} has no ${arch} packages in Ferry's model.`, {
        artifact: `${os.id} ${arch}`,
      });
    }
    const suites = [...(ctx.suites ?? defaultSuites)(os, arch)];
    if (needsDocker && !suites.some((s) => s.keyring === 'docker')) suites.push(dockerSuite(os));
    const records: DebPackage[] = [];
    const uriOf = new Map<DebPackage, string>();
    for (const s of suites) {
      const key = `${s.uri} ${s.suite}`;
      let p = suitesCache.get(key);
      if (!p) {
        p = loadSuite(os, s, ctx);
        suitesCache.set(key, p);
      }
      const si = await p;
      sources.set(key, si.source);
      for (const comp of s.components) {
        for (const r of await loadIndex(os, si, comp, arch, ctx)) {
          records.push(r);
          uriOf.set(r, s.uri);
        }
      }
    }
    const u = new Universe(applyPins(records, req.roots, os, arch), arch);
    const r = resolve(
      u,
      req.roots.map((x) => x.name),
      { arch, recommends: req.recommends ?? true, baseline: true },
    );
    for (const e of r.errors) errors.push(`${os.id} ${arch}: ${e.message}`);
    choices.push(...r.choices);
    for (const p of r.packages) {
      const key = `${p.package}_${p.version}_${p.architecture}`;
      if (packages.has(key)) continue;
      packages.set(key, {
        package: p.package,
        version: p.version,
        arch: p.architecture,
        uri: uriOf.get(p) ?? suites[0].uri,
        filename: p.filename,
        sha256: p.sha256,
        size: p.size,
        why: whyOf(r.reasons.get(`${p.package}:${u.archOf(p)}`), rootsByName, p.package),
      });
    }
  }
  if (errors.length) {
    throw new FerryError(
      'NOT_FOUND',
      `${os.title}: ${errors.length} package(s) cannot be resolved:\n  ${errors.join('\n  ')}`,
      {
        artifact: os.id,
        hint: 'Check the package names (--os-package), the suites and components of the mirror, and the architectures.',
        details: { errors },
      },
    );
  }
  return {
    set: {
      os: os.id,
      arches: req.arches,
      sources: [...sources.values()],
      roots: req.roots.map((r) => ({ name: r.version ? `${r.name}=${r.version}` : r.name, why: r.why })),
      packages: [...packages.values()].sort((a, b) =>
        a.package < b.package ? -1 : a.package > b.package ? 1 : a.arch < b.arch ? -1 : 1,
      ),
    },
    choices,
  };
}

/**
 * Drops cached indexes no plan has read for `maxAgeDays` (each archive refresh adds new ones; a
 * Debian main index is ~10 MB compressed). Best effort: a file in use elsewhere is just skipped.
 */
export async function pruneIndexCache(
  cacheDir: string,
  maxAgeDays = 30,
  now = new Date(),
): Promise<string[]> {
  const dir = path.join(cacheDir, 'indexes');
  const removed: string[] = [];
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    const file = path.join(dir, name);
    const st = await fs.stat(file).catch(() => undefined);
    if (st?.isFile() && now.getTime() - st.mtime.getTime() > maxAgeDays * 86400e3) {
      await fs.rm(file, { force: true });
      removed.push(name);
    }
  }
  return removed;
}
