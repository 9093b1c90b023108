import { z } from 'zod';

/**
 * The contract between planning Debian/Ubuntu packages and carrying them: what `plan` resolved
 * for one target OS (every package pinned to the exact archive file and the sha256 its signed
 * Packages stanza gives), and what `fetch` downloads, verifies and turns into a signed repository
 * under `repos/<os>/`. It is part of plan.json, so a fetch needs no second resolution.
 */

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/** One archive suite the set was resolved from, as its InRelease gave it. */
export const DebSourceSchema = z.object({
  /** Archive root URL, e.g. https://deb.debian.org/debian (a mirror may supply the bytes later). */
  uri: z.string().min(1),
  suite: z.string().min(1),
  components: z.array(z.string().min(1)).min(1),
  /** The InRelease `Date`, so the plan says which moment of the archive it pinned. */
  date: z.string().optional(),
});
export type DebSource = z.infer<typeof DebSourceSchema>;

export const ResolvedDebSchema = z.object({
  package: z.string().min(1),
  version: z.string().min(1),
  /** Debian architecture of the file: a target arch or 'all'. */
  arch: z.string().min(1),
  /** Archive root the file lives under (one of the sources' `uri`). */
  uri: z.string().min(1),
  /** `Filename` from the stanza, relative to `uri` (pool/main/c/conntrack/…deb). */
  filename: z.string().min(1),
  sha256: sha256Hex,
  size: z.number().int().nonnegative(),
  /** Why it is in the set: a root's reason, or 'Depends of <pkg>' etc., for `ferry plan`. */
  why: z.string(),
});
export type ResolvedDeb = z.infer<typeof ResolvedDebSchema>;

export const ResolvedDebSetSchema = z.object({
  /** Ferry's OS id: 'debian-12', 'ubuntu-22.04', 'ubuntu-24.04'. */
  os: z.string().min(1),
  /** Target Debian architectures ('amd64', 'arm64'). */
  arches: z.array(z.string().min(1)).min(1),
  sources: z.array(DebSourceSchema).min(1),
  /** The packages asked for, and where each request came from (Kubespray role, extra, …). */
  roots: z.array(z.object({ name: z.string().min(1), why: z.string() })),
  packages: z.array(ResolvedDebSchema),
});
export type ResolvedDebSet = z.infer<typeof ResolvedDebSetSchema>;
