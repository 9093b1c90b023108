import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './tools.js';

export interface CliRun {
  code: number | null;
  out: string;
  err: string;
}

/**
 * `ferry ARGS` as a user runs it: a real process through tsx, its stdout, stderr and exit code.
 * Asynchronous, so a server in the test process (a mirror, a registry) can answer it meanwhile.
 */
export function ferryProcess(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), 'src-main/cli/main.ts', ...args],
      { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}
