import { z } from 'zod';
import { FerryError } from '../base/errors/index.js';
import { checkBundlePath, printable } from './paths.js';

/**
 * The bundle manifest (docs/bundle-format.md). It lists every artifact and every file of the
 * bundle with size and sha256; it is written last, atomically, and signed detached.
 *
 * Format v1 knows file, image, kubespray and meta artifacts. Format v2 adds the OS package,
 * Python and tool kinds (deb, rpm, wheel, tool, repo); a writer emits v2 only when a bundle holds
 * one of them, so a bundle without them stays readable by a Ferry that knows only v1.
 */

export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.json.sig';
/** Where an unfinished bundle keeps its temp files and journal; never part of a finished bundle. */
export const PARTIAL_DIR = '.ferry-partial';
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters');
const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, "must be 'sha256:' and 64 lowercase hex characters");
const bundlePath = z.string().superRefine((p, ctx) => {
  const why = checkBundlePath(p);
  if (why) ctx.addIssue({ code: 'custom', message: `path '${printable(p)}' ${why}` });
});

/**
 * One piece of a file stored split (a target that cannot hold it whole, e.g. FAT32's 4 GiB - 1 byte
 * limit). The pieces, in order, concatenate to the file; each is verified on its own so a damaged
 * piece is named. A split file's own `path` is not present on the media, only its parts.
 */
export const FilePartSchema = z.object({
  path: bundlePath,
  size: z.number().int().nonnegative(),
  sha256: sha256Hex,
});
export type FilePart = z.infer<typeof FilePartSchema>;

export const FileEntrySchema = z.object({
  path: bundlePath,
  size: z.number().int().nonnegative(),
  sha256: sha256Hex,
  /** Present only when the file is stored split; absent means the file is stored whole at `path`. */
  parts: z.array(FilePartSchema).min(1).optional(),
});
export type FileEntry = z.infer<typeof FileEntrySchema>;

const artifactBase = {
  /** Unique within the bundle, stable across bundles: 'file:<url>', 'image:<ref>', … */
  id: z.string().min(1).max(2048),
  /** The files of the bundle this artifact consists of (each listed in `files`, or in the base bundle of a delta). */
  paths: z.array(bundlePath),
};

export const FileArtifactSchema = z.object({
  ...artifactBase,
  kind: z.literal('file'),
  /** Kubespray download key (kubeadm, calicoctl…), or 'extra' for the profile's files. */
  key: z.string(),
  url: z.string(),
  arch: z.string().optional(),
  /** The published checksum the download was verified against ('sha256:<hex>', or 'sha512:<hex>' as Kubespray gives for gVisor). */
  checksum: z
    .string()
    .regex(/^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/, "must be 'sha256:<64 hex>' or 'sha512:<128 hex>'")
    .optional(),
});

export const ImageArtifactSchema = z.object({
  ...artifactBase,
  kind: z.literal('image'),
  key: z.string(),
  /** The full original reference, e.g. quay.io/calico/node:v3.30.3. */
  ref: z.string(),
  /** The platforms the bundle holds ('linux/amd64'). */
  platforms: z.array(z.string()),
  /** Digest of the top manifest or index, exactly as upstream serves it. */
  digest,
  mediaType: z.string(),
  size: z.number().int().nonnegative(),
});

export const KubesprayArtifactSchema = z.object({
  ...artifactBase,
  kind: z.literal('kubespray'),
  version: z.string(),
  url: z.string().optional(),
});

/** Bundle bookkeeping files (plan, OCI layout index) that belong to no download. */
export const MetaArtifactSchema = z.object({
  ...artifactBase,
  kind: z.literal('meta'),
  name: z.string(),
});

/** A Debian/Ubuntu binary package, verified against the archive's signed Packages stanza. */
export const DebArtifactSchema = z.object({
  ...artifactBase,
  kind: z.literal('deb'),
  /** Target OS id as Ferry names it ('debian-12', 'ubuntu-24.04'). */
  os: z.string().min(1),
  package: z.string().min(1),
  version: z.string().min(1),
  /** Debian architecture ('amd64', 'arm64', 'all'). */
  arch: z.string().min(1),
  sha256: sha256Hex,
  size: z.number().int().nonnegative(),
  url: z.string().optional(),
});

/** An RPM package, verified against the repository's signed repomd/primary checksum. */
export const RpmArtifactSchema = z.object({
  ...artifactBase,
  kind: z.literal('rpm'),
  os: z.string().min(1),
  package: z.string().min(1),
  epoch: z.number().int().nonnegative().optional(),
  version: z.string().min(1),
  release: z.string().min(1),
  arch: z.string().min(1),
  /**
   * The architecture of the repository folder (repos/<os>/<repoArch>/) that lists it: a noarch
   * package is in each architecture's repository, stored once and named by one record per folder.
   */
  repoArch: z.string().min(1).optional(),
  sha256: sha256Hex,
  size: z.number().int().nonnegative(),
  url: z.string().optional(),
});

/** A Python distribution (wheel, or an sdist when opted in) for the deploy host's index. */
export const WheelArtifactSchema = z.object({
  ...artifactBase,
  kind: z.literal('wheel'),
  /** Normalized project name (PEP 503). */
  project: z.string().min(1),
  version: z.string().min(1),
  filename: z.string().min(1),
  sha256: sha256Hex,
  url: z.string().optional(),
  requiresPython: z.string().optional(),
});

/** One of Ferry's own executables, carried so the offline side needs nothing installed. */
export const ToolArtifactSchema = z.object({
  ...artifactBase,
  kind: z.literal('tool'),
  name: z.string().min(1),
  /** Node-style platform-arch ('linux-x64', 'linux-arm64', 'win32-x64', 'darwin-arm64'). */
  platform: z.string().min(1),
  version: z.string().min(1),
});

/**
 * Repository metadata Ferry generated for a set of packages (apt Packages/Release/InRelease, rpm
 * repodata, a PyPI simple index), with the upstream sources it was resolved from.
 */
export const RepoArtifactSchema = z.object({
  ...artifactBase,
  kind: z.literal('repo'),
  format: z.enum(['apt', 'rpm', 'pypi']),
  os: z.string().optional(),
  sources: z
    .array(z.object({ uri: z.string(), suite: z.string().optional(), date: z.string().optional() }))
    .optional(),
});

export const ArtifactSchema = z.discriminatedUnion('kind', [
  FileArtifactSchema,
  ImageArtifactSchema,
  KubesprayArtifactSchema,
  MetaArtifactSchema,
  DebArtifactSchema,
  RpmArtifactSchema,
  WheelArtifactSchema,
  ToolArtifactSchema,
  RepoArtifactSchema,
]);
export type Artifact = z.infer<typeof ArtifactSchema>;
export type FileArtifact = z.infer<typeof FileArtifactSchema>;
export type ImageArtifact = z.infer<typeof ImageArtifactSchema>;
export type DebArtifact = z.infer<typeof DebArtifactSchema>;
export type RpmArtifact = z.infer<typeof RpmArtifactSchema>;
export type WheelArtifact = z.infer<typeof WheelArtifactSchema>;
export type ToolArtifact = z.infer<typeof ToolArtifactSchema>;
export type RepoArtifact = z.infer<typeof RepoArtifactSchema>;

/** The newest manifest format this Ferry reads and writes. */
export const MANIFEST_VERSION = 2;
/** Kinds a v1 manifest may hold; any other kind makes the writer emit v2. */
const V1_KINDS: ReadonlySet<string> = new Set(['file', 'image', 'kubespray', 'meta']);

/** The format version a manifest with these artifacts must declare: 1 while it can, else 2. */
export function manifestVersionFor(artifacts: readonly { kind: string }[]): 1 | 2 {
  return artifacts.every((a) => V1_KINDS.has(a.kind)) ? 1 : 2;
}

export const ManifestSchema = z
  .object({
    format: z.literal('ferry-bundle'),
    version: z.union([z.literal(1), z.literal(2)]),
    id: z.string().min(1).max(200),
    createdAt: z.string(),
    tool: z.string(),
    kubespray: z
      .object({ version: z.string(), kubeVersion: z.string().optional(), arches: z.array(z.string()) })
      .optional(),
    /** A delta bundle names the bundle it completes. */
    base: z.object({ id: z.string(), manifestSha256: sha256Hex }).optional(),
    artifacts: z.array(ArtifactSchema),
    files: z.array(FileEntrySchema),
  })
  .strict();
export type Manifest = z.infer<typeof ManifestSchema>;

/** Parse and validate manifest bytes; every problem is a HOSTILE/INTEGRITY error naming the fault. */
export function parseManifest(bytes: Buffer | string, source = MANIFEST_FILE): Manifest {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
  if (size > MAX_MANIFEST_BYTES) {
    throw new FerryError(
      'HOSTILE',
      `${source} is ${size} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit; Ferry refuses it.`,
      {
        artifact: source,
        hint: 'A real manifest is far smaller. Get a fresh copy of the bundle.',
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (err) {
    throw new FerryError('INTEGRITY', `${source} is not valid JSON: ${(err as Error).message}`, {
      artifact: source,
      hint: 'The manifest is damaged. Copy the bundle again from the original media or re-export it.',
    });
  }
  const declared = (json as { version?: unknown } | null)?.version;
  if (typeof declared === 'number' && Number.isInteger(declared) && declared > MANIFEST_VERSION) {
    throw new FerryError(
      'UNSUPPORTED',
      `${source} is bundle format v${declared}; this Ferry reads up to v${MANIFEST_VERSION}.`,
      {
        artifact: source,
        hint: 'The bundle was written by a newer Ferry. Update Ferry on this machine, then import again.',
      },
    );
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const hostile = parsed.error.issues.some((i) => /path '/.test(i.message));
    throw new FerryError(
      hostile ? 'HOSTILE' : 'INTEGRITY',
      `${source} does not match the bundle format v${MANIFEST_VERSION}: ${issue.path.join('.') || '(top)'}: ${issue.message}`,
      {
        artifact: source,
        hint: 'The bundle was not written by this version of Ferry, or was altered. Get a fresh copy.',
      },
    );
  }
  const m = parsed.data;
  const needed = manifestVersionFor(m.artifacts);
  if (m.version < needed) {
    throw new FerryError(
      'INTEGRITY',
      `${source} declares format v${m.version} but lists artifacts that need v${needed}.`,
      { artifact: source, hint: 'The manifest was altered. Get a fresh copy of the bundle.' },
    );
  }
  checkNoDuplicates(m, source);
  return m;
}

function checkNoDuplicates(m: Manifest, source: string): void {
  const seen = new Map<string, string>();
  for (const f of m.files) {
    // Case-folded too: the bundle must survive a case-insensitive file system (exFAT, NTFS, APFS).
    const key = f.path.toLowerCase();
    const prev = seen.get(key);
    if (prev !== undefined) {
      throw new FerryError(
        'HOSTILE',
        prev === f.path
          ? `${source} lists '${printable(f.path)}' twice; Ferry refuses it.`
          : `${source} lists '${printable(prev)}' and '${printable(f.path)}', which collide on case-insensitive file systems.`,
        { artifact: f.path, hint: 'Get a fresh copy of the bundle.' },
      );
    }
    seen.set(key, f.path);
    if (f.parts) {
      const sum = f.parts.reduce((s, p) => s + p.size, 0);
      if (sum !== f.size) {
        throw new FerryError(
          'INTEGRITY',
          `${source} lists parts of '${printable(f.path)}' that add up to ${sum} bytes, not ${f.size}.`,
          {
            artifact: f.path,
            hint: 'Get a fresh copy of the bundle.',
          },
        );
      }
      for (const part of f.parts) {
        const pk = part.path.toLowerCase();
        const had = seen.get(pk);
        if (had !== undefined) {
          throw new FerryError(
            'HOSTILE',
            `${source} lists '${printable(part.path)}' both as a part and as '${printable(had)}'.`,
            {
              artifact: part.path,
              hint: 'Get a fresh copy of the bundle.',
            },
          );
        }
        seen.set(pk, part.path);
        if (pk === MANIFEST_FILE || pk === SIGNATURE_FILE || pk.split('/')[0] === PARTIAL_DIR) {
          throw new FerryError('HOSTILE', `${source} lists the reserved path '${part.path}' as a part.`, {
            artifact: part.path,
          });
        }
      }
    }
    if (key === MANIFEST_FILE || key === SIGNATURE_FILE || key.split('/')[0] === PARTIAL_DIR) {
      throw new FerryError('HOSTILE', `${source} lists the reserved path '${f.path}' as a file.`, {
        artifact: f.path,
      });
    }
  }
  const ids = new Set<string>();
  for (const a of m.artifacts) {
    if (ids.has(a.id))
      throw new FerryError('HOSTILE', `${source} lists artifact '${printable(a.id)}' twice.`, {
        artifact: a.id,
      });
    ids.add(a.id);
  }
}

/** Every path a file occupies on the media: the file itself, or its parts when stored split. */
export function storedPaths(f: FileEntry): FilePart[] {
  return f.parts ?? [{ path: f.path, size: f.size, sha256: f.sha256 }];
}

export function serializeManifest(m: Manifest): Buffer {
  return Buffer.from(JSON.stringify(m, null, 2) + '\n', 'utf8');
}
