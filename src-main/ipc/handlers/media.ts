import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { scanForBundles } from '../../core/media/scan/index.js';
import { summaryView } from './bundle.js';
/** media.scan: every connected drive searched for bundles. */
export function mediaHandlers(s: AppServices): Pick<Handlers, 'media.scan'> {
  return {
    'media.scan': async () => {
      const drives = await s.drives.list();
      const found = await scanForBundles(
        drives.map((d) => ({ label: d.label, dir: d.mountPoint })),
        await s.keyStore.list(),
      );
      return {
        bundles: found.bundles.map((b) => summaryView(s, b)),
        problems: found.problems.map(({ label, error }) => ({ label, error })),
        drivesSearched: drives.length,
      };
    },
  };
}
