import { parseArches } from '../core/plan/catalog/index.js';
import { parseMirrorArgs, type MirrorMap } from '../core/fetch/download/mirrors.js';
import { checkProxyUrl, type ProxyConfig } from '../core/fetch/download/proxy.js';
import { loadProfile } from '../core/plan/profile/index.js';
import type { CommandContext, OptionSpec } from './command.js';
import { OS_PACKAGE_OPTIONS } from './os-packages.js';
import { str, strs } from './output.js';

/**
 * The options that say which cluster and where its downloads come from, defined once for every
 * command that plans (`ferry plan`, `ferry fetch`), as Hauler's commands share one flag group:
 * `ferry plan ARGS` then `ferry fetch ARGS --out DIR` plan the same cluster through the same
 * network, and a new option reaches both at once.
 */

/** Which cluster: Kubespray, profile, inventory and variables. */
export function clusterOptions(): Record<string, OptionSpec> {
  return {
    kubespray: {
      type: 'string',
      valueName: 'TAG|DIR|TARBALL',
      description: 'Kubespray tag, source folder or release tarball (default: the profile’s).',
    },
    profile: { type: 'string', valueName: 'FILE', description: 'Profile file (ferry.yaml).' },
    inventory: {
      type: 'string',
      valueName: 'DIR',
      description: 'Kubespray inventory folder (group_vars/all, group_vars/k8s_cluster).',
    },
    set: {
      type: 'string',
      multiple: true,
      valueName: 'KEY=VALUE',
      description: 'Set an inventory variable (value parsed as YAML).',
    },
    'kube-version': {
      type: 'string',
      valueName: 'X.Y.Z',
      description: 'Kubernetes version (shorthand for --set kube_version=X.Y.Z).',
    },
    arch: {
      type: 'string',
      multiple: true,
      valueName: 'ARCHES',
      description: 'Target architectures: amd64, arm64 or amd64,arm64 (default amd64).',
    },
    // The nodes' OS packages: --os, --os-package, --no-recommends, --deploy-os, --keyring.
    ...Object.fromEntries(Object.entries(OS_PACKAGE_OPTIONS).map(([k, o]) => [k, { ...o }])),
  };
}

/** Where downloads come from: mirrors, registries, proxy. A tag's release tarball too. */
export function sourceOptions(): Record<string, OptionSpec> {
  return {
    mirror: {
      type: 'string',
      multiple: true,
      valueName: 'FROM=TO',
      description: 'Download FROM-prefixed URLs from the TO prefix instead.',
    },
    'registry-mirror': {
      type: 'string',
      multiple: true,
      valueName: 'HOST=URL',
      description: 'Pull images of registry HOST through the mirror at URL.',
    },
    'insecure-registry': {
      type: 'string',
      multiple: true,
      valueName: 'HOST',
      description: 'Allow plain HTTP or an unverified certificate for HOST.',
    },
    proxy: {
      type: 'string',
      valueName: 'URL',
      description: 'HTTP(S) proxy for every download (overrides HTTPS_PROXY/HTTP_PROXY).',
    },
  };
}

export type Profile = Awaited<ReturnType<typeof loadProfile>>;

export async function profileFrom(ctx: CommandContext): Promise<Profile | undefined> {
  const file = str(ctx.values.profile);
  return file ? loadProfile(file) : undefined;
}

/** The catalog request the cluster options describe (plus the profile they name). */
export function clusterRequest(ctx: CommandContext, profile: Profile | undefined) {
  const v = ctx.values;
  return {
    kubespray: str(v.kubespray),
    profile,
    inventory: str(v.inventory),
    sets: strs(v.set),
    kubeVersion: str(v['kube-version']),
    arches: parseArches(strs(v.arch)),
  };
}

/** Whether any option that computes a plan was given (they conflict with a finished --plan). */
export function clusterOptionsGiven(ctx: CommandContext): boolean {
  const v = ctx.values;
  // The OS package options plan too: a finished plan carries its OS sets (plan.debs) already.
  const os = strs(v.os).length || strs(v['os-package']).length || v['deploy-os'] || v['no-recommends'];
  return !!(
    v.kubespray ||
    v.inventory ||
    strs(v.set).length ||
    v['kube-version'] ||
    strs(v.arch).length ||
    os
  );
}

export interface SourceSettings {
  proxy: ProxyConfig;
  mirrors: MirrorMap;
  registryMirrors: MirrorMap;
  insecureRegistries: string[];
}

/** The network the source options describe; a flag overrides the profile's entry. */
export function sourceSettings(ctx: CommandContext, profile: Profile | undefined): SourceSettings {
  const v = ctx.values;
  const proxyFlag = str(v.proxy);
  if (proxyFlag) checkProxyUrl(proxyFlag, '--proxy');
  return {
    proxy: {
      ...(profile?.proxy?.http ? { http: profile.proxy.http } : {}),
      ...(profile?.proxy?.https ? { https: profile.proxy.https } : {}),
      ...(profile?.proxy?.noProxy ? { noProxy: profile.proxy.noProxy.join(',') } : {}),
      ...(proxyFlag ? { http: proxyFlag, https: proxyFlag } : {}),
    },
    mirrors: { ...(profile?.mirrors ?? {}), ...parseMirrorArgs(strs(v.mirror)) },
    registryMirrors: {
      ...(profile?.registryMirrors ?? {}),
      ...parseMirrorArgs(strs(v['registry-mirror']), '--registry-mirror'),
    },
    insecureRegistries: strs(v['insecure-registry']),
  };
}
