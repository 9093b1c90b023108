import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { z } from 'zod';
import { FerryError } from '../../base/errors/index.js';
import { OCI_DIR, OCI_INDEX_FILE, ociBlobPath } from '../../bundle/oci-layout.js';
import type { BundleSource } from '../../bundle/source.js';
import { locateFile } from '../fileserver/location.js';
import { parseImageRef } from '../../fetch/oci/reference.js';
import { DIGEST_RE, TAG_RE } from './reference.js';
import { artifactName, kindOf } from '../../kinds/index.js';

/**
 * What the registry can serve, computed once at start from the bundles' OCI layouts: every
 * repository under its full upstream name (quay.io/calico/node) with its tags, the manifests
 * reachable from those tags and the blobs those manifests reference. Anything else in the
 * layout — or anything outside it — is unreachable through the registry, and a repository
 * only serves the blobs of its own images.
 */

/** Manifests larger than this are refused; real ones are a few KiB. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);
const MANIFEST_TYPES = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
]);

const DescriptorSchema = z.object({
  mediaType: z.string().optional(),
  digest: z.string().regex(DIGEST_RE),
  size: z.number().int().nonnegative(),
  annotations: z.record(z.string(), z.string()).optional(),
  platform: z
    .object({ os: z.string(), architecture: z.string(), variant: z.string().optional() })
    .passthrough()
    .optional(),
});
const LayoutIndexSchema = z.object({ manifests: z.array(DescriptorSchema) });
const ImageManifestSchema = z.object({
  mediaType: z.string().optional(),
  config: DescriptorSchema,
  layers: z.array(DescriptorSchema),
});
const ImageIndexSchema = z.object({ mediaType: z.string().optional(), manifests: z.array(DescriptorSchema) });

export interface BlobLocation {
  size: number;
  file: string;
  /** Parts of a blob stored split on FAT32 media. */
  parts?: Array<{ file: string; size: number }>;
}
export interface ManifestRecord extends BlobLocation {
  mediaType: string;
  digest: string;
  /**
   * The manifest's bytes, read once at start and hashed against the digest: the registry and
   * push send these, never a later read of the file, so a manifest replaced under a running
   * server is not served.
   */
  body: Buffer;
}

export interface Repository {
  /** Full upstream name: quay.io/calico/node. */
  fullName: string;
  host: string;
  path: string;
  tags: Map<string, string>;
  manifests: Map<string, ManifestRecord>;
  blobs: Map<string, BlobLocation>;
}

export interface Collision {
  /** The Kubespray-style name two upstreams share. */
  name: string;
  upstreams: string[];
}

export interface SkippedImage {
  ref: string;
  reason: string;
}

export interface RegistryContent {
  repositories: Map<string, Repository>;
  /** Kubespray-style name (upstream host dropped) → full name, for names without collision. */
  shortNames: Map<string, string>;
  collisions: Collision[];
  /** Images in a layout that are not served (unverified or incomplete content). */
  skipped: SkippedImage[];
  /** Platform manifests left out of a served index because their blobs are not all there. */
  missingPlatforms: Array<{ ref: string; digest: string; platform?: string }>;
  images: Array<{ ref: string; digest: string; mediaType: string }>;
}

/**
 * Read a small JSON document of the verified content and check it against the sha256 (hex) it
 * was verified with, so what is parsed and kept is what was verified even if the file was
 * replaced after verification. Returns the bytes and the parsed value.
 */
async function readVerifiedJson(
  loc: BlobLocation,
  sha256: string,
  what: string,
): Promise<{ body: Buffer; json: unknown }> {
  if (loc.size > MAX_MANIFEST_BYTES)
    throw new FerryError(
      'HOSTILE',
      `${what} is ${loc.size} bytes; Ferry refuses manifests over ${MAX_MANIFEST_BYTES}.`,
      { artifact: what },
    );
  const body = loc.parts
    ? Buffer.concat(await Promise.all(loc.parts.map((p) => fs.readFile(p.file))))
    : await fs.readFile(loc.file);
  if (body.length !== loc.size || createHash('sha256').update(body).digest('hex') !== sha256)
    throw new ChangedError(`${what} changed since it was verified`);
  try {
    return { body, json: JSON.parse(body.toString('utf8')) };
  } catch (err) {
    throw new FerryError('INTEGRITY', `${what} is not valid JSON: ${(err as Error).message}`, {
      artifact: what,
    });
  }
}

/** Content that no longer matches its verified digest: the image is left out, not the server. */
class ChangedError extends Error {}

const hexOf = (digest: string) => digest.slice('sha256:'.length);

function locate(src: BundleSource, digest: string): BlobLocation | undefined {
  const loc = locateFile(src, ociBlobPath(digest));
  return loc ? { size: loc.size, file: loc.file, ...(loc.parts ? { parts: loc.parts } : {}) } : undefined;
}

/** Media type of a manifest: its descriptor's, else the one the JSON declares, else by shape. */
function mediaTypeOf(descType: string | undefined, json: unknown): string {
  const own = (json as { mediaType?: unknown })?.mediaType;
  if (typeof own === 'string' && own) return own;
  if (descType) return descType;
  return Array.isArray((json as { manifests?: unknown })?.manifests)
    ? 'application/vnd.oci.image.index.v1+json'
    : 'application/vnd.oci.image.manifest.v1+json';
}

interface Walked {
  manifests: ManifestRecord[];
  blobs: Map<string, BlobLocation>;
  missingPlatforms: Array<{ digest: string; platform?: string }>;
}

/** Walk one image (manifest or index) and collect what is needed to serve it; throws when the top is unservable. */
async function walkImage(
  src: BundleSource,
  digest: string,
  descType: string | undefined,
  ref: string,
): Promise<Walked> {
  const out: Walked = { manifests: [], blobs: new Map(), missingPlatforms: [] };
  const top = locate(src, digest);
  if (!top) throw new Error(`its manifest ${digest} is not in the verified content`);
  const { body, json } = await readVerifiedJson(top, hexOf(digest), `manifest ${digest} of ${ref}`);
  const mediaType = mediaTypeOf(descType, json);
  if (INDEX_TYPES.has(mediaType)) {
    const idx = ImageIndexSchema.safeParse(json);
    if (!idx.success) throw new Error(`its index ${digest} is malformed`);
    let served = 0;
    for (const child of idx.data.manifests) {
      const platform = child.platform
        ? [child.platform.os, child.platform.architecture, child.platform.variant].filter(Boolean).join('/')
        : undefined;
      try {
        const sub = await walkManifest(src, child.digest, child.mediaType, ref);
        out.manifests.push(sub.manifest);
        for (const [d, b] of sub.blobs) out.blobs.set(d, b);
        served++;
      } catch {
        // Bundles hold only the platforms the plan asked for; the others stay unserved (404), as upstream mirrors do.
        out.missingPlatforms.push({ digest: child.digest, ...(platform ? { platform } : {}) });
      }
    }
    if (served === 0) throw new Error('none of the platforms its index lists is in the verified content');
  } else if (MANIFEST_TYPES.has(mediaType)) {
    const sub = await walkManifest(src, digest, mediaType, ref);
    for (const [d, b] of sub.blobs) out.blobs.set(d, b);
  } else {
    throw new Error(`its manifest has the unsupported media type '${mediaType}'`);
  }
  out.manifests.push({ ...top, digest, mediaType, body });
  return out;
}

async function walkManifest(src: BundleSource, digest: string, descType: string | undefined, ref: string) {
  const loc = locate(src, digest);
  if (!loc) throw new Error(`manifest ${digest} is not in the verified content`);
  const { body, json } = await readVerifiedJson(loc, hexOf(digest), `manifest ${digest} of ${ref}`);
  const mediaType = mediaTypeOf(descType, json);
  if (!MANIFEST_TYPES.has(mediaType)) throw new Error(`manifest ${digest} has media type '${mediaType}'`);
  const m = ImageManifestSchema.safeParse(json);
  if (!m.success) throw new Error(`manifest ${digest} is malformed`);
  const blobs = new Map<string, BlobLocation>();
  for (const d of [m.data.config, ...m.data.layers]) {
    const b = locate(src, d.digest);
    if (!b) throw new Error(`blob ${d.digest} is not in the verified content`);
    blobs.set(d.digest, b);
  }
  return { manifest: { ...loc, digest, mediaType, body } as ManifestRecord, blobs };
}

/** Build the registry's view of the images in the given sources (first source wins on a duplicate ref). */
export async function loadRegistryContent(sources: BundleSource[]): Promise<RegistryContent> {
  const content: RegistryContent = {
    repositories: new Map(),
    shortNames: new Map(),
    collisions: [],
    skipped: [],
    missingPlatforms: [],
    images: [],
  };
  const seenRefs = new Set<string>();
  for (const src of sources) {
    const idxRel = `${OCI_DIR}/${OCI_INDEX_FILE}`;
    const idxEntry = src.entry(idxRel);
    const idxLoc = locateFile(src, idxRel);
    if (!idxEntry || !idxLoc) {
      for (const a of src.manifest.artifacts)
        if (kindOf(a).serve.via === 'registry')
          content.skipped.push({
            ref: artifactName(a),
            reason: `${idxRel} of bundle ${src.id} is not verified`,
          });
      continue;
    }
    let idx: unknown;
    try {
      idx = (await readVerifiedJson(idxLoc, idxEntry.sha256, `${idxRel} of bundle ${src.id}`)).json;
    } catch (err) {
      if (!(err instanceof ChangedError)) throw err;
      throw new FerryError('INTEGRITY', `${err.message}; Ferry serves only verified content.`, {
        artifact: idxRel,
        hint: 'Something changed the bundle after it was verified. Copy it again, then run the command again.',
      });
    }
    const parsed = LayoutIndexSchema.safeParse(idx);
    if (!parsed.success)
      throw new FerryError('INTEGRITY', `${idxRel} of bundle ${src.id} is not an OCI image index.`, {
        artifact: idxRel,
      });
    for (const desc of parsed.data.manifests) {
      const ref =
        desc.annotations?.['io.containerd.image.name'] ??
        desc.annotations?.['org.opencontainers.image.ref.name'];
      if (!ref) continue;
      let r;
      try {
        r = parseImageRef(ref);
      } catch {
        content.skipped.push({ ref, reason: 'not a valid image reference' });
        continue;
      }
      const fullName = `${r.registry}/${r.repository}`;
      const key = `${fullName}:${r.tag ?? ''}@${r.digest ?? desc.digest}`;
      if (seenRefs.has(key)) continue;
      let walked: Walked;
      try {
        walked = await walkImage(src, desc.digest, desc.mediaType, ref);
      } catch (err) {
        if (err instanceof FerryError) throw err;
        content.skipped.push({ ref, reason: (err as Error).message });
        continue;
      }
      seenRefs.add(key);
      let repo = content.repositories.get(fullName);
      if (!repo) {
        repo = {
          fullName,
          host: r.registry,
          path: r.repository,
          tags: new Map(),
          manifests: new Map(),
          blobs: new Map(),
        };
        content.repositories.set(fullName, repo);
      }
      if (r.tag && TAG_RE.test(r.tag) && !repo.tags.has(r.tag)) repo.tags.set(r.tag, desc.digest);
      for (const m of walked.manifests) repo.manifests.set(m.digest, m);
      for (const [d, b] of walked.blobs) repo.blobs.set(d, b);
      for (const mp of walked.missingPlatforms) content.missingPlatforms.push({ ref, ...mp });
      content.images.push({
        ref,
        digest: desc.digest,
        mediaType: walked.manifests[walked.manifests.length - 1].mediaType,
      });
    }
  }
  // Kubespray-style names drop the host; two hosts with the same path cannot share one name.
  const byPath = new Map<string, string[]>();
  for (const repo of content.repositories.values())
    byPath.set(repo.path, [...(byPath.get(repo.path) ?? []), repo.fullName]);
  for (const [p, fulls] of [...byPath].sort((a, b) => a[0].localeCompare(b[0]))) {
    if (fulls.length === 1) content.shortNames.set(p, fulls[0]);
    else content.collisions.push({ name: p, upstreams: fulls.sort() });
  }
  return content;
}
