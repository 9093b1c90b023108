import { z } from 'zod';
import { FerryError } from '../../base/errors/index.js';
import { MEDIA } from '../../bundle/oci-layout.js';

/**
 * The manifest documents Ferry reads: OCI image index and manifest, Docker manifest list and
 * schema 2. Only the fields Ferry needs are checked; the bytes themselves are kept untouched.
 */

export const MANIFEST_ACCEPT = [
  MEDIA.ociIndex,
  MEDIA.dockerList,
  MEDIA.ociManifest,
  MEDIA.dockerManifest,
].join(', ');

const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/);
const Descriptor = z.object({
  mediaType: z.string().optional(),
  digest,
  size: z.number().int().nonnegative(),
  platform: z
    .object({ os: z.string(), architecture: z.string(), variant: z.string().optional() })
    .passthrough()
    .optional(),
});
export type Descriptor = z.infer<typeof Descriptor>;

const IndexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(Descriptor),
});
const ManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: Descriptor,
  layers: z.array(Descriptor),
});

export type ParsedManifest =
  | { kind: 'index'; mediaType: string; manifests: Descriptor[] }
  | { kind: 'manifest'; mediaType: string; config: Descriptor; layers: Descriptor[] };

export function isIndexType(mt: string): boolean {
  return mt === MEDIA.ociIndex || mt === MEDIA.dockerList;
}

/** Parse manifest bytes; the media type comes from the document, else from Content-Type. */
export function parseManifestBytes(
  bytes: Buffer,
  contentType: string | undefined,
  what: string,
): ParsedManifest {
  let json: any;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new FerryError('INTEGRITY', `The manifest of ${what} is not JSON.`, { artifact: what });
  }
  const ct = contentType?.split(';')[0].trim();
  const mt: string | undefined = typeof json?.mediaType === 'string' ? json.mediaType : ct;
  if (json?.schemaVersion === 1 || mt?.includes('distribution.manifest.v1')) {
    throw new FerryError('UNSUPPORTED', `${what} is a Docker schema 1 image, which Ferry does not carry.`, {
      artifact: what,
      hint: 'Schema 1 images are deprecated and cannot be pulled by digest. Use a newer tag of the image.',
    });
  }
  const looksIndex = Array.isArray(json?.manifests);
  const mediaType = mt && mt !== 'application/json' ? mt : looksIndex ? MEDIA.ociIndex : MEDIA.ociManifest;
  if (isIndexType(mediaType) || looksIndex) {
    const r = IndexSchema.safeParse(json);
    if (!r.success) throw invalid(what, r.error.issues[0]);
    return { kind: 'index', mediaType, manifests: r.data.manifests };
  }
  if (mediaType !== MEDIA.ociManifest && mediaType !== MEDIA.dockerManifest) {
    throw new FerryError('UNSUPPORTED', `${what} has media type ${mediaType}, which Ferry does not handle.`, {
      artifact: what,
      hint: 'Ferry carries OCI and Docker schema 2 images (single or multi-platform).',
    });
  }
  const r = ManifestSchema.safeParse(json);
  if (!r.success) throw invalid(what, r.error.issues[0]);
  return { kind: 'manifest', mediaType, config: r.data.config, layers: r.data.layers };
}

function invalid(what: string, issue: z.core.$ZodIssue | undefined): FerryError {
  return new FerryError(
    'INTEGRITY',
    `The manifest of ${what} is malformed: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unknown problem'}.`,
    {
      artifact: what,
      hint: 'The registry (or a mirror) served a broken document. Try again, or without the mirror.',
    },
  );
}
