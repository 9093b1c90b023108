import path from 'node:path';
import { openBundle } from '../../core/bundle/reader.js';
import {
  checkChoices,
  computePlan,
  fromPlain,
  loadKubespray,
  PyDict,
  readInventory,
  supportedKubeVersions,
  unknownVariableWarnings,
} from '../../core/plan/catalog/index.js';
import type { ComputeOptions, KubesprayData, Plan } from '../../core/plan/catalog/index.js';
import { dataDir } from '../../core/base/config/dirs.js';
import { HttpClient } from '../../core/fetch/download/http-client.js';
import { mergeProxyConfig, proxyConfigFromEnv } from '../../core/fetch/download/proxy.js';
import { osPackagesSettings, planOsPackages } from '../../core/kinds/deb/plan-request.js';
import type { Drive as CoreDrive } from '../../core/media/drives/index.js';
import { FerryError } from '../../core/base/errors/index.js';
import { exportBundle } from '../../core/media/export/index.js';
import { fetchBundle, fetchKubesprayTarball, parsePlan, type FetchOptions } from '../../core/fetch/index.js';
import type { JobContext } from '../../core/base/jobs/job.js';
import { planPython } from '../../core/kinds/python/plan.js';
import { wheelsOf } from '../../core/kinds/python/fetch-wheels.js';
import { checkSignature } from '../../core/bundle/keys/keystore.js';
import type {
  ClusterChoices,
  Drive,
  ExportSummary,
  PlanPrepared,
  PlanSizesT,
  PlanSummary,
} from '../contract.js';
import { CredentialStore, defaultAuthFiles } from '../../core/fetch/oci/auth.js';
import { RegistryClient } from '../../core/fetch/oci/registry-client.js';
import { sizePlan, type PlanSizes } from '../../core/fetch/sizes.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { jobOrThrow } from './jobs.js';
import { roomFromSizes, roomGroups } from '../../core/plan/room.js';
import { driveNotes } from '../../core/media/drives/notes.js';
import { knownReleases } from '../../core/plan/releases.js';

/**
 * The connected side: choices → plan (catalog) → fetch into the working bundle → export to a
 * drive or folder. The working bundle lives in Ferry's data dir and is updated in place, so a
 * second fetch downloads only what changed and a paused fetch resumes.
 */

const ADDON_VARS: Record<string, string> = {
  helm: 'helm_enabled',
  metrics_server: 'metrics_server_enabled',
  ingress_nginx: 'ingress_nginx_enabled',
  cert_manager: 'cert_manager_enabled',
  local_path_provisioner: 'local_path_provisioner_enabled',
  metallb: 'metallb_enabled',
  argocd: 'argocd_enabled',
  krew: 'krew_enabled',
};

export function workingBundleDir(env: NodeJS.ProcessEnv): string {
  return path.join(dataDir(env), 'outgoing', 'bundle');
}

/** The cluster choices as Kubespray extra-vars (what the user would put in the inventory). */
export function choicesToVars(c: ClusterChoices): Record<string, unknown> {
  const vars: Record<string, unknown> = {
    container_manager: c.runtime,
    kube_network_plugin: c.network,
  };
  for (const [addon, v] of Object.entries(ADDON_VARS)) vars[v] = c.addons.includes(addon as never);
  return vars;
}

/** Mirror settings split into file URL prefixes and registry hosts, the way fetch takes them. */
export async function mirrorOptions(
  s: AppServices,
): Promise<Pick<FetchOptions, 'mirrors' | 'registryMirrors' | 'proxy' | 'insecureRegistries'>> {
  const st = await s.settings.raw();
  const mirrors: Record<string, string> = {};
  const registryMirrors: Record<string, string> = {};
  for (const m of st.mirrors) {
    if (/^https?:\/\//.test(m.upstream)) mirrors[m.upstream] = m.mirror;
    else registryMirrors[m.upstream] = m.mirror;
  }
  const proxy = Object.fromEntries(Object.entries(st.proxy).filter(([, v]) => !!v));
  return {
    ...(Object.keys(mirrors).length ? { mirrors } : {}),
    ...(Object.keys(registryMirrors).length ? { registryMirrors } : {}),
    ...(Object.keys(proxy).length ? { proxy } : {}),
    ...(st.insecureRegistries.length ? { insecureRegistries: st.insecureRegistries } : {}),
  };
}

interface Loaded {
  data: KubesprayData;
  inventoryVars?: Awaited<ReturnType<typeof readInventory>>['vars'];
}

export function connectedHandlers(
  s: AppServices,
): Pick<
  Handlers,
  | 'plan.kubesprayVersions'
  | 'plan.prepare'
  | 'plan.compute'
  | 'plan.sizes'
  | 'fetch.start'
  | 'fetch.pause'
  | 'fetch.resume'
  | 'fetch.retryFailed'
  | 'drives.list'
  | 'export.start'
> {
  const dataCache = new Map<string, Promise<KubesprayData>>();
  const fetchPlans = new Map<string, Plan>();

  /** `ctx`: the plan job whose progress shows the tarball download (the first caller's). */
  const loadRelease = (tag: string, ctx?: JobContext): Promise<KubesprayData> => {
    let p = dataCache.get(`tag:${tag}`);
    if (!p) {
      p = (async () => {
        const net = await mirrorOptions(s);
        return loadKubespray(
          { tag },
          {
            env: s.env,
            ...(ctx ? { signal: ctx.signal } : {}),
            fetchTarball: async (t, url) => {
              ctx?.progress.setPhase(`downloading Kubespray ${t}`);
              if (ctx) ctx.progress.current = url;
              ctx?.report();
              const r = await fetchKubesprayTarball(new HttpClient({ proxy: net.proxy }), t, url, {
                env: s.env,
                mirrors: net.mirrors,
                ...(ctx
                  ? {
                      signal: ctx.signal,
                      onSize: (total: number | undefined) => {
                        if (total !== undefined) ctx.progress.bytesTotal = total;
                      },
                      onBytes: (n: number) => {
                        ctx.progress.addBytes(n);
                        ctx.report();
                      },
                    }
                  : {}),
              });
              return r.file;
            },
          },
        );
      })();
      // A failed load (no network) must not stick: the next try may have a mirror.
      p.catch(() => dataCache.delete(`tag:${tag}`));
      dataCache.set(`tag:${tag}`, p);
    }
    return p;
  };

  const load = async (k: ClusterChoices['kubespray'], ctx?: JobContext): Promise<Loaded> => {
    if (k.source === 'release') {
      if (!k.version) throw new FerryError('USAGE', 'Choose a Kubespray version first.');
      return { data: await loadRelease(k.version, ctx) };
    }
    if (k.source === 'folder') {
      const dir = s.picks.resolve(k.token, 'kubespray');
      return { data: await loadKubespray({ dir }) };
    }
    const inv = s.picks.resolve(k.token, 'inventory');
    if (!k.version) throw new FerryError('USAGE', 'Choose the Kubespray version this inventory is for.');
    return { data: await loadRelease(k.version, ctx), inventoryVars: (await readInventory(inv)).vars };
  };

  /**
   * The same checks as the CLI's: a value Kubespray's preflight refuses is an INVALID_CHOICE
   * error; a misspelt inventory variable is a warning shown with the plan. The cluster step's own
   * choices are Ferry's names, so only the inventory's are checked for spelling.
   */
  const corePlan = async (
    c: ClusterChoices,
  ): Promise<{ plan: Plan; warnings: string[]; data: KubesprayData; options: ComputeOptions }> => {
    const { data, inventoryVars } = await load(c.kubespray);
    const vars: Record<string, unknown> = choicesToVars(c);
    if (c.kubeVersion) vars.kube_version = c.kubeVersion;
    const extra = fromPlain(vars) as PyDict;
    checkChoices(data, { vars: extra, ...(inventoryVars ? { inventoryVars } : {}) }, (n) =>
      extra.has(n) ? 'the cluster step' : 'the inventory',
    );
    const warnings = unknownVariableWarnings(
      data,
      (inventoryVars?.keys() ?? []).map((k) => ({ name: String(k), source: 'the inventory' })),
    ).map((w) => w.message);
    const options: ComputeOptions = {
      arches: c.arches,
      vars: extra,
      ...(inventoryVars ? { inventoryVars } : {}),
      extraImages: c.extraImages,
      extraFiles: c.extraFiles.map((f) => ({ url: f.url, sha256: f.sha256.replace(/^sha256:/, '') })),
    };
    const plan = computePlan(data, options);
    // The deploy host's Python (kinds/python), through the app's mirrors and proxy.
    if (c.deployHost) {
      const net = await mirrorOptions(s);
      plan.python = await planPython({ os: c.deployHost.os, arch: c.deployHost.arches }, data, {
        env: s.env,
        ...(net.mirrors ? { mirrors: net.mirrors } : {}),
        ...(net.proxy ? { proxy: net.proxy } : {}),
      });
    }
    return { plan, warnings, data, options };
  };

  /** The nodes' OS package sets, resolved at fetch time through the app's mirrors and proxy. */
  const withOsPackages = async (
    c: ClusterChoices,
    r: Awaited<ReturnType<typeof corePlan>>,
  ): Promise<Plan> => {
    if (!c.os?.length) return r.plan;
    const net = await mirrorOptions(s);
    const client = new HttpClient({ proxy: mergeProxyConfig(proxyConfigFromEnv(s.env), net.proxy) });
    try {
      const { debs } = await planOsPackages(
        osPackagesSettings({ os: c.os }),
        { data: r.data, options: r.options },
        {
          client,
          cacheDir: path.join(dataDir(s.env), 'cache', 'apt'),
          ...(net.mirrors ? { mirrors: net.mirrors } : {}),
        },
      );
      return { ...r.plan, debs };
    } finally {
      await client.close();
    }
  };

  const listDrives = async (): Promise<Drive[]> => (await s.drives.list()).map(driveView);

  const startFetch = async (plan: Plan): Promise<{ jobId: string }> => {
    const running = s.jobs.list().find((j) => j.kind === 'fetch' && j.state === 'running');
    if (running)
      throw new FerryError('USAGE', 'A download is already running.', { hint: 'Pause or cancel it first.' });
    const net = await mirrorOptions(s);
    const out = workingBundleDir(s.env);
    const fetchPlan = parsePlan(plan, 'the plan');
    const job = s.jobs.start('fetch', (ctx: JobContext) =>
      fetchBundle(fetchPlan, { out, env: s.env, ...net }, ctx),
    );
    fetchPlans.set(job.id, plan);
    return { jobId: job.id };
  };

  const again = async (jobId: string): Promise<{ jobId: string }> => {
    const old = jobOrThrow(s, jobId);
    const plan = fetchPlans.get(old.id);
    if (!plan || old.kind !== 'fetch')
      throw new FerryError('NOT_FOUND', `Job ${jobId} is not a download of this session.`);
    if (old.state === 'running') throw new FerryError('USAGE', 'That download is still running.');
    return startFetch(plan);
  };

  return {
    'plan.kubesprayVersions': () =>
      knownReleases({ env: s.env }).map(({ version, newest, cached }) => ({ version, newest, cached })),
    'plan.prepare': ({ kubespray }) => {
      const job = s.jobs.start('plan', async (ctx): Promise<PlanPrepared> => {
        ctx.progress.setPhase('reading Kubespray');
        ctx.report();
        const { data } = await load(kubespray, ctx);
        ctx.progress.setPhase('ready');
        return { kubesprayVersion: data.tag, kubeVersions: supportedKubeVersions(data) };
      });
      return { jobId: job.id };
    },
    'plan.compute': async (choices) => {
      const { plan, warnings } = await corePlan(choices);
      const view = planView(plan);
      return { ...view, warnings: [...warnings, ...view.warnings] };
    },
    'plan.sizes': async (choices) => {
      const r = await corePlan(choices);
      // The nodes' OS packages are sized from the archives' signed indexes (the same resolution
      // fetch.start makes, its indexes cached); an archive out of reach leaves them unsized.
      let plan: Plan = r.plan;
      let debsUnknown: string | undefined;
      try {
        plan = await withOsPackages(choices, r);
      } catch (err) {
        debsUnknown = (err as Error)?.message ?? String(err);
      }
      const net = await mirrorOptions(s);
      // Short timeouts, few retries: an unreachable upstream leaves sizes unknown, quickly.
      const client = new HttpClient({
        proxy: mergeProxyConfig(proxyConfigFromEnv(s.env), net.proxy),
        connectTimeoutMs: 10_000,
        idleTimeoutMs: 20_000,
        retry: { attempts: 2, baseMs: 300 },
      });
      const credentials = new CredentialStore({}, s.env);
      for (const f of defaultAuthFiles(s.env)) credentials.loadAuthFile(f, false);
      const registry = new RegistryClient(client, {
        credentials,
        registryMirrors: net.registryMirrors,
        insecure: net.insecureRegistries,
      });
      try {
        const sizes = await sizePlan(plan, {
          client,
          registry,
          mirrors: net.mirrors,
          cacheFile: path.join(dataDir(s.env), 'cache', 'sizes.json'),
        });
        if (debsUnknown)
          sizes.artifacts.push({
            kind: 'debs',
            key: 'debs',
            name: 'OS packages',
            bytes: null,
            unknown: debsUnknown,
            group: 'os packages',
          });
        return sizesView(plan, { ...sizes, unsized: sizes.artifacts.filter((a) => a.bytes === null).length });
      } finally {
        await client.close();
      }
    },
    'fetch.start': async ({ choices }) => startFetch(await withOsPackages(choices, await corePlan(choices))),
    'fetch.pause': ({ jobId }) => {
      const job = jobOrThrow(s, jobId);
      if (job.kind !== 'fetch' || job.state !== 'running') return { paused: false };
      // Finished downloads and partial files stay in the working bundle; resume continues them.
      job.cancel();
      return { paused: true };
    },
    'fetch.resume': ({ jobId }) => again(jobId),
    'fetch.retryFailed': ({ jobId }) => again(jobId),
    'drives.list': () => listDrives(),
    'export.start': async ({ target }) => {
      const src = workingBundleDir(s.env);
      await openBundle(src).catch((err) => {
        throw new FerryError('NOT_FOUND', 'There is no finished bundle to export yet.', {
          hint: 'Finish the download step first.',
          cause: err,
        });
      });
      let to: string;
      if (target.kind === 'drive') {
        const drive = (await s.drives.list()).find((d) => d.id === target.driveId);
        if (!drive)
          throw new FerryError('MEDIA_REMOVED', 'That drive is no longer connected.', {
            hint: 'Insert it again, then refresh the list.',
          });
        to = path.join(drive.mountPoint, 'ferry');
      } else if (target.kind === 'folder') {
        to = s.picks.resolve(target.token, 'export');
      } else {
        to = s.picks.resolve(target.token, 'export');
      }
      const archive = target.kind === 'archive';
      const job = s.jobs.start('export', async (ctx): Promise<ExportSummary> => {
        const r = await exportBundle(src, { to, archive, job: ctx, drives: s.drives, keyStore: s.keyStore });
        // The fingerprint shown is the one the offline side will see. A folder export is read
        // back as written; an archive keeps the source's signature or is re-signed by this machine.
        const out = await openBundle(archive ? src : r.to);
        const sig =
          archive && r.signature === 're-signed'
            ? { fingerprint: (await s.keyStore.ownKey())?.fingerprint }
            : await checkSignature(out.manifestBytes, out.signatureBytes, await s.keyStore.list());
        return {
          fingerprint: 'fingerprint' in sig && sig.fingerprint ? sig.fingerprint : null,
          signature: r.signature,
          bundleId: r.bundleId,
          files: r.files,
          bytesWritten: r.bytesWritten,
          bytesReused: r.bytesReused,
          seconds: r.seconds,
          label: r.to,
        };
      });
      return { jobId: job.id };
    },
  };
}

export function driveView(d: CoreDrive): Drive {
  const warnings = driveNotes(d);
  return {
    id: d.id,
    label: d.label,
    mount: d.mountPoint,
    fsType: d.fsType || 'unknown',
    size: d.size,
    free: d.free,
    removable: d.removable,
    warnings,
  };
}

/** Sizes grouped as planView groups the plan (core/plan/room), so the room chart draws bytes. */
export function sizesView(p: Plan, sizes: PlanSizes): PlanSizesT {
  return {
    bytes: sizes.unsized ? null : sizes.knownBytes,
    knownBytes: sizes.knownBytes,
    unsized: sizes.unsized,
    largestFile: Math.max(0, ...sizes.artifacts.map((a) => a.largestFile ?? a.bytes ?? 0)),
    groups: roomFromSizes(p, sizes.artifacts),
    notSized: sizes.artifacts
      .filter((a) => a.bytes === null)
      .map((a) => ({ name: a.name, reason: a.unknown ?? 'unknown' })),
  };
}

export function planView(p: Plan): PlanSummary {
  const files = p.files.filter((f) => f.enabled !== false);
  const images = p.images.filter((i) => i.enabled !== false);
  const wheels = wheelsOf(p.python).length;
  const warnings: string[] = [];
  const noSum = files.filter((f) => !f.checksum);
  if (noSum.length)
    warnings.push(
      `${noSum.length} file(s) have no published checksum: ${noSum
        .slice(0, 3)
        .map((f) => f.key)
        .join(', ')}`,
    );
  return {
    kubesprayVersion: p.kubespray,
    kubeVersion: p.kubeVersion,
    arches: p.arches,
    counts: {
      files: files.length,
      images: images.length,
      total: files.length + images.length + (p.kubesprayTarball ? 1 : 0) + wheels,
    },
    bytes: null,
    groups: roomGroups(p),
    warnings,
  };
}
