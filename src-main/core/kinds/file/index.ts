import type { FileArtifact } from '../../bundle/manifest.js';
import type { ArtifactKind } from '../kind.js';
import { KIND_LABELS, roomGroup } from '../labels.js';

/** A downloaded file (a Kubespray download key, a Helm chart, the profile's extras). */
export const fileKind: ArtifactKind<FileArtifact> = {
  kind: 'file',
  label: KIND_LABELS.file,
  name: (a) => `${a.key}${a.arch ? ` (${a.arch})` : ''} ${a.url}`,
  ownedPaths: (a) => [...a.paths],
  verify: {
    // The published checksum was checked at download; the manifest's sha256 is what counts now.
    record: () => [],
    repairHint: (a) =>
      `Copy the bundle again, or re-export just this artifact on the connected side (it comes from ${a.url}).`,
  },
  summarize: (a) => ({ group: roomGroup('file', fileKind.name(a)) }),
  serve: { via: 'files' },
  fetch: {
    // The published checksum decides: a new checksum for the same URL is a new file.
    holds: (a, w) =>
      a.url === w.url && a.checksum === w.checksum && a.paths.length === 1 && a.paths[0] === w.paths?.[0],
  },
};
