import path from 'node:path';
import {
  checkChoices,
  computePlan,
  fromPlain,
  loadKubespray,
  PyDict,
  readInventory,
  unknownVariableWarnings,
} from '../../core/plan/catalog/index.js';
import type { ComputeOptions, KubesprayData, Plan } from '../../core/plan/catalog/index.js';
import { dataDir } from '../../core/base/config/dirs.js';
import { HttpClient } from '../../core/fetch/download/http-client.js';
import { mergeProxyConfig, proxyConfigFromEnv } from '../../core/fetch/download/proxy.js';
import {
  osPackagesSettings,
  planOsPackages,
  rpmClientTls,
  rpmFetchTls,
} from '../../core/kinds/deb/plan-request.js';
import { FerryError } from '../../core/base/errors/index.js';
import { fetchKubesprayTarball, type FetchOptions } from '../../core/fetch/index.js';
import type { JobContext } from '../../core/base/jobs/job.js';
import { planPython } from '../../core/kinds/python/plan.js';
import { RPM_NODE_OSES } from '../choices.js';
import type { ClusterChoices } from '../contract.js';
import type { PickPurpose } from '../picks.js';
import type { AppServices } from '../services.js';
/**
 * What the connected side's plan, fetch and export handlers share: choices → plan (catalog,
 * the deploy host's Python, the nodes' OS packages) and the working bundle. The working bundle lives in Ferry's data dir and is updated in place, so a
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

/** Kubespray releases loaded once per session (a failed load is tried again), and plans from choices. */
export function createPlanner(s: AppServices) {
  const dataCache = new Map<string, Promise<KubesprayData>>();

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
            signal: ctx?.signal,
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
    checkChoices(data, { vars: extra, inventoryVars }, (n) =>
      extra.has(n) ? 'the cluster step' : 'the inventory',
    );
    const warnings = unknownVariableWarnings(
      data,
      (inventoryVars?.keys() ?? []).map((k) => ({ name: String(k), source: 'the inventory' })),
    ).map((w) => w.message);
    const options: ComputeOptions = {
      arches: c.arches,
      vars: extra,
      inventoryVars,
      extraImages: c.extraImages,
      extraFiles: c.extraFiles.map((f) => ({ url: f.url, sha256: f.sha256.replace(/^sha256:/, '') })),
    };
    const plan = computePlan(data, options);
    // The deploy host's Python (kinds/python), through the app's mirrors and proxy.
    if (c.deployHost) {
      const net = await mirrorOptions(s);
      plan.python = await planPython({ os: c.deployHost.os, arch: c.deployHost.arches }, data, {
        env: s.env,
        mirrors: net.mirrors,
        proxy: net.proxy,
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
    const ticked = (id: string) => c.os?.includes(id as (typeof c.os)[number]) ?? false;
    // The picked files, from their tokens (each bound to its purpose); a key for an OS that is
    // no longer ticked is left out, as its base URL is.
    const file = (token: string | undefined, purpose: PickPurpose) =>
      token ? s.picks.resolve(token, purpose) : undefined;
    const rpm = RPM_NODE_OSES.some(ticked);
    const settings = osPackagesSettings({
      os: c.os,
      rpmRepos: Object.entries(c.rpmRepos ?? {})
        .filter(([id, url]) => url && ticked(id))
        .map(([id, url]) => `${id}=${url}`),
      rpmKeys: Object.entries(c.rpmKeys ?? {})
        .filter(([id, token]) => token && ticked(id))
        .map(([id, token]) => `${id}=${file(token, 'rpmKey')}`),
      ...(rpm
        ? {
            clientCert: file(c.rpmClientCert, 'rpmClientCert'),
            clientKey: file(c.rpmClientKey, 'rpmClientKey'),
            rpmCa: file(c.rpmCa, 'rpmCa'),
          }
        : {}),
    });
    const tls = await rpmClientTls(settings);
    const client = new HttpClient({
      proxy: mergeProxyConfig(proxyConfigFromEnv(s.env), net.proxy),
      ...(tls ? { tls } : {}),
    });
    try {
      const { debs, rpms } = await planOsPackages(
        settings,
        { data: r.data, options: r.options },
        {
          client,
          cacheDir: path.join(dataDir(s.env), 'cache', 'apt'),
          rpmCacheDir: path.join(dataDir(s.env), 'cache', 'dnf'),
          mirrors: net.mirrors,
        },
      );
      return { ...r.plan, debs, ...(rpms.length ? { rpms } : {}) };
    } finally {
      await client.close();
    }
  };

  /**
   * The TLS the fetch gives the plan's RPM repository hosts: the same picked certificate, key
   * and CA planning used (their tokens, resolved now), so the .rpm downloads pass the same
   * mutual TLS the metadata did.
   */
  const rpmFetchTlsFor = async (c: ClusterChoices, plan: Plan) => {
    if (!plan.rpms?.length || !RPM_NODE_OSES.some((id) => c.os?.includes(id))) return undefined;
    const file = (token: string | undefined, purpose: PickPurpose) =>
      token ? s.picks.resolve(token, purpose) : undefined;
    return rpmFetchTls(
      osPackagesSettings({
        os: c.os ?? [],
        clientCert: file(c.rpmClientCert, 'rpmClientCert'),
        clientKey: file(c.rpmClientKey, 'rpmClientKey'),
        rpmCa: file(c.rpmCa, 'rpmCa'),
      }),
      plan.rpms,
    );
  };

  return { load, corePlan, withOsPackages, rpmFetchTlsFor };
}

export type Planner = ReturnType<typeof createPlanner>;
