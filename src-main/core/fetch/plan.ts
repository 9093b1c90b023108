import fs from 'node:fs/promises';
import { z } from 'zod';
import { FerryError } from '../base/errors/index.js';
import { ResolvedWheelSetSchema } from '../kinds/python/set.js';

/**
 * The plan fetch consumes: what `ferry plan` computes from Kubespray (core/catalog). Declared
 * here as a zod schema as well, because a plan also arrives as a file (`ferry fetch --plan`)
 * and from a bundle's plan.json, and both are boundaries.
 */

/** sha256 normally; Kubespray publishes sha512 for gVisor; '' only on disabled entries. */
const checksum = z
  .string()
  .regex(
    /^(sha256:[0-9a-fA-F]{64}|sha512:[0-9a-fA-F]{128})?$/,
    "must be 'sha256:<64 hex>' or 'sha512:<128 hex>'",
  );

export const PlanFileSchema = z
  .object({
    key: z.string(),
    arch: z.string().optional(),
    url: z.string().url(),
    checksum,
    /** files/<host>/<path>, the files_repo layout. */
    path: z.string(),
    enabled: z.boolean().default(true),
    extra: z.unknown().optional(),
  })
  .passthrough();

export const PlanImageSchema = z
  .object({
    key: z.string(),
    ref: z.string(),
    platforms: z.array(z.string()).min(1),
    enabled: z.boolean().default(true),
    extra: z.unknown().optional(),
  })
  .passthrough();

/** A Helm chart whose digest comes from its repository's index.yaml at fetch time (cilium's). */
export const PlanChartSchema = z
  .object({
    key: z.string().regex(/^[a-z0-9_]+$/),
    name: z.string().regex(/^[A-Za-z0-9._-]+$/),
    version: z.string().regex(/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/),
    repo: z.string().url(),
    url: z.string().url(),
    path: z.string(),
    indexUrl: z.string().url(),
    indexPath: z.string(),
  })
  .passthrough();

export const PlanSchema = z
  .object({
    kubespray: z.string(),
    kubeVersion: z.string(),
    arches: z.array(z.string()),
    files: z.array(PlanFileSchema),
    images: z.array(PlanImageSchema),
    vars: z.record(z.string(), z.unknown()).default({}),
    kubesprayTarball: z.object({ url: z.string().url(), path: z.string() }).passthrough().optional(),
    charts: z.array(PlanChartSchema).optional(),
    /** The deploy host's Python distributions, one resolved set per target (kinds/python). */
    python: z.array(ResolvedWheelSetSchema).optional(),
    warnings: z.array(z.string()).optional(),
  })
  .passthrough();

export type PlanFile = z.infer<typeof PlanFileSchema>;
export type PlanImage = z.infer<typeof PlanImageSchema>;
export type PlanChart = z.infer<typeof PlanChartSchema>;
export type Plan = z.infer<typeof PlanSchema>;

export function parsePlan(json: unknown, source = 'plan'): Plan {
  const r = PlanSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new FerryError(
      'USAGE',
      `${source} is not a Ferry plan: ${i.path.join('.') || '(top)'}: ${i.message}.`,
      {
        artifact: source,
        hint: "Produce it with 'ferry plan --json', or let 'ferry fetch' compute it from --kubespray and --profile.",
      },
    );
  }
  return r.data;
}

export async function readPlanFile(file: string): Promise<Plan> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new FerryError('USAGE', `Cannot read the plan ${file}: ${(err as Error).message}`, {
      artifact: file,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new FerryError('USAGE', `${file} is not JSON.`, { artifact: file });
  }
  // `ferry plan --json` may wrap the plan as {ok, plan}.
  const j = json as { plan?: unknown };
  const plan = parsePlan(
    j && typeof j === 'object' && j.plan && typeof j.plan === 'object' ? j.plan : json,
    file,
  );
  // The warnings `ferry plan --json` prints beside the plan are about the request, not part of
  // what a bundle records: the same plan gives the same plan.json either way.
  delete (plan as { warnings?: unknown }).warnings;
  return plan;
}

/** Profile extra files: URL and sha256, optionally where they go in the bundle. */
export const ExtraFileSchema = z.object({
  url: z.string().url(),
  sha256: z.string().regex(/^(sha256:)?[0-9a-f]{64}$/),
  path: z.string().optional(),
});
export type ExtraFile = z.infer<typeof ExtraFileSchema>;
