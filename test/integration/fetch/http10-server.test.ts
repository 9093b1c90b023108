import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle } from '../../../src-main/core/bundle/index.js';
import { lacks, repoRoot } from '../../helpers/tools.js';
import { makePlan } from '../../helpers/world/index.js';

/**
 * Python's `http.server` speaks HTTP/1.0: it sends the body and closes the connection at once.
 * With undici 7 that close, arriving while Ferry's body pump had the body paused, crashed the
 * process with an uncatchable `assert(!this.paused)` (undici #5360) in 9 runs of 10 over many
 * small files. The fetch runs as a real `ferry` process here, so a crash is an exit code and a
 * stack trace on stderr rather than a dead test worker, and it runs several times because the
 * crash was a race.
 */

const FILES = 60;
const RUNS = 5;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** `python3 -m http.server` on a port the kernel picks; resolves once it printed that port. */
function startPythonServer(root: string): Promise<{ proc: ChildProcess; origin: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn('python3', ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`http.server did not start: ${out}`)), 15_000);
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /port (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, origin: `http://127.0.0.1:${m[1]}` });
      }
    });
    proc.stderr!.resume(); // one access-log line per request: drained, never read
    proc.once('exit', (code) => reject(new Error(`http.server exited (${code}): ${out}`)));
  });
}

function runFerry(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(repoRoot, 'bin/ferry.mjs'), ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.once('error', reject);
    p.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe.skipIf(lacks('python3'))('fetch from an HTTP/1.0 server that closes after every body', () => {
  let tmp: string;
  let server: { proc: ChildProcess; origin: string };
  const files: Array<{ name: string; sha256: string; size: number }> = [];

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fetch-net-http10-'));
    const root = path.join(tmp, 'www');
    fs.mkdirSync(root);
    for (let i = 0; i < FILES; i++) {
      // 4–512 KB, so most bodies span several chunks and the pump pauses on some of them.
      const body = randomBytes(randomInt(4 << 10, (512 << 10) + 1));
      const name = `f${String(i).padStart(2, '0')}.bin`;
      fs.writeFileSync(path.join(root, name), body);
      files.push({ name, sha256: sha256(body), size: body.length });
    }
    server = await startPythonServer(root);
  });
  afterAll(() => {
    server?.proc.kill();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it(`downloads ${FILES} files and verifies them, ${RUNS} runs in a row, without a crash`, async () => {
    const plan = makePlan({
      files: files.map((f) => ({
        key: f.name,
        url: `${server.origin}/${f.name}`,
        checksum: `sha256:${f.sha256}`,
      })),
    });
    const planFile = path.join(tmp, 'plan.json');
    fs.writeFileSync(planFile, JSON.stringify(plan));
    const env: NodeJS.ProcessEnv = {
      HOME: tmp,
      FERRY_CONFIG_DIR: path.join(tmp, 'config'),
      FERRY_DATA_DIR: path.join(tmp, 'data'),
      PATH: process.env.PATH,
    };
    for (let run = 0; run < RUNS; run++) {
      const out = path.join(tmp, `bundle-${run}`);
      const r = await runFerry(
        ['fetch', '--no-tools', '--plan', planFile, '--out', out, '--concurrency', '8'],
        env,
      );
      const what = `run ${run + 1}: exit ${r.code} ${r.signal ?? ''}\n${r.stderr}${r.stdout}`;
      expect(r.code, what).toBe(0);
      expect(r.stderr, what).not.toMatch(/AssertionError|Warning|Error:/);
      expect(r.stdout, what).toContain(`${FILES} fetched`);
      const { manifest } = await openBundle(out);
      const byPath = new Map(manifest.files.map((f) => [f.path, f]));
      for (const f of files) {
        const p = plan.files.find((x) => x.key === f.name)!.path!;
        expect(byPath.get(p), `${what}\n${p}`).toMatchObject({ sha256: f.sha256, size: f.size });
        expect(sha256(fs.readFileSync(path.join(out, ...p.split('/'))))).toBe(f.sha256);
      }
    }
  });
});
