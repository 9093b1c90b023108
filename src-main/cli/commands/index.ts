import type { Command } from '../command.js';
import { bundles } from './bundles.js';
import { deployCommand } from './deploy.js';
import { drives } from './drives.js';
import { exportCommand } from './export.js';
import { fetch } from './fetch.js';
import { importCommand } from './import.js';
import { keysCommands } from './keys.js';
import { plan } from './plan.js';
import { push } from './push.js';
import { serve } from './serve.js';
import { storeCommands } from './store.js';
import { vars } from './vars.js';
import { verify } from './verify.js';

/** Every CLI command, in the order of the journey: plan and fetch, carry, verify and serve. */
export const commands: Command[] = [
  plan,
  fetch,
  exportCommand,
  importCommand,
  bundles,
  verify,
  serve,
  vars,
  push,
  deployCommand,
  ...storeCommands,
  drives,
  ...keysCommands,
];
