import path from 'node:path';
import { dataDir } from '../../core/base/config/dirs.js';
import { createVenv } from '../../core/kinds/python/venv.js';
import { FerryError } from '../../core/base/errors/index.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { type ServingState } from './serving.js';
/** venv.start: the deploy host's Ansible virtualenv from the served bundle's wheels. */
export function venvHandlers(s: AppServices, { serving }: ServingState): Pick<Handlers, 'venv.start'> {
  return {
    'venv.start': async ({ serveJobId }) => {
      const sv = serving.get(serveJobId);
      if (!sv || s.jobs.get(serveJobId)?.state !== 'running')
        throw new FerryError('USAGE', 'The services are not running.', {
          hint: 'Start them in the services step: the virtualenv is made from the bundle they serve.',
        });
      if (s.jobs.list().some((j) => (j.kind === 'venv' || j.kind === 'deploy') && j.state === 'running'))
        throw new FerryError('USAGE', 'A deploy or a virtualenv is already being made.', {
          hint: 'Wait for it, or cancel it.',
        });
      const job = s.jobs.start('venv', (ctx) =>
        createVenv({
          sources: [sv.source],
          // Where deploy looks for it, so the next run uses this Ansible.
          dir: path.join(dataDir(s.env), 'deploy', sv.source.id, 'venv'),
          env: s.env,
          signal: ctx.signal,
          onLog: (l) => ctx.log('info', l),
        }),
      );
      return { jobId: job.id };
    },
  };
}
