import { stringify } from 'yaml';
import { FerryError } from '../base/errors/index.js';

/** Kubespray's inventory groups, and the short role names a technician types. */
export const ROLES = { 'control-plane': 'kube_control_plane', etcd: 'etcd', worker: 'kube_node' } as const;
export type Role = keyof typeof ROLES;
const ROLE_ALIASES: Record<string, Role> = {
  'control-plane': 'control-plane',
  controlplane: 'control-plane',
  cp: 'control-plane',
  master: 'control-plane',
  kube_control_plane: 'control-plane',
  etcd: 'etcd',
  worker: 'worker',
  node: 'worker',
  kube_node: 'worker',
};

export interface NodeSpec {
  name: string;
  /** IP or DNS name the deploy host reaches the node at; 'local' for the deploy host itself. */
  address: string;
  roles: Role[];
}

// Node names become Kubernetes node names and host names: DNS-1123 subdomains.
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const ADDRESS =
  /^(local|[0-9a-fA-F:.]+|[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*)$/;

/** `NAME=ADDRESS[,ROLE…]`, e.g. `cp1=10.0.0.11,control-plane,etcd`. */
export function parseNodeSpec(spec: string): NodeSpec {
  const eq = spec.indexOf('=');
  const usage = `--node '${spec}' is not NAME=ADDRESS[,ROLE…] (roles: control-plane, etcd, worker).`;
  if (eq <= 0) throw new FerryError('USAGE', usage);
  const name = spec.slice(0, eq).trim();
  const [address = '', ...roleNames] = spec
    .slice(eq + 1)
    .split(',')
    .map((s) => s.trim());
  if (!NAME.test(name))
    throw new FerryError(
      'USAGE',
      `Node name '${name}' is not a valid Kubernetes node name (lowercase letters, digits, '-' and '.').`,
    );
  if (!address || !ADDRESS.test(address))
    throw new FerryError('USAGE', `Node ${name}: '${address}' is not an IP address or host name.`);
  const roles: Role[] = [];
  for (const r of roleNames.filter(Boolean)) {
    const role = ROLE_ALIASES[r.toLowerCase()];
    if (!role)
      throw new FerryError(
        'USAGE',
        `Node ${name}: unknown role '${r}' (roles: control-plane, etcd, worker).`,
      );
    if (!roles.includes(role)) roles.push(role);
  }
  return { name, address, roles };
}

/**
 * Fills in roles when none were given anywhere, as Kubespray's old inventory builder did: the
 * first node runs the control plane, the first three (or one) run etcd, every node is a worker.
 * Then checks what Kubespray's own preflight would refuse later, on the nodes, after minutes.
 */
export function planNodes(nodes: NodeSpec[]): NodeSpec[] {
  if (nodes.length === 0)
    throw new FerryError('USAGE', 'No nodes: give --node NAME=ADDRESS… or --inventory DIR.');
  const seen = new Set<string>();
  for (const n of nodes) {
    if (seen.has(n.name)) throw new FerryError('USAGE', `Node ${n.name} is given twice.`);
    seen.add(n.name);
  }
  const auto = nodes.every((n) => n.roles.length === 0);
  const out = nodes.map((n, i) => ({
    ...n,
    roles: auto
      ? ([
          ...(i === 0 ? ['control-plane'] : []),
          ...(i < (nodes.length >= 3 ? 3 : 1) ? ['etcd'] : []),
          'worker',
        ] as Role[])
      : n.roles,
  }));
  const count = (r: Role) => out.filter((n) => n.roles.includes(r)).length;
  if (count('control-plane') === 0)
    throw new FerryError('CONFIG', 'No node has the control-plane role.', {
      hint: "Add ',control-plane' to one --node (or give no roles at all for Ferry's default layout).",
    });
  const etcd = count('etcd');
  if (etcd === 0 || etcd % 2 === 0)
    throw new FerryError(
      'CONFIG',
      `${etcd} etcd node(s): etcd needs an odd number (1, 3, 5) to keep quorum, and Kubespray refuses an even one.`,
      { hint: "Give ',etcd' to 1, 3 or 5 nodes." },
    );
  if (count('worker') === 0)
    throw new FerryError('CONFIG', 'No node has the worker role: nothing could run workloads.', {
      hint: "Add ',worker' to at least one --node.",
    });
  return out;
}

export interface InventoryOptions {
  /** Python on the nodes (Kubespray's inventories leave it to discovery; tests pin it). */
  pythonInterpreter?: string;
}

/** hosts.yaml in the format of Kubespray's inventory/sample. */
export function renderInventory(nodes: NodeSpec[], o: InventoryOptions = {}): string {
  const hosts: Record<string, Record<string, string>> = {};
  for (const n of nodes) {
    hosts[n.name] =
      n.address === 'local'
        ? { ansible_connection: 'local' }
        : { ansible_host: n.address, ip: n.address, access_ip: n.address };
  }
  const group = (r: Role) =>
    Object.fromEntries(nodes.filter((n) => n.roles.includes(r)).map((n) => [n.name, null]));
  const doc = {
    all: {
      ...(o.pythonInterpreter ? { vars: { ansible_python_interpreter: o.pythonInterpreter } } : {}),
      hosts,
      children: {
        kube_control_plane: { hosts: group('control-plane') },
        kube_node: { hosts: group('worker') },
        etcd: { hosts: group('etcd') },
        k8s_cluster: { children: { kube_control_plane: null, kube_node: null } },
        calico_rr: { hosts: {} },
      },
    },
  };
  return (
    '# Written by ferry deploy. Kubespray inventory (inventory/sample format).\n' +
    stringify(doc, { nullStr: '' })
  );
}
