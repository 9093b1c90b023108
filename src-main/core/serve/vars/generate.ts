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
 *    every upstream registry to Ferry, which serves the original names (containerd's ?ns=).
 */

export type NamingStyle = 'kubespray' | 'mirror';

export interface VarsInput {
  /** Kubespray version, for the header. */
  kubesprayVersion: string;
  /** The version's variables and their raw (unevaluated) default values. */
  defaults: Map<string, unknown>;
  /** Base URL of the file server (files_repo), e.g. http://10.0.0.5:8080. */
  filesUrl?: string;
  /** host:port[/prefix] of the registry nodes pull from. */
  registry: string;
  /** Whether the registry speaks TLS. */
  registryTls: boolean;
  style: NamingStyle;
  /** Upstream registries the bundle's images come from (mirror style). */
  upstreams: string[];
  /** Where nodes find the CA certificate (a path on the node), when TLS uses Ferry's CA. */
  caPathOnNode?: string;
  caPem?: string;
  skipVerify?: boolean;
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
