import type { Manifest } from '../../bundle/manifest.js';
import type { ArtifactKind } from '../kind.js';
import { KIND_LABELS } from '../labels.js';

type MetaArtifact = Extract<Manifest['artifacts'][number], { kind: 'meta' }>;

/** Bundle bookkeeping (plan.json, the OCI layout files): belongs to no download. */
export const metaKind: ArtifactKind<MetaArtifact> = {
  kind: 'meta',
  label: KIND_LABELS.meta,
  name: (a) => a.name,
  ownedPaths: (a) => [...a.paths],
  verify: {
    record: () => [],
    repairHint: () => 'Copy the bundle again from the connected side.',
  },
  summarize: (a) => ({ group: a.name }),
  // The file server and registry read these themselves (index.json, plan.json); none is offered alone.
  serve: { via: 'none' },
};
