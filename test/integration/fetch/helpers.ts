import { startFetchJob, type FetchOptions, type FetchResult } from '../../../src-main/core/fetch/index.js';
import type { Plan } from '../../../src-main/core/plan/plan.js';
import type { Job } from '../../../src-main/core/base/jobs/job.js';

/** Fast retries, short idle timeouts and no signing unless a test asks: the defaults are for WANs. */
export const FAST = {
  retry: { baseMs: 20, maxMs: 200, attempts: 4, maxRetryAfterMs: 3000 },
  idleTimeoutMs: 3000,
  connectTimeoutMs: 3000,
};

const seen = new WeakMap<Job<FetchResult>, Array<Record<string, unknown>>>();

export function fetchJob(plan: Plan, opts: FetchOptions): Job<FetchResult> {
  const job = startFetchJob(plan, {
    signer: null,
    env: { HOME: '/nonexistent', FERRY_DATA_DIR: opts.out + '-data' },
    ...opts,
    http: { ...FAST, ...(opts.http ?? {}) },
  });
  // Subscribed before the job's first event (it starts after a microtask).
  const items: Array<Record<string, unknown>> = [];
  job.subscribe((e) => e.type === 'item' && items.push(e.item));
  seen.set(job, items);
  return job;
}

/**
 * Every item the job emitted, in order: what a live UI sees. (job.items keeps only the latest
 * per artifact, for a UI that re-attaches.)
 */
export function itemsSeen(job: Job<FetchResult>): Array<Record<string, unknown>> {
  return seen.get(job) ?? [];
}

export function runFetch(plan: Plan, opts: FetchOptions): Promise<FetchResult> {
  return fetchJob(plan, opts).done;
}
