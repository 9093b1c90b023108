/**
 * The words and groupings the app and the CLI use for each artifact kind. Pure (no Node, no zod
 * values): the renderer imports it directly, so the room chart, the download bars and the CLI
 * say the same thing about the same artifact. A kind module (kinds/<kind>/) takes its label from
 * here; adding a kind adds one entry (the type below refuses a kind without one).
 */
import type { Artifact } from '../bundle/manifest.js';

export type ArtifactKindName = Artifact['kind'];

export interface KindLabel {
  /** Singular noun: 'image'. */
  one: string;
  /** Plural noun: 'images'. */
  many: string;
  /** Title for a group of them in the UI: 'Container images'. */
  title: string;
}

export const KIND_LABELS: { readonly [K in ArtifactKindName]: KindLabel } = {
  file: { one: 'file', many: 'files', title: 'Files' },
  image: { one: 'image', many: 'images', title: 'Container images' },
  kubespray: { one: 'Kubespray release', many: 'Kubespray releases', title: 'Kubespray' },
  meta: { one: 'bundle file', many: 'bundle files', title: 'Bundle bookkeeping' },
  deb: { one: 'Debian package', many: 'Debian packages', title: 'Debian packages' },
  rpm: { one: 'RPM package', many: 'RPM packages', title: 'RPM packages' },
  wheel: { one: 'Python package', many: 'Python packages', title: 'Python packages' },
  tool: { one: 'Ferry tool', many: 'Ferry tools', title: 'Ferry tools' },
  repo: { one: 'repository index', many: 'repository indexes', title: 'Repository indexes' },
};

/** The order kinds are drawn in (integrity map groups): the release first, bookkeeping last. */
export const KIND_ORDER: readonly ArtifactKindName[] = [
  'kubespray',
  'file',
  'image',
  'deb',
  'rpm',
  'wheel',
  'tool',
  'repo',
  'meta',
];

/** The UI title for a group of artifacts of a kind named by a job item (any string). */
export function kindTitle(kind: string): string {
  return kind in KIND_LABELS ? KIND_LABELS[kind as ArtifactKindName].title : kind;
}

/** '1 image', '3 files': a count with the kind's noun. */
export function countLabel(kind: ArtifactKindName, n: number): string {
  const l = KIND_LABELS[kind];
  return `${n} ${n === 1 ? l.one : l.many}`;
}

// Components whose name is more than the key's first word (cert_manager_webhook → cert_manager,
// not cert). Kubespray's download keys, read at v2.26.1…v2.31.0.
const MULTI_WORD = [
  'cert_manager',
  'cri_dockerd',
  'gateway_api',
  'ingress_alb',
  'ingress_nginx',
  'kata_containers',
  'kube_ovn',
  'kube_router',
  'kube-vip',
  'local_path_provisioner',
  'local_volume_provisioner',
  'metrics_server',
  'pod_infra',
  'prometheus_operator',
];

/** The component a download key belongs to: calico_node → calico, csi_attacher → csi. */
export function componentOf(key: string): string {
  if (/^csi_|_csi_plugin$|^snapshot_controller$/.test(key)) return 'csi';
  // Their command-line tools belong to them: calicoctl, ciliumcli.
  const glued = ['calico', 'cilium'].find((p) => key.startsWith(p));
  if (glued) return glued;
  const multi = MULTI_WORD.find((p) => key === p || key.startsWith(p + '_') || key.startsWith(p + '-'));
  if (multi) return multi;
  return key.split(/[_-]/)[0] || key;
}

/**
 * The component an artifact counts towards in the room chart, from the name fetch and verify
 * give it: images by repository (registry and tag dropped), Kubespray as itself, anything else by
 * the component of the first word of its name (a file's download key: 'calicoctl (amd64) https://…'
 * → 'calico').
 */
export function roomGroup(kind: ArtifactKindName, name: string): string {
  switch (kind) {
    case 'image':
      return name
        .replace(/[@:][^/]*$/, '')
        .split('/')
        .slice(-2)
        .join('/');
    case 'kubespray':
      return 'kubespray';
    default:
      return componentOf(name.split(/\s/)[0]);
  }
}
