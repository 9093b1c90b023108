import path from 'node:path';
import { dataDir } from '../../core/base/config/dirs.js';
import { deploy, planNodes } from '../../core/deploy/index.js';
import { FerryError } from '../../core/base/errors/index.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { type ServingState } from './serving.js';
/** deploy.start: Kubespray's playbook from the served bundle against the nodes. */
export function deployHandlers(
  s: AppServices,
  { serving, varsFor }: ServingState,
): Pick<Handlers, 'deploy.start'> {
  return {
    'deploy.start': async (o) => {
      const sv = serving.get(o.serveJobId);
      if (!sv || s.jobs.get(o.serveJobId)?.state !== 'running')
        throw new FerryError('USAGE', 'The services are not running.', {
          hint: 'Start them in the services step: the nodes install from them.',
        });
      if (s.jobs.list().some((j) => j.kind === 'deploy' && j.state === 'running'))
        throw new FerryError('USAGE', 'A deploy is already running.', { hint: 'Wait for it, or cancel it.' });
      const inventoryFrom = o.inventory ? s.picks.resolve(o.inventory, 'inventory') : undefined;
      // Refused here, before a job exists, so the form shows what is wrong with the nodes.
      const nodes = inventoryFrom ? [] : planNodes(o.nodes);
      const sshKey = o.sshKey ? s.picks.resolve(o.sshKey, 'sshKey') : undefined;
      const { offlineYml } = await varsFor(o.serveJobId, o.style);
      const job = s.jobs.start('deploy', (ctx) =>
        deploy(
          {
            source: sv.source,
            dir: path.join(dataDir(s.env), 'deploy', sv.source.id),
            nodes,
            ...(inventoryFrom ? { inventoryFrom } : {}),
            offlineYml,
            playbook: o.playbook,
            ...(o.sshUser ? { sshUser: o.sshUser } : {}),
            ...(sshKey ? { sshKey } : {}),
            become: o.become,
            preflightOnly: o.preflightOnly,
            skipPreflight: o.skipPreflight,
            ...(sv.tls?.ca ? { caPem: sv.tls.ca } : {}),
            env: s.env,
          },
          ctx,
        ),
      );
      return { jobId: job.id };
    },
  };
}
