import fs from 'node:fs/promises';
import { z } from 'zod';
import { FerryError } from '../base/errors/index.js';
import { ResolvedDebSetSchema, ResolvedRpmSetSchema, ResolvedWheelSetSchema } from '../kinds/sets.js';

/**
 * The plan: what a cluster downloads, as the catalog (core/plan/catalog) computes it and fetch
 * consumes it. One zod schema, because a plan also arrives as a file (`ferry fetch --plan`) and
 * from a bundle's plan.json, and both are boundaries; the catalog builds values of this type.
 * Fields the catalog always fills but older plan files may lack (`arches`, an image's `repo` and
 * `tag`) are optional here; unknown fields pass through, so a plan round-trips byte for byte.
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
    /** The first architecture that needs this URL; `arches` lists all of them. */
    arch: z.string().optional(),
    arches: z.array(z.string()).optional(),
    url: z.string().url(),
    /** 'sha256:<64 hex>' (Kubespray publishes 'sha512:<128 hex>' for gVisor); '' only for disabled entries without one. */
    checksum,
    /** files/<host>/<path>, the files_repo layout. */
    path: z.string(),
    enabled: z.boolean().default(true),
    /** One of the profile's extra files, not a Kubespray download. */
    extra: z.boolean().optional(),
  })
  .passthrough();

export const PlanImageSchema = z
  .object({
    key: z.string(),
    /** Full reference 'host/repo:tag' (docker.io keeps 'docker.io/'), or 'host/repo@sha256:…' when pinned by digest. */
    ref: z.string(),
    repo: z.string().optional(),
    tag: z.string().optional(),
    platforms: z.array(z.string()).min(1),
    enabled: z.boolean().default(true),
    extra: z.boolean().optional(),
  })
  .passthrough();

/** A Helm chart whose digest comes from its repository's index.yaml at fetch time (cilium's). */
export const PlanChartSchema = z
  .object({
    /** 'cilium_chart'; the chart's manifest artifact has this key, its index `<key>_index`. */
    key: z.string().regex(/^[a-z0-9_]+$/),
    /** Chart name in the repository's index ('cilium'). */
    name: z.string().regex(/^[A-Za-z0-9._-]+$/),
    /** Chart version as the index spells it (no leading 'v'). */
    version: z.string().regex(/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/),
    /** The repository (ends in '/'). */
    repo: z.string().url(),
    /** The chart's URL; its sha256 comes from the repository's index at fetch time. */
    url: z.string().url(),
    path: z.string(),
    /** The repository's index.yaml: downloaded to learn the digest; Ferry writes its own. */
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
    /** The user-set inventory variables (--set, profile and inventory), as plain JSON. */
    vars: z.record(z.string(), z.unknown()).default({}),
    kubesprayTarball: z.object({ url: z.string().url(), path: z.string() }).passthrough().optional(),
    /** Helm charts Kubespray's roles download themselves (cilium's, for `cilium install`). */
    charts: z.array(PlanChartSchema).optional(),
    /** The deploy host's Python distributions, one resolved set per target (kinds/python). */
    python: z.array(ResolvedWheelSetSchema).optional(),
    /** What the plan cannot carry and the user should know. */
    warnings: z.array(z.string()).optional(),
    /** OS packages resolved per target OS (`--os`): what fetch downloads into repos/<os>/. */
    debs: z.array(ResolvedDebSetSchema).optional(),
    /** RHEL-family OS packages per target OS: what fetch carries as repos/<os>/<arch>/ (rpm). */
    rpms: z.array(ResolvedRpmSetSchema).optional(),
  })
  .passthrough();

/**
 * The known fields only: unknown ones pass through at run time (so a plan round-trips), but an
 * index signature in the type would make `Omit<>` and intersections lose the known fields.
 */
type Known<T> = { [K in keyof T as string extends K ? never : K]: T[K] };

export type PlanFile = Known<z.infer<typeof PlanFileSchema>>;
export type PlanImage = Known<z.infer<typeof PlanImageSchema>>;
export type PlanChart = Known<z.infer<typeof PlanChartSchema>>;
export type Plan = Omit<Known<z.infer<typeof PlanSchema>>, 'files' | 'images' | 'charts'> & {
  files: PlanFile[];
  images: PlanImage[];
  // As z.infer gives every `.optional()` field.
  charts?: PlanChart[] | undefined;
};

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
  delete (plan as { sizes?: unknown }).sizes;
  return plan;
}

/** Profile extra files: URL and sha256, optionally where they go in the bundle. */
export const ExtraFileSchema = z.object({
  url: z.string().url(),
  sha256: z.string().regex(/^(sha256:)?[0-9a-f]{64}$/),
  path: z.string().optional(),
});
export type ExtraFile = z.infer<typeof ExtraFileSchema>;
