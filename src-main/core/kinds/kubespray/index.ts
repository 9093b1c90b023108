import type { Manifest } from '../../bundle/manifest.js';
import type { ArtifactKind } from '../kind.js';
import { KIND_LABELS } from '../labels.js';

type KubesprayArtifact = Extract<Manifest['artifacts'][number], { kind: 'kubespray' }>;

/** The Kubespray release tarball: vars reads its defaults, deploy unpacks it, serve offers it. */
export const kubesprayKind: ArtifactKind<KubesprayArtifact> = {
  kind: 'kubespray',
  label: KIND_LABELS.kubespray,
  name: (a) => `Kubespray ${a.version}`,
  ownedPaths: (a) => [...a.paths],
  verify: {
    record: () => [],
    repairHint: () => 'Copy the bundle again from the connected side.',
  },
  summarize: () => ({ group: 'kubespray' }),
  serve: { via: 'files' },
  fetch: { holds: (a, w) => a.version === w.version && a.url === w.url },
};

/** The bundle's Kubespray release and its tarball's path, if it carries one. */
export function kubesprayRelease(
  m: Pick<Manifest, 'artifacts'>,
): { artifact: KubesprayArtifact; tarball: string | undefined } | undefined {
  for (const a of m.artifacts) if (a.kind === 'kubespray') return { artifact: a, tarball: a.paths[0] };
  return undefined;
}
