import { FerryError } from '../../core/base/errors/index.js';
import type { Job } from '../../core/base/jobs/job.js';
import type { JobSnapshot } from '../contract.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';

export function snapshotOf(job: Job<any>): JobSnapshot {
  const s = job.snapshot();
  // Items are copied so a snapshot taken mid-run does not change under the caller.
  return { ...s, items: [...s.items] } as JobSnapshot;
}

export function jobOrThrow(s: AppServices, id: string): Job<any> {
  const job = s.jobs.get(id);
  if (!job)
    throw new FerryError('NOT_FOUND', `No job ${id} in this session.`, {
      artifact: id,
      hint: 'The app was restarted; start it again.',
    });
  return job;
}

export function jobHandlers(s: AppServices): Pick<Handlers, 'jobs.get' | 'jobs.list' | 'jobs.cancel'> {
  return {
    'jobs.get': ({ id }) => snapshotOf(jobOrThrow(s, id)),
    'jobs.list': () => s.jobs.list().map(snapshotOf),
    'jobs.cancel': ({ id }) => {
      const job = jobOrThrow(s, id);
      if (job.state !== 'running') return { cancelled: false };
      job.cancel();
      return { cancelled: true };
    },
  };
}
