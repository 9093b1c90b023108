import type { ImageArtifact } from '../../bundle/manifest.js';
import { ociBlobPath } from '../../bundle/oci-layout.js';
import { parseImageRef } from '../../fetch/oci/reference.js';
import type { ArtifactKind } from '../kind.js';
import { KIND_LABELS, roomGroup } from '../labels.js';

/** A container image in the bundle's OCI layout, served by the registry. */
export const imageKind: ArtifactKind<ImageArtifact> = {
  kind: 'image',
  label: KIND_LABELS.image,
  name: (a) => a.ref,
  // The top manifest or index is a blob too; it is the image, whatever `paths` lists.
  ownedPaths: (a) => [...new Set([...a.paths, ociBlobPath(a.digest)])],
  verify: {
    record: () => [],
    repairHint: (a) => `Copy the bundle again, or re-export just ${a.ref} on the connected side.`,
  },
  summarize: (a) => ({ group: roomGroup('image', a.ref) }),
  serve: {
    via: 'registry',
    upstream: (a) => {
      try {
        return parseImageRef(a.ref).registry;
      } catch {
        return undefined; // an unparsable ref is not served either
      }
    },
  },
  fetch: {
    // Exactly the wanted platforms ('linux/arm64' also matches a held 'linux/arm64/v8').
    holds: (a, w) =>
      a.ref === w.ref &&
      !!w.platforms &&
      a.platforms.length === w.platforms.length &&
      w.platforms.every((p) => a.platforms.some((h) => h === p || h.startsWith(p + '/'))),
  },
  ociIndexEntry: (a) => ({ ref: a.ref, digest: a.digest, mediaType: a.mediaType, size: a.size }),
};
