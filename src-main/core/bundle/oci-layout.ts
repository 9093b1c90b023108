import { FerryError } from '../base/errors/index.js';

/** The bundle keeps every container image in one OCI image layout under images/. */
export const OCI_DIR = 'images';
export const OCI_LAYOUT_FILE = 'oci-layout';
export const OCI_INDEX_FILE = 'index.json';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

export interface OciIndexEntry {
  /** Full original reference: quay.io/calico/node:v3.30.3 (or name@sha256:… for digest-only refs). */
  ref: string;
  digest: string;
  mediaType: string;
  size: number;
}

export function ociBlobPath(digest: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m) {
    throw new FerryError('HOSTILE', `'${digest.slice(0, 100)}' is not a sha256 digest.`, {
      artifact: digest.slice(0, 100),
    });
  }
  return `${OCI_DIR}/blobs/sha256/${m[1]}`;
}

/**
 * index.json with each image's full reference in both annotations: skopeo's oci: transport
 * matches org.opencontainers.image.ref.name, `ctr images import` reads io.containerd.image.name.
 * skopeo 1.9 accepts a full reference there: `oci:DIR:127.0.0.1:5000/library/test:1` splits at
 * the first colon and the rest passes its ref.name grammar (test/integration/fetch/fetch-images.test.ts
 * copies images out of a fetched bundle that way). Its oci: transport only considers entries
 * with OCI media types, though: an upstream Docker manifest list is listed with its own type and
 * is found by Ferry's registry, ctr and containerd, but not by `skopeo copy oci:`.
 */
export function buildOciIndex(entries: OciIndexEntry[]): Buffer {
  const manifests = [...entries]
    .sort((a, b) => a.ref.localeCompare(b.ref))
    .map((e) => ({
      mediaType: e.mediaType,
      digest: e.digest,
      size: e.size,
      annotations: {
        'io.containerd.image.name': e.ref,
        'org.opencontainers.image.ref.name': e.ref,
      },
    }));
  return Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests }, null, 2) + '\n',
  );
}
