import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { repoRoot } from '../../helpers/tools.js';

/**
 * The CLI as a user runs it (bin/ferry.mjs registers tsx in-process, so the pid is the server's
 * own, whose descriptors and memory the tests read): a real process.
 */
const FERRY = [path.join(repoRoot, 'bin/ferry.mjs')];

/** Run ferry to completion. */
export function ferrySync(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, [...FERRY, ...args], {
    cwd: repoRoot,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A running `ferry serve`: its output so far, its URLs once ready, and a way to stop it. */
export class ServeProcess {
  readonly proc: ChildProcess;
  out = '';
  err = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.proc = spawn(
      process.execPath,
      [...FERRY, 'serve', '--listen', '127.0.0.1', '--files-port', '0', '--registry-port', '0', ...args],
      { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc.stdout!.on('data', (c: Buffer) => (this.out += c.toString()));
    this.proc.stderr!.on('data', (c: Buffer) => (this.err += c.toString()));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Resolves with the URLs once serving, rejects if the process exits first. */
  async ready(ms = 60_000): Promise<{ files: string; registry: string }> {
    const end = Date.now() + ms;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (!this.out.includes('Press Ctrl-C')) {
      if (exited) throw new Error(`ferry serve exited before serving:\n${this.out}\n${this.err}`);
      if (Date.now() > end) throw new Error(`ferry serve not ready:\n${this.out}\n${this.err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const files = /^Files: +(http:\/\/\S+?)\/ /m.exec(this.out)![1];
    const registry = /^Registry: +(http:\/\/\S+)/m.exec(this.out)![1];
    return { files, registry };
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(t);
  }
}

/** One GET with a fresh connection; the whole body. */
export function get(
  url: string,
): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, body: Buffer.concat(chunks), headers: res.headers }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}
