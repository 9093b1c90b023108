import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { appHandlers } from './app.js';
import { bundleHandlers } from './bundle.js';
import { jobHandlers } from './jobs.js';
import { keyHandlers } from './keys.js';
import { pendingHandlers } from './pending.js';
import { serveHandlers } from './serve.js';
import { settingsHandlers } from './settings.js';

/** Every handler, wired to the services. Later entries win, so real handlers replace pending ones. */
export function createHandlers(s: AppServices): Partial<Handlers> {
  return {
    ...pendingHandlers(),
    ...appHandlers(s),
    ...jobHandlers(s),
    ...keyHandlers(s),
    ...settingsHandlers(s),
    ...bundleHandlers(s),
    ...serveHandlers(s),
  };
}
