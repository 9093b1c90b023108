import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { appHandlers } from './app.js';
import { bundleHandlers } from './bundle.js';
import { deployHandlers } from './deploy.js';
import { dialogHandlers } from './dialog.js';
import { drivesHandlers } from './drives.js';
import { exportHandlers } from './export.js';
import { fetchHandlers } from './fetch.js';
import { importHandlers } from './import.js';
import { jobHandlers } from './jobs.js';
import { keyHandlers } from './keys.js';
import { mediaHandlers } from './media.js';
import { planHandlers } from './plan.js';
import { createPlanner } from './planning.js';
import { serveHandlers } from './serve.js';
import { createServing } from './serving.js';
import { settingsHandlers } from './settings.js';
import { varsHandlers } from './vars.js';
import { venvHandlers } from './venv.js';
import { verifyHandlers } from './verify.js';

/**
 * Every handler of the contract, wired to the services: one file per channel namespace. The
 * connected side's plan and fetch share one planner (releases loaded once); serve, vars, deploy
 * and venv share the running services.
 */
export function createHandlers(s: AppServices): Partial<Handlers> {
  const planner = createPlanner(s);
  const serving = createServing(s);
  return {
    ...appHandlers(s),
    ...dialogHandlers(s),
    ...jobHandlers(s),
    ...keyHandlers(s),
    ...settingsHandlers(s),
    ...planHandlers(s, planner),
    ...fetchHandlers(s, planner),
    ...drivesHandlers(s),
    ...exportHandlers(s),
    ...mediaHandlers(s),
    ...bundleHandlers(s),
    ...verifyHandlers(s),
    ...importHandlers(s),
    ...serveHandlers(s, serving),
    ...varsHandlers(s, serving),
    ...deployHandlers(s, serving),
    ...venvHandlers(s, serving),
  };
}
