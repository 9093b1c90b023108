import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { appHandlers } from './app.js';
import { bundleHandlers } from './bundle.js';
import { connectedHandlers } from './connected.js';
import { offlineHandlers } from './offline.js';
import { jobHandlers } from './jobs.js';
import { keyHandlers } from './keys.js';
import { serveHandlers } from './serve.js';
import { settingsHandlers } from './settings.js';

/** Every handler of the contract, wired to the services. */
export function createHandlers(s: AppServices): Partial<Handlers> {
  return {
    ...appHandlers(s),
    ...jobHandlers(s),
    ...keyHandlers(s),
    ...settingsHandlers(s),
    ...bundleHandlers(s),
    ...serveHandlers(s),
    ...connectedHandlers(s),
    ...offlineHandlers(s),
  };
}
