import { z } from 'zod';

/**
 * The contract between resolving the deploy host's Python packages and carrying/serving them:
 * what `plan` resolved from Kubespray's requirements.txt for one deploy-host target (every
 * distribution pinned to one file and the sha256 the index gave), and what `fetch` downloads into
 * `python/files/<filename>` and `serve` publishes as a PEP 503/691 index. It is part of plan.json,
 * so a fetch needs no second resolution and the index needs no network.
 */

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const PythonTargetSchema = z.object({
  /** "3.11" */
  python: z.string().regex(/^\d+\.\d+$/),
  arch: z.enum(['x86_64', 'aarch64']),
  /** glibc level for manylinux tags, "2.36" */
  glibc: z.string().regex(/^\d+\.\d+$/),
  /** Deploy-host OS id when the user named one ('debian-12', 'rocky-9'). */
  os: z.string().optional(),
});
export type PythonTargetSpec = z.infer<typeof PythonTargetSchema>;

export const ResolvedWheelSchema = z.object({
  /** PEP 503-normalized project name. */
  project: z.string().min(1),
  /** The version as the index spelled it. */
  version: z.string().min(1),
  /** The distribution's filename (a .whl; an sdist only when the user opted in). */
  filename: z.string().min(1),
  /** Where the bytes came from (a mirror may supply them later). */
  url: z.string().min(1),
  sha256: sha256Hex,
  /** Size when the index said it (PEP 700), else absent until fetched. */
  size: z.number().int().nonnegative().optional(),
  requiresPython: z.string().optional(),
  /** sha256 of the PEP 658 core metadata file, when the index served one. */
  metadataSha256: sha256Hex.optional(),
  /** Why it is in the set: 'requirements.txt: ansible==…' or 'Requires-Dist of ansible'. */
  why: z.string(),
});
export type ResolvedWheel = z.infer<typeof ResolvedWheelSchema>;

export const ResolvedWheelSetSchema = z.object({
  target: PythonTargetSchema,
  /** Index base URLs it was resolved against (PEP 503 `/simple/` roots). */
  indexes: z.array(z.string().min(1)).min(1),
  /** The requirement lines asked for, as written, and where each came from. */
  requirements: z.array(z.object({ line: z.string().min(1), why: z.string() })),
  wheels: z.array(ResolvedWheelSchema),
});
export type ResolvedWheelSet = z.infer<typeof ResolvedWheelSetSchema>;
