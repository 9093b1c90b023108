import { stringify } from 'yaml';
import { FerryError } from '../../base/errors/index.js';

/**
 * Kubespray inventory variables that point a cluster at Ferry (or at a site registry Ferry
 * pushed to). Which variables are overridden is derived from the Kubespray version's own
 * defaults, never from a fixed list: a variable is written only if that version defines it.
 *
 *  - every `*_url` whose default is a literal `https://HOST/…` becomes `{{ files_repo }}/HOST/…`
 *    (the bundle keeps files at files/<HOST>/<path>, served at /<HOST>/<path>);
 *  - Kubespray style: every `*_image_repo` whose default is a literal registry (not a template
 *    built on another *_image_repo) becomes `{{ registry_host }}` plus its path, so
 *    quay.io/calico/node is pulled as <registry_host>/calico/node, and
 *    `containerd_registries_mirrors` tells containerd how to reach registry_addr (http:// or
 *    https:// with the CA), as Kubespray's offline guide shows;
 *  - mirror style: image variables stay untouched and `containerd_registries_mirrors` sends
 *    every upstream registry to Ferry, which serves the original names (containerd's ?ns=);
 *  - a bundle carrying cilium's chart (planned only for tags whose cilium role has them) gets
 *    `cilium_install_extra_flags` and `cilium_extra_values`, defined in that role's defaults
 *    rather than kubespray_defaults (see `ciliumVars`).
 */

export type NamingStyle = 'kubespray' | 'mirror';

export interface VarsInput {
  /** Kubespray version, for the header. */
  kubesprayVersion: string;
  /** The version's variables and their raw (unevaluated) default values. */
  defaults: Map<string, unknown>;
  /** Base URL of the file server (files_repo), e.g. http://10.0.0.5:8080. */
  filesUrl?: string | undefined;
  /** host:port[/prefix] of the registry nodes pull from. */
  registry: string;
  /** Whether the registry speaks TLS. */
  registryTls: boolean;
  style: NamingStyle;
  /** Upstream registries the bundle's images come from (mirror style). */
  upstreams: string[];
  /** Where nodes find the CA certificate (a path on the node), when TLS uses Ferry's CA. */
  caPathOnNode?: string | undefined;
  caPem?: string | undefined;
  skipVerify?: boolean | undefined;
  /**
   * Helm charts the bundle carries for Kubespray's roles (plan.json `charts`): cilium's makes
   * `cilium install` read its repository from files_repo.
   */
  charts?: Array<{ name: string; repo: string }>;
  /** The variables the bundle was planned with (plan.json vars): what the user set stays. */
  userVars?: Record<string, unknown>;
  /** What the bundle's kinds add (kinds/index.ts kindVars): apt repositories and keyrings, Kubespray's repo vars, pip. */
  kindVars?: Record<string, unknown>;
  /** What made this file (e.g. the command line), for the header. */
  madeBy: string;
  bundleId?: string;
}

export interface GeneratedVars {
  yaml: string;
  variables: Record<string, unknown>;
  /** Kubespray variables overridden (existing in the version). */
  overridden: string[];
}

const LITERAL_URL = /^(https?):\/\/([A-Za-z0-9.-]+(?::\d+)?)(\/.*)?$/;
const LITERAL_REGISTRY = /^([a-z0-9.-]+\.[a-z]{2,}(?::\d+)?|localhost(?::\d+)?)(\/[^{}\s]*)?$/;

/** Standard upstream registries a mirror style file covers even if the bundle holds none of their images. */
export const STANDARD_UPSTREAMS = ['registry.k8s.io', 'quay.io', 'docker.io', 'ghcr.io', 'gcr.io'];

export function generateVars(input: VarsInput): GeneratedVars {
  const v: Record<string, unknown> = {};
  const overridden: string[] = [];
  const registryHost = input.registry.replace(/\/+$/, '');
  if (!/^[A-Za-z0-9.[\]:-]+(\/[a-z0-9._/-]+)?$/.test(registryHost)) {
    throw new FerryError('USAGE', `'${input.registry}' is not a registry address.`, {
      artifact: input.registry,
      hint: 'Write it as HOST[:PORT][/PREFIX], e.g. registry.example.com:5000/k8s.',
    });
  }
  const registryAddr = registryHost.split('/')[0];
  if (input.filesUrl) v.files_repo = input.filesUrl.replace(/\/+$/, '');
  v.registry_host = registryHost;
  v.registry_addr = registryAddr;

  if (input.filesUrl) {
    for (const [name, raw] of [...input.defaults].sort((a, b) => a[0].localeCompare(b[0]))) {
      if (!name.endsWith('_url') || typeof raw !== 'string') continue;
      const m = LITERAL_URL.exec(raw.trim());
      if (!m) continue;
      v[name] = `{{ files_repo }}/${m[2]}${m[3] ?? ''}`;
      overridden.push(name);
    }
  }
  if (input.style === 'kubespray') {
    for (const [name, raw] of [...input.defaults].sort((a, b) => a[0].localeCompare(b[0]))) {
      if (!name.endsWith('_image_repo') || typeof raw !== 'string') continue;
      const m = LITERAL_REGISTRY.exec(raw.trim());
      if (!m) continue;
      // Docker Hub official images keep their library/ prefix; the bundle names them that way.
      v[name] = `{{ registry_host }}${m[2] ?? ''}`;
      overridden.push(name);
    }
    // Nodes pull <registry_addr>/<path>. Without a hosts.toml for registry_addr containerd
    // speaks HTTPS to it (plain HTTP only for loopback), so a plain-HTTP Ferry fails on every
    // node with "server gave HTTP response to HTTPS client". Kubespray writes certs.d from
    // this variable; the entry replaces its docker.io default, which is unreachable offline.
    v.containerd_registries_mirrors = [
      {
        prefix: registryAddr,
        mirrors: [
          {
            host: `${input.registryTls ? 'https' : 'http'}://${registryAddr}`,
            capabilities: ['pull', 'resolve'],
            skip_verify: !!input.skipVerify,
            ...(input.registryTls && input.caPathOnNode && input.caPem && !input.skipVerify
              ? { ca: [input.caPathOnNode] }
              : {}),
          },
        ],
      },
    ];
  } else {
    const hosts = [...new Set([...STANDARD_UPSTREAMS, ...input.upstreams])].sort();
    const scheme = input.registryTls ? 'https' : 'http';
    const path = registryHost.includes('/') ? registryHost.slice(registryHost.indexOf('/')) : '';
    v.containerd_registries_mirrors = hosts.map((prefix) => ({
      prefix,
      mirrors: [
        {
          host: `${scheme}://${registryAddr}${path ? `/v2${path}` : ''}`,
          capabilities: ['pull', 'resolve'],
          skip_verify: !!input.skipVerify,
          ...(path ? { override_path: true } : {}),
          ...(input.registryTls && input.caPathOnNode && !input.skipVerify
            ? { ca: [input.caPathOnNode] }
            : {}),
        },
      ],
    }));
  }
  if (input.filesUrl) Object.assign(v, ciliumVars(input.charts ?? [], input.userVars ?? {}));
  if (input.filesUrl && input.kindVars) Object.assign(v, input.kindVars);
  if (input.caPem) v.ferry_ca_certificate = input.caPem;

  const header = [
    `# Kubespray offline variables generated by Ferry for Kubespray ${input.kubesprayVersion}.`,
    `# Made by: ${input.madeBy}`,
    ...(input.bundleId ? [`# Bundle: ${input.bundleId}`] : []),
    input.style === 'kubespray'
      ? '# Naming style: Kubespray — images are pulled as {{ registry_host }}/<path> (upstream host dropped).'
      : '# Naming style: mirror — images keep their original names; containerd sends each upstream registry to Ferry.',
    '# Only variables defined by this Kubespray version are overridden; files_repo, registry_host and',
    '# registry_addr are the inventory variables Kubespray documents for offline installs.',
    ...(input.caPem
      ? [
          '# TLS: nodes must trust the CA below (ferry_ca_certificate, also served at files_repo/ca.crt), e.g.',
          `#   ansible all -b -m copy -a "content={{ ferry_ca_certificate }} dest=${input.caPathOnNode ?? '/usr/local/share/ca-certificates/ferry-ca.crt'}"`,
          '#   ansible all -b -m command -a update-ca-certificates',
        ]
      : []),
    '',
  ].join('\n');
  return { yaml: header + stringify(v, { lineWidth: 0 }), variables: v, overridden };
}

/**
 * Images of cilium's chart that Kubespray's values.yaml.j2 names by repository and tag. The chart
 * also pins each by the digest of its own default tag (useDigest: true), which Kubespray's values
 * do not override: with Kubespray's tags (hubble, envoy and certgen are Kubespray's choices, and
 * cilium_*_image_tag the user's) the reference would carry a digest of another image than the
 * one the bundle holds by that tag. So `useDigest: false` for every one, as Kubespray's offline
 * guide (docs/operations/offline-environment.md) sets, and nodes pull <registry_host>/…:<tag>.
 */
const CILIUM_IMAGE_VALUES = [
  ['image'],
  ['hubble', 'relay', 'image'],
  ['hubble', 'ui', 'backend', 'image'],
  ['hubble', 'ui', 'frontend', 'image'],
  ['operator', 'image'],
  ['certgen', 'image'],
  ['envoy', 'image'],
];

/**
 * cilium_install_extra_flags and cilium_extra_values (roles/network_plugin/cilium, v2.29+; the
 * plan carries a cilium chart only for those tags). Both are the user's variables too: Ferry's
 * file is one more group_vars file, so it carries the user's values with its own added, never
 * in their place — a user's flag stays, a user's value wins over Ferry's default.
 */
export function ciliumVars(
  charts: Array<{ name: string; repo: string }>,
  userVars: Record<string, unknown>,
): Record<string, unknown> {
  const chart = charts.find((c) => c.name === 'cilium');
  if (!chart) return {};
  const m = LITERAL_URL.exec(chart.repo);
  if (!m) return {};
  // The bundle keeps the chart at files/<host>/…, served at files_repo/<host>/….
  const repo = `{{ files_repo }}/${m[2]}${m[3] ?? ''}`.replace(/\/*$/, '/');
  const userFlags =
    typeof userVars.cilium_install_extra_flags === 'string' ? userVars.cilium_install_extra_flags.trim() : '';
  // A --repository of the user's own (a site chart museum) is theirs to keep.
  const flags = /(^|\s)--repository(=|\s|$)/.test(userFlags)
    ? userFlags
    : [userFlags, `--repository ${repo}`].filter(Boolean).join(' ');
  const values: Record<string, unknown> = {};
  for (const p of CILIUM_IMAGE_VALUES) {
    let node = values;
    for (const k of p) node = (node[k] ??= {}) as Record<string, unknown>;
    node.useDigest = false;
  }
  const user = userVars.cilium_extra_values;
  return {
    cilium_install_extra_flags: flags,
    cilium_extra_values: isMap(user) ? deepMerge(values, user) : values,
  };
}

function isMap(x: unknown): x is Record<string, unknown> {
  return !!x && typeof x === 'object' && !Array.isArray(x);
}

/** `over` laid on `base`: maps merge key by key, anything else from `over` replaces. */
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isMap(v) && isMap(out[k]) ? deepMerge(out[k], v) : v;
  return out;
}
