import { addItem } from '../../src-main/core/base/jobs/items.js';
import type { AppEvent, JobEventT, JobSnapshot } from '../../src-main/ipc/contract.js';
import type { JobItem, JobResult } from '../../src-main/ipc/job-payloads.js';

type JobKind = JobSnapshot['kind'];

/**
 * A job as the renderer draws it, rebuilt from events. Sequence numbers make it safe to apply
 * events and snapshots in any order: stale ones are ignored, and a gap (events missed while the
 * page reloaded) asks the caller to re-attach with jobs.get.
 */
export type JobView = JobSnapshot & { log: Array<{ level: string; message: string }> };

export type Applied = { view: JobView; gap: boolean };

export function fromSnapshot(s: JobSnapshot, prev?: JobView): JobView {
  if (prev && prev.seq > s.seq) return prev;
  return { ...s, log: prev?.log ?? [] };
}

export function applyJobEvent(view: JobView | undefined, kind: JobSnapshot['kind'], e: JobEventT): Applied {
  const base: JobView = view ?? {
    id: e.jobId,
    kind,
    state: 'running',
    seq: 0,
    progress: {
      phase: 'starting',
      bytesDone: 0,
      bytesTotal: null,
      itemsDone: 0,
      itemsTotal: null,
      itemsFailed: 0,
      speed: 0,
      eta: null,
    },
    items: [],
    log: [],
  };
  if (e.seq <= base.seq) return { view: base, gap: false };
  // Only a job first seen mid-way (seq > 1 with nothing before) or a hole in the sequence is a gap.
  const gap = e.seq !== base.seq + 1;
  const next: JobView = { ...base, seq: e.seq };
  switch (e.type) {
    case 'progress':
      next.progress = e.progress;
      break;
    case 'item':
      next.items = addItem(base.items, e.item);
      break;
    case 'log':
      next.log = [...base.log.slice(-199), { level: e.level, message: e.message }];
      break;
    case 'done':
      next.state = 'done';
      next.result = e.result;
      break;
    case 'failed':
      next.state = 'failed';
      next.error = e.error;
      break;
    case 'cancelled':
      next.state = 'cancelled';
      next.error = { code: 'CANCELLED', message: 'Cancelled; run it again to resume.' };
      break;
  }
  return { view: next, gap };
}

export function isJobEvent(e: AppEvent): e is Extract<AppEvent, { channel: 'job' }> {
  return e.channel === 'job';
}

/*
 * Typed access to a job's payloads, by its kind's schema in src-main/ipc/job-payloads.ts. Main's
 * items and results are held to those schemas where they are made (core's item types are checked
 * against them at compile time, and the test backend parses every item and result a job emits),
 * so the renderer reads them as typed values without parsing again: an import keeps 40k items
 * and the views re-read the list on every event. These two are the only place the renderer turns
 * a job's records into typed payloads.
 */

/** The result of a finished job of this kind; undefined while it runs or when it failed. */
export function resultOf<K extends JobKind>(
  _kind: K,
  job: Pick<JobSnapshot, 'state' | 'result'> | null | undefined,
): JobResult<K> | undefined {
  return job?.state === 'done' ? (job.result as JobResult<K> | undefined) : undefined;
}

/** A job's kept items as this kind's item type. */
export function itemsOf<K extends JobKind>(
  _kind: K | readonly K[],
  items: ReadonlyArray<Record<string, unknown>> | undefined,
): Array<JobItem<K>> {
  return (items ?? []) as Array<JobItem<K>>;
}
