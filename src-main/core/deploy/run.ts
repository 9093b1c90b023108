import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { FerryError } from '../base/errors/index.js';
import { CALLBACK_NAME, CALLBACK_PLUGIN } from './callback-plugin.js';
import { applyEvent, newDeployState, parseEventLine, type AnsibleEvent, type DeployState } from './events.js';

export interface PlaybookRun {
  /** ansible-playbook to run (the bundle's offline virtualenv, or one on PATH). */
  ansiblePlaybook: string;
  /** Working directory: the unpacked Kubespray release (ansible.cfg, roles, playbooks). */
  cwd: string;
  inventory: string;
  /** Playbook path relative to cwd, or absolute: cluster.yml, scale.yml, reset.yml… */
  playbook: string;
  /** Extra ansible-playbook arguments (-u, --private-key, -b, -e …), passed as given. */
  args?: string[];
  /** Where the callback plugin is written (created). */
  pluginDir: string;
  /** Ansible's full output goes here (appended, so a rerun keeps the earlier run's log). */
  logFile: string;
  /** Host names of the inventory, so hosts that never report still show. */
  hosts?: string[];
  env?: NodeJS.ProcessEnv | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: (e: AnsibleEvent, state: DeployState) => void;
  /** How long Ansible gets to stop after SIGTERM before its whole process group is killed. */
  killAfterMs?: number;
}

export interface PlaybookResult {
  exitCode: number;
  state: DeployState;
  logFile: string;
  /** Lines on the event descriptor that were not valid events (a broken plugin, never trusted). */
  badEvents: number;
}

/**
 * Runs ansible-playbook with Ferry's callback plugin enabled and folds its events into a
 * DeployState. Ansible runs in its own process group so a cancel stops it and everything it
 * started (forks, ssh, the modules they run), not only the parent.
 */
export async function runPlaybook(o: PlaybookRun): Promise<PlaybookResult> {
  if (o.signal?.aborted) throw new FerryError('CANCELLED', 'Deploy cancelled before it started.');
  await fsp.mkdir(o.pluginDir, { recursive: true });
  await fsp.writeFile(path.join(o.pluginDir, `${CALLBACK_NAME}.py`), CALLBACK_PLUGIN);
  await fsp.mkdir(path.dirname(o.logFile), { recursive: true });
  const log = fs.openSync(o.logFile, 'a');
  const state = newDeployState(o.hosts);
  let badEvents = 0;
  const env: NodeJS.ProcessEnv = {
    ...(o.env ?? process.env),
    ANSIBLE_CALLBACK_PLUGINS: [o.pluginDir, (o.env ?? process.env).ANSIBLE_CALLBACK_PLUGINS]
      .filter(Boolean)
      .join(path.delimiter),
    FERRY_EVENTS_FD: '3',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
    PYTHONUNBUFFERED: '1',
  };
  const args = ['-i', o.inventory, ...(o.args ?? []), o.playbook];
  fs.writeSync(
    log,
    `\n===== ${new Date().toISOString()} ferry deploy: ${o.ansiblePlaybook} ${args.join(' ')}\n`,
  );
  let child;
  try {
    child = spawn(o.ansiblePlaybook, args, {
      cwd: o.cwd,
      env,
      stdio: ['ignore', log, log, 'pipe'],
      detached: true,
    });
  } finally {
    fs.closeSync(log);
  }
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new FerryError(
          err.code === 'ENOENT' ? 'NOT_FOUND' : 'IO',
          `Cannot run ${o.ansiblePlaybook}: ${err.message}`,
          {
            artifact: o.ansiblePlaybook,
            hint: 'Install ansible-core on the deploy host, use the bundle’s virtualenv, or pass --ansible-playbook PATH.',
            cause: err,
          },
        ),
      ),
    );
  });
  const exited = new Promise<number>((resolve) =>
    child.once('close', (code, sig) => resolve(code ?? (sig ? 128 + 15 : 1))),
  );
  await spawned;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    const group = -child.pid!;
    try {
      process.kill(group, 'SIGTERM');
    } catch {
      // already gone
    }
    killTimer = setTimeout(() => {
      try {
        process.kill(group, 'SIGKILL');
      } catch {
        // already gone
      }
    }, o.killAfterMs ?? 5000);
    killTimer.unref();
  };
  o.signal?.addEventListener('abort', stop, { once: true });
  const events = child.stdio[3] as NodeJS.ReadableStream;
  const lines = readline.createInterface({ input: events, crlfDelay: Infinity });
  const reading = (async () => {
    for await (const line of lines) {
      if (!line.trim()) continue;
      const e = parseEventLine(line);
      if (!e) {
        badEvents++;
        continue;
      }
      applyEvent(state, e);
      o.onEvent?.(e, state);
    }
  })();
  const exitCode = await exited;
  o.signal?.removeEventListener('abort', stop);
  await reading.catch(() => undefined);
  if (o.signal?.aborted) {
    // Whatever survived SIGTERM in the group goes now: a cancelled deploy leaves nothing running.
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // all gone
    }
    if (killTimer) clearTimeout(killTimer);
    throw new FerryError('CANCELLED', `Deploy cancelled; ansible-playbook stopped. Its log: ${o.logFile}`, {
      artifact: o.logFile,
      hint: 'Run the same command again: Kubespray’s playbooks are idempotent, so a rerun resumes.',
    });
  }
  if (killTimer) clearTimeout(killTimer);
  return { exitCode, state, logFile: o.logFile, badEvents };
}
