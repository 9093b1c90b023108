import type { Plan } from '../../core/plan/catalog/index.js';
import { FerryError } from '../../core/base/errors/index.js';
import { fetchBundle, parsePlan } from '../../core/fetch/index.js';
import type { JobContext } from '../../core/base/jobs/job.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { jobOrThrow } from './jobs.js';
import { mirrorOptions, workingBundleDir, type Planner } from './planning.js';
/** fetch.*: the plan into the working bundle, one download at a time; pause, resume and retry. */
export function fetchHandlers(
  s: AppServices,
  { corePlan, withOsPackages }: Planner,
): Pick<Handlers, 'fetch.start' | 'fetch.pause' | 'fetch.resume' | 'fetch.retryFailed'> {
  /** The plan each fetch job of this session ran, so resume and retry run it again. */
  const fetchPlans = new Map<string, Plan>();

  const startFetch = async (plan: Plan): Promise<{ jobId: string }> => {
    const running = s.jobs.list().find((j) => j.kind === 'fetch' && j.state === 'running');
    if (running)
      throw new FerryError('USAGE', 'A download is already running.', { hint: 'Pause or cancel it first.' });
    const net = await mirrorOptions(s);
    const out = workingBundleDir(s.env);
    const fetchPlan = parsePlan(plan, 'the plan');
    const job = s.jobs.start('fetch', (ctx: JobContext) =>
      fetchBundle(fetchPlan, { out, env: s.env, ...net }, ctx),
    );
    fetchPlans.set(job.id, plan);
    return { jobId: job.id };
  };

  const again = async (jobId: string): Promise<{ jobId: string }> => {
    const old = jobOrThrow(s, jobId);
    const plan = fetchPlans.get(old.id);
    if (!plan || old.kind !== 'fetch')
      throw new FerryError('NOT_FOUND', `Job ${jobId} is not a download of this session.`);
    if (old.state === 'running') throw new FerryError('USAGE', 'That download is still running.');
    return startFetch(plan);
  };

  return {
    'fetch.start': async ({ choices }) => startFetch(await withOsPackages(choices, await corePlan(choices))),
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
