import type { Plan } from '../../core/plan/catalog/index.js';
import { FerryError } from '../../core/base/errors/index.js';
import { fetchBundle, parsePlan } from '../../core/fetch/index.js';
import type { FetchOptions } from '../../core/fetch/options.js';
import type { JobContext } from '../../core/base/jobs/job.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { jobOrThrow } from './jobs.js';
import { mirrorOptions, workingBundleDir, type Planner } from './planning.js';
/** fetch.*: the plan into the working bundle, one download at a time; pause, resume and retry. */
export function fetchHandlers(
  s: AppServices,
  { corePlan, withOsPackages, rpmFetchTlsFor }: Planner,
): Pick<Handlers, 'fetch.start' | 'fetch.pause' | 'fetch.resume' | 'fetch.retryFailed'> {
  /**
   * The plan each fetch job of this session ran, and the TLS of its RPM hosts (the certificate
   * read when it started), so resume and retry run it again with the same certificate.
   */
  const fetchPlans = new Map<string, { plan: Plan; hostTls: FetchOptions['hostTls'] }>();

  const startFetch = async (plan: Plan, hostTls: FetchOptions['hostTls']): Promise<{ jobId: string }> => {
    const running = s.jobs.list().find((j) => j.kind === 'fetch' && j.state === 'running');
    if (running)
      throw new FerryError('USAGE', 'A download is already running.', { hint: 'Pause or cancel it first.' });
    const net = await mirrorOptions(s);
    const out = workingBundleDir(s.env);
    const fetchPlan = parsePlan(plan, 'the plan');
    const job = s.jobs.start('fetch', (ctx: JobContext) =>
      fetchBundle(fetchPlan, { out, env: s.env, ...net, ...(hostTls ? { hostTls } : {}) }, ctx),
    );
    fetchPlans.set(job.id, { plan, hostTls });
    return { jobId: job.id };
  };

  const again = async (jobId: string): Promise<{ jobId: string }> => {
    const old = jobOrThrow(s, jobId);
    const run = fetchPlans.get(old.id);
    if (!run || old.kind !== 'fetch')
      throw new FerryError('NOT_FOUND', `Job ${jobId} is not a download of this session.`);
    if (old.state === 'running') throw new FerryError('USAGE', 'That download is still running.');
    return startFetch(run.plan, run.hostTls);
  };

  return {
    'fetch.start': async ({ choices }) => {
      const plan = await withOsPackages(choices, await corePlan(choices));
      return startFetch(plan, await rpmFetchTlsFor(choices, plan));
    },
    'fetch.pause': ({ jobId }) => {
      const job = jobOrThrow(s, jobId);
      if (job.kind !== 'fetch' || job.state !== 'running') return { paused: false };
      // Finished downloads and partial files stay in the working bundle; resume continues them.
      job.cancel();
      return { paused: true };
    },
    'fetch.resume': ({ jobId }) => again(jobId),
    'fetch.retryFailed': ({ jobId }) => again(jobId),
  };
}
