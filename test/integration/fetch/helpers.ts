import { startFetchJob, type FetchOptions, type FetchResult } from '../../../src-main/core/fetch/index.js';
import type { Plan } from '../../../src-main/core/fetch/plan.js';
import type { Job } from '../../../src-main/core/base/jobs/job.js';

/** Fast retries, short idle timeouts and no signing unless a test asks: the defaults are for WANs. */
export const FAST = {
  retry: { baseMs: 20, maxMs: 200, attempts: 4, maxRetryAfterMs: 3000 },
  idleTimeoutMs: 3000,
  connectTimeoutMs: 3000,
};

export function fetchJob(plan: Plan, opts: FetchOptions): Job<FetchResult> {
  return startFetchJob(plan, {
    signer: null,
    env: { HOME: '/nonexistent', FERRY_DATA_DIR: opts.out + '-data' },
    ...opts,
    http: { ...FAST, ...(opts.http ?? {}) },
  });
}

export function runFetch(plan: Plan, opts: FetchOptions): Promise<FetchResult> {
  return fetchJob(plan, opts).done;
}
