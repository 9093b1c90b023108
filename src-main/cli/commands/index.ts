import type { Command } from '../command.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';
import { storeCommands } from './store.js';
import { drives } from './drives.js';
import { keysCommands } from './keys.js';
import { verify } from './verify.js';
import { serve } from './serve.js';
import { vars } from './vars.js';
import { push } from './push.js';
import { plan } from './plan.js';

/** Every CLI command, in the order `ferry --help` lists them. Each feature adds its own line. */
export const commands: Command[] = [verify, ...keysCommands, serve, vars, push, plan, exportCommand, importCommand, ...storeCommands, drives];
