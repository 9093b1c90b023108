import { z } from 'zod';
import type { JobKind } from '../core/base/jobs/job.js';
import type { FetchItemEvent, FetchResult } from '../core/fetch/fetch-bundle.js';
import type { ExportItem } from '../core/media/export/options.js';
import type { ImportItem as CoreImportItem, ImportReport } from '../core/media/import/common.js';
import type { DeployResult } from '../core/deploy/index.js';
import type { GcResult } from '../core/media/store/gc.js';
import type { PushSummary } from '../core/serve/push/push.js';
import {
  DeployItemSchema,
  DeployResultSchema,
  ErrorValueSchema,
  ExportSummarySchema,
  FetchItemSchema,
  ImportItemSchema,
  ImportSummarySchema,
  PlanPreparedSchema,
  VerifyItemSchema,
  VerifySummarySchema,
} from './contract.js';

/**
 * What each kind of job emits as items and returns as its result, next to the channels that
 * start them. Job events and snapshots carry items and results as plain records (one event shape
 * for every job); these schemas say what is inside per kind. The renderer reads items and
 * results only through them (src-renderer/src/jobs.ts: itemsOf, resultOf), the test backend
 * parses every emitted item and result with them, and the type checks at the end of this file
 * hold core's own item types to them.
 */

/** Export jobs (core/media/export ExportItem): one row per artifact (folder) or part (archive). */
export const ExportItemSchema = z.object({
  type: z.enum(['artifact', 'part']),
  id: z.string(),
  name: z.string(),
  state: z.enum(['waiting', 'copying', 'checking', 'good', 'damaged', 'skipped']),
  bytes: z.number(),
  message: z.string().optional(),
});
export type ExportItemT = z.infer<typeof ExportItemSchema>;

/** What a fetch job returns (core/fetch FetchResult). */
export const FetchResultSchema = z.object({
  bundle: z.string(),
  bundleId: z.string(),
  upToDate: z.boolean(),
  counts: z.object({
    total: z.number(),
    present: z.number(),
    fetched: z.number(),
    failed: z.number(),
    removed: z.number(),
  }),
  bytesDownloaded: z.number(),
  requests: z.number(),
  seconds: z.number(),
  signedBy: z.string().optional(),
  failures: z.array(z.object({ id: z.string(), name: z.string(), error: ErrorValueSchema })),
});
export type FetchResultT = z.infer<typeof FetchResultSchema>;

/** A serve job ends when it is stopped, with what it served. */
export const ServeResultSchema = z.object({ requests: z.number(), bytesServed: z.number() });

/** What `ferry push` reports (core/serve/push PushSummary). */
export const PushResultSchema = z.object({
  registry: z.string(),
  prefix: z.string(),
  images: z.array(
    z.object({
      ref: z.string(),
      target: z.string(),
      status: z.enum(['pushed', 'present', 'failed', 'skipped']),
      blobs: z.object({ uploaded: z.number(), mounted: z.number(), present: z.number() }),
      bytesUploaded: z.number(),
      error: z.string().optional(),
      reducedIndex: z
        .object({ digest: z.string(), upstreamDigest: z.string(), platforms: z.number() })
        .optional(),
    }),
  ),
  counts: z.object({
    pushed: z.number(),
    present: z.number(),
    failed: z.number(),
    skipped: z.number(),
    blobsUploaded: z.number(),
    blobsMounted: z.number(),
    blobsPresent: z.number(),
    bytesUploaded: z.number(),
  }),
  seconds: z.number(),
});

/** What `ferry store gc` reports (core/media/store GcResult). */
export const GcResultSchema = z.object({
  removedBlobs: z.number(),
  removedBytes: z.number(),
  keptBlobs: z.number(),
  removedTemp: z.number(),
  removedQuarantine: z.number(),
  dryRun: z.boolean(),
});

/** A job kind that emits no items: any item it emitted would break the contract. */
const NoItems = z.never();

export const JOB_PAYLOADS = {
  plan: { item: NoItems, result: PlanPreparedSchema },
  fetch: { item: FetchItemSchema, result: FetchResultSchema },
  verify: { item: VerifyItemSchema, result: VerifySummarySchema },
  export: { item: ExportItemSchema, result: ExportSummarySchema },
  import: { item: ImportItemSchema, result: ImportSummarySchema },
  serve: { item: NoItems, result: ServeResultSchema },
  push: { item: NoItems, result: PushResultSchema },
  gc: { item: NoItems, result: GcResultSchema },
  deploy: { item: DeployItemSchema, result: DeployResultSchema },
} as const satisfies { [K in JobKind]: { item: z.ZodType; result: z.ZodType } };

export type JobItem<K extends JobKind> = z.output<(typeof JOB_PAYLOADS)[K]['item']>;
export type JobResult<K extends JobKind> = z.output<(typeof JOB_PAYLOADS)[K]['result']>;

/** Why an item or result of a `kind` job breaks the contract, or undefined when it keeps it. */
export function payloadProblem(kind: JobKind, what: 'item' | 'result', value: unknown): string | undefined {
  const r = JOB_PAYLOADS[kind][what].safeParse(value);
  if (r.success) return undefined;
  const i = r.error.issues[0];
  return `${kind} job ${what}: ${i.path.join('.') || '(top)'}: ${i.message}`;
}

// Core's own item and result types must be what the schemas accept: a field core adds or
// renames without the contract fails to compile here, not in the renderer at run time.
type Accepts<S extends z.ZodType, T> = T extends z.input<S> ? true : never;
export const CORE_PAYLOADS_MATCH: [
  Accepts<typeof FetchItemSchema, FetchItemEvent>,
  Accepts<typeof FetchResultSchema, FetchResult>,
  Accepts<typeof ExportItemSchema, ExportItem>,
  Accepts<typeof ImportItemSchema, CoreImportItem>,
  Accepts<typeof PushResultSchema, PushSummary>,
  Accepts<typeof GcResultSchema, GcResult>,
  Accepts<typeof ImportSummarySchema, ImportReport>,
  Accepts<typeof DeployResultSchema, DeployResult>,
] = [true, true, true, true, true, true, true, true];
