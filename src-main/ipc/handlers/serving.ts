import type { GeneratedVars } from '../contract.js';
import { aptPrestep } from '../../core/kinds/deb/vars.js';
import { FerryError } from '../../core/base/errors/index.js';
import type { BundleSource } from '../../core/bundle/source.js';
import { loadKubespray } from '../../core/plan/catalog/index.js';
import { OfflineServer } from '../../core/serve/server.js';
import { storeSources } from '../../core/media/store/sources.js';
import { type TlsMaterial } from '../../core/serve/tls/ca.js';
import { bundleVars, containerdHostsText, type NamingStyle } from '../../core/serve/vars/index.js';
import type { AppServices } from '../services.js';
import { jobOrThrow } from './jobs.js';
/**
 * What the offline side's serve, vars, deploy and venv handlers share: the running services
 * (served straight from the verified bundle or from the store) and the Kubespray variables that
 * point at this machine, made once per naming style.
 */

export interface Serving {
  server: OfflineServer;
  /** The bundle the generated variables are for (its Kubespray tarball, its upstreams). */
  source: BundleSource;
  from: 'media' | 'store';
  bundles: number;
  tls?: TlsMaterial;
  vars: Map<NamingStyle, Omit<GeneratedVars, 'style'>>;
}

export const CA_ON_NODE = '/usr/local/share/ca-certificates/ferry-ca.crt';

/**
 * The stored bundle `bundleId` as a source, or a NOT_FOUND naming why it cannot be served (not
 * imported, or imported incomplete and waiting for repair).
 */
export async function storedBundleSource(
  store: string,
  bundleId: string,
  sources?: BundleSource[],
): Promise<BundleSource> {
  const all = sources ?? (await storeSources(store));
  const found = all.find((b) => b.id === bundleId);
  if (found) return found;
  throw new FerryError(
    'NOT_FOUND',
    `Bundle ${bundleId} is not complete in this machine's store (${store}).`,
    {
      artifact: bundleId,
      hint: 'Import it first; a bundle imported with damaged or missing artifacts is served once a second copy repaired it. Or serve the bundle folder from the media.',
    },
  );
}

/** The services this session started, by serve job id, and the variables made for them. */
export function createServing(s: AppServices) {
  const serving = new Map<string, Serving>();

  const runningServe = (): { id: string; v: Serving } | undefined => {
    for (const [id, v] of serving) if (s.jobs.get(id)?.state === 'running') return { id, v };
    return undefined;
  };

  const varsFor = async (jobId: string, style: NamingStyle, kubesprayToken?: string) => {
    const job = jobOrThrow(s, jobId);
    const sv = serving.get(jobId);
    if (job.kind === 'serve' && job.state === 'running' && !sv) {
      throw new FerryError('USAGE', 'The services are still starting (checking the bundle).', {
        hint: 'Wait until they show as serving.',
      });
    }
    if (job.kind !== 'serve' || !sv || job.state !== 'running') {
      throw new FerryError('USAGE', 'The services are not running.', {
        hint: 'Start them first: the variables name their addresses.',
      });
    }
    const cached = sv.vars.get(style);
    if (cached) return cached;
    const data = kubesprayToken
      ? await loadKubespray({ dir: s.picks.resolve(kubesprayToken, 'kubespray') })
      : undefined;
    const { generated, data: used } = await bundleVars({
      source: sv.source,
      data,
      filesUrl: sv.server.filesUrl,
      registry: sv.server.registryHost,
      registryTls: !!sv.tls,
      style,
      ...(sv.tls?.ca ? { caPem: sv.tls.ca, caPathOnNode: CA_ON_NODE } : {}),
      madeBy: 'Ferry app',
    });
    const out = {
      offlineYml: generated.yaml,
      // The same files Kubespray's containerd role writes on each node from these variables.
      containerdConfig: containerdHostsText(generated.variables, used.tag),
      nextCommand:
        'cp offline.yml inventory/mycluster/group_vars/all/offline.yml\nansible-playbook -i inventory/mycluster/hosts.yaml -b cluster.yml',
      osPrestep: await aptPrestep(sv.source, sv.server.filesUrl),
    };
    sv.vars.set(style, out);
    return out;
  };

  return { serving, runningServe, varsFor };
}

export type ServingState = ReturnType<typeof createServing>;
