import { importBundle } from '../../core/media/import/index.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
/** import.start: a bundle (folder or archive parts) into this machine's store, checked as it comes. */
export function importHandlers(s: AppServices): Pick<Handlers, 'import.start'> {
  return {
    'import.start': async ({ bundle, allowUntrusted, allowUnsigned }) => {
      const dir = s.picks.resolve(bundle.token, 'bundle');
      const store = await s.settings.storeDir();
      const job = s.jobs.start('import', (ctx) =>
        importBundle(dir, { store, allowUntrusted, allowUnsigned, keyStore: s.keyStore, job: ctx }),
      );
      return { jobId: job.id };
    },
  };
}
