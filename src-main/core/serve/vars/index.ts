import type { BundleSource } from '../../bundle/source.js';
import type { KubesprayData } from '../../plan/catalog/index.js';
import { parseImageRef } from '../../fetch/oci/reference.js';
import { OfflineServer } from '../server.js';
import { checkVars, type VarsCheck, type VarsProblem } from './check.js';
import { generateVars, type GeneratedVars, type NamingStyle } from './generate.js';
import { loadBundleKubespray, rawDefaults, readBundlePlan } from './kubespray.js';
import { containerdHostsFiles } from './hosts-toml.js';
import { kindVars } from '../../kinds/index.js';
import { upstreamHosts } from '../../kinds/index.js';

export {
  ciliumVars,
  generateVars,
  STANDARD_UPSTREAMS,
  type GeneratedVars,
  type NamingStyle,
  type VarsInput,
} from './generate.js';
export {
  containerdHostsFiles,
  containerdHostsText,
  hostsTomlRendersCa,
  renderHostsToml,
  type RegistryMirrorEntry,
} from './hosts-toml.js';
export { checkVars, type VarsCheck, type VarsProblem } from './check.js';
export { loadBundleKubespray, rawDefaults, readBundlePlan } from './kubespray.js';

export interface BundleVarsOptions {
  source: BundleSource;
  /** Kubespray data; default: loaded from the bundle's own tarball. */
  data?: KubesprayData | undefined;
  filesUrl?: string | undefined;
  registry: string;
  registryTls: boolean;
  style: NamingStyle;
  caPem?: string | undefined;
  caPathOnNode?: string | undefined;
  skipVerify?: boolean | undefined;
  madeBy: string;
  signal?: AbortSignal | undefined;
}

/** Upstream registry hosts of the bundle's images. */
export function bundleUpstreams(src: BundleSource): string[] {
  return upstreamHosts(src.manifest.artifacts);
}

export async function bundleVars(
  o: BundleVarsOptions,
): Promise<{ generated: GeneratedVars; data: KubesprayData }> {
  const data = o.data ?? (await loadBundleKubespray(o.source, o.signal));
  const version = o.source.manifest.kubespray?.version ?? data.tag;
  const plan = await readBundlePlan(o.source);
  const generated = generateVars({
    kubesprayVersion: version,
    defaults: rawDefaults(data),
    filesUrl: o.filesUrl,
    registry: o.registry,
    registryTls: o.registryTls,
    style: o.style,
    upstreams: bundleUpstreams(o.source),
    caPem: o.caPem,
    caPathOnNode: o.caPathOnNode,
    skipVerify: o.skipVerify,
    ...(plan?.charts?.length ? { charts: plan.charts } : {}),
    ...(plan?.vars ? { userVars: plan.vars } : {}),
    ...(o.filesUrl ? { kindVars: await kindVars(o.source, o.filesUrl) } : {}),
    madeBy: o.madeBy,
    bundleId: o.source.id,
  });
  return { generated, data };
}

/**
 * Render Kubespray's download templates with variables generated for a throw-away Ferry on
 * loopback serving this bundle, and probe every file and image the plan needs on it. The
 * variables differ from the user's only in the address, which is what the check is not about.
 */
export async function checkBundleVars(o: {
  source: BundleSource;
  data: KubesprayData;
  style: NamingStyle;
  arches?: string[];
}): Promise<VarsCheck> {
  const server = await OfflineServer.start({
    sources: [o.source],
    listen: '127.0.0.1',
    filesPort: 0,
    registryPort: 0,
    advertise: '127.0.0.1',
  });
  try {
    const plan = await readBundlePlan(o.source);
    const { generated } = await bundleVars({
      source: o.source,
      data: o.data,
      filesUrl: server.filesUrl,
      registry: server.registryHost,
      registryTls: false,
      style: o.style,
      madeBy: 'ferry vars --check',
    });
    const mirrors = new Set<string>(
      o.style === 'mirror'
        ? ((generated.variables.containerd_registries_mirrors as Array<{ prefix: string }>) ?? []).map(
            (m) => m.prefix,
          )
        : [],
    );
    const regHost = server.registryHost;
    const head = async (url: string) => {
      const r = await fetch(url, { method: 'HEAD' });
      return r.status === 200;
    };
    const result = await checkVars({
      data: o.data,
      arches: o.arches ?? plan?.arches ?? o.source.manifest.kubespray?.arches ?? ['amd64'],
      planVars: plan?.vars,
      generated: generated.variables,
      filesPrefix: server.filesUrl,
      imageGoesToFerry: (ref) =>
        o.style === 'kubespray' ? ref.startsWith(regHost + '/') : mirrors.has(safeRegistry(ref)),
      probeFile: head,
      probeImage: async (ref) => {
        const r = parseImageRef(ref);
        const tag = r.digest ?? r.tag ?? 'latest';
        const url =
          o.style === 'kubespray'
            ? `${server.registryUrl}/v2/${r.repository}/manifests/${tag}`
            : `${server.registryUrl}/v2/${r.repository}/manifests/${tag}?ns=${encodeURIComponent(r.registry)}`;
        return head(url);
      },
    });
    // What a node does: containerd reads certs.d/<host>/hosts.toml, rendered from the variables
    // as the tag's role does (the loopback probes above cannot see a missing entry).
    result.problems.push(
      ...containerdProblems(
        generated.variables,
        o.data.tag,
        regHost.split('/')[0],
        o.style === 'kubespray' ? [regHost.split('/')[0]] : [...mirrors],
      ),
    );
    result.ok = result.problems.length === 0;
    return result;
  } finally {
    await server.stop();
  }
}

function safeRegistry(ref: string): string {
  try {
    return parseImageRef(ref).registry;
  } catch {
    return '';
  }
}

/**
 * Registries nodes pull from (`needed`) that no hosts.toml sends to `http://<registryAddr>`: with
 * no such entry containerd speaks HTTPS to a plain-HTTP Ferry on any non-loopback address.
 */
export function containerdProblems(
  variables: Record<string, unknown>,
  tag: string,
  registryAddr: string,
  needed: string[],
): VarsProblem[] {
  const hosts = new Map(containerdHostsFiles(variables, tag).map((f) => [f.path.split('/')[0], f.text]));
  return needed
    .filter((h) => !hosts.get(h)?.includes(`[host."http://${registryAddr}`))
    .map((h) => ({
      kind: 'containerd' as const,
      key: h,
      target: `certs.d/${h}/hosts.toml`,
      problem: 'containerd-https' as const,
    }));
}
