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

/** '1 image', '3 files': a count with the kind's noun. */
export function countLabel(kind: ArtifactKindName, n: number): string {
  const l = KIND_LABELS[kind];
  return `${n} ${n === 1 ? l.one : l.many}`;
}

/**
 * The component an artifact counts towards in the room chart, from the name fetch and verify
 * give it: images by repository (registry and tag dropped), Kubespray as itself, anything else by
 * the first word of its name (a file's download key: 'kubeadm (amd64) https://…' → 'kubeadm').
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
      return name.split(/[\s_-]/)[0];
  }
}
