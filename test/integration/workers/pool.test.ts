import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../../src-main/core/base/workers/pool.js';
import { repoRoot } from '../../helpers/tools.js';

/**
 * A worker that speaks the pool protocol without touching files: it reports the given progress,
 * then answers after `ms` (a timer, so a cancel can arrive meanwhile) with when it ran and on
 * which thread. `fail` answers with an error value; `crash` throws out of the worker.
 */
const SOURCE = `
const { parentPort, threadId } = require('node:worker_threads');
const timers = new Map();
parentPort.on('message', (m) => {
  if (m.cancel !== undefined) {
    const t = timers.get(m.cancel);
    if (t) { clearTimeout(t); timers.delete(m.cancel); parentPort.postMessage({ id: m.cancel, cancelled: true }); }
    return;
  }
  if (m.crash) throw new Error('worker blew up');
  const start = Date.now();
  for (const n of m.progress || []) parentPort.postMessage({ id: m.id, bytes: n });
  timers.set(m.id, setTimeout(() => {
    timers.delete(m.id);
    if (m.fail) parentPort.postMessage({ id: m.id, error: { code: 'ENOENT', message: 'no such file', path: m.fail } });
    else parentPort.postMessage({ id: m.id, value: m.value, threadId, start, end: Date.now() });
  }, m.ms || 0));
});
`;

interface Task {
  value?: string;
  ms?: number;
  progress?: number[];
  fail?: string;
  crash?: boolean;
}
interface Ran {
  value: string;
  threadId: number;
  start: number;
  end: number;
}

const pools: Array<WorkerPool<Task, Ran>> = [];
function makePool(size: number): WorkerPool<Task, Ran> {
  const pool = new WorkerPool<Task, Ran>({
    source: SOURCE,
    size,
    name: 'Test pool',
    message: (t) => ({ ...t }),
    result: (m) => ({
      value: m.value as string,
      threadId: m.threadId as number,
      start: m.start as number,
      end: m.end as number,
    }),
  });
  pools.push(pool);
  return pool;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('WorkerPool', () => {
  it('runs one task per thread at a time and queues the rest until a thread is free', async () => {
    const pool = makePool(2);
    const runs = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((value) => pool.run({ value, ms: 80 })));
    expect(runs.map((r) => r.value)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(new Set(runs.map((r) => r.threadId)).size).toBe(2);
    // At no moment do more than two tasks run, and never two on the same thread.
    for (const r of runs) {
      const runningAtStart = runs.filter((o) => o.start <= r.start && r.start < o.end);
      expect(runningAtStart.length).toBeLessThanOrEqual(2);
      const sameThread = runs.filter((o) => o.threadId === r.threadId && o.start < r.end && r.start < o.end);
      expect(sameThread).toEqual([r]);
    }
    // Five 80 ms tasks on two threads take three rounds.
    const span = Math.max(...runs.map((r) => r.end)) - Math.min(...runs.map((r) => r.start));
    expect(span).toBeGreaterThanOrEqual(3 * 80 - 10);
  });

  it("passes the worker's byte reports to the task's onBytes, and only that task's", async () => {
    const pool = makePool(2);
    const a: number[] = [];
    const b: number[] = [];
    await Promise.all([
      pool.run({ value: 'a', progress: [1, 2, 3] }, { onBytes: (n) => a.push(n) }),
      pool.run({ value: 'b', progress: [40, 50] }, { onBytes: (n) => b.push(n) }),
    ]);
    expect(a).toEqual([1, 2, 3]);
    expect(b).toEqual([40, 50]);
  });

  it("rejects with the worker's error code and fields when the task fails", async () => {
    const pool = makePool(1);
    await expect(pool.run({ fail: '/x/y' })).rejects.toMatchObject({
      message: 'no such file',
      code: 'ENOENT',
      path: '/x/y',
    });
    // The thread is free again afterwards.
    await expect(pool.run({ value: 'next' })).resolves.toMatchObject({ value: 'next' });
  });

  it('cancelling a queued task removes it: it rejects at once and never runs', async () => {
    const pool = makePool(1);
    const ac = new AbortController();
    const first = pool.run({ value: 'first', ms: 150 });
    const seen: number[] = [];
    const queued = pool.run(
      { value: 'queued', ms: 400, progress: [7] },
      { signal: ac.signal, onBytes: (n) => seen.push(n) },
    );
    const after = pool.run({ value: 'after' });
    ac.abort();
    await expect(queued).rejects.toMatchObject({ code: 'CANCELLED' });
    const [f, a] = await Promise.all([first, after]);
    // 'after' started right when 'first' ended: the 400 ms 'queued' did not run in between.
    expect(a.start - f.end).toBeLessThan(200);
    expect(seen).toEqual([]);
  });

  it('cancelling a running task tells the worker, rejects at once, and frees the thread', async () => {
    const pool = makePool(1);
    const ac = new AbortController();
    const running = pool.run({ value: 'long', ms: 10_000 }, { signal: ac.signal });
    const next = pool.run({ value: 'next' });
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    ac.abort();
    await expect(running).rejects.toMatchObject({ code: 'CANCELLED' });
    // The worker stopped the 10 s task on { cancel: id }: the queued task runs right away.
    await expect(next).resolves.toMatchObject({ value: 'next' });
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('rejects a task whose signal is already aborted without running it', async () => {
    const pool = makePool(1);
    await expect(pool.run({ value: 'x' }, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'CANCELLED',
    });
  });

  it('takes one abort listener per task on a shared signal without a MaxListeners warning', async () => {
    const pool = makePool(2);
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const ac = new AbortController();
    const runs = Array.from({ length: 30 }, (_, i) => pool.run({ value: String(i) }, { signal: ac.signal }));
    await Promise.all(runs);
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('a crashing worker rejects its task; the other threads keep serving the queue', async () => {
    const pool = makePool(2);
    const crash = pool.run({ crash: true });
    const others = ['a', 'b', 'c'].map((value) => pool.run({ value, ms: 20 }));
    await expect(crash).rejects.toThrow('worker blew up');
    const done = await Promise.all(others);
    expect(done.map((r) => r.value)).toEqual(['a', 'b', 'c']);
    expect(new Set(done.map((r) => r.threadId)).size).toBe(1);
  });

  it('when every worker has crashed, queued and later tasks reject instead of waiting forever', async () => {
    const pool = makePool(1);
    const crash = pool.run({ crash: true });
    const queued = pool.run({ value: 'queued' });
    await expect(crash).rejects.toThrow('worker blew up');
    await expect(queued).rejects.toThrow('worker blew up');
    await expect(pool.run({ value: 'later' })).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('close terminates the workers, rejects queued tasks with CANCELLED and refuses new ones', async () => {
    const pool = makePool(1);
    void pool.run({ value: 'running', ms: 10_000 }).catch(() => undefined);
    const queued = expect(pool.run({ value: 'queued' })).rejects.toMatchObject({ code: 'CANCELLED' });
    await pool.close();
    await queued;
    await expect(pool.run({ value: 'late' })).rejects.toMatchObject({
      code: 'INTERNAL',
      message: 'Test pool is closed.',
    });
  });
});

/** A script run in its own Node process: whether the pool holds the process open is only visible there. */
async function runScript(body: string): Promise<{ code: number | null; out: string; ms: number }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-pool-'));
  const file = path.join(dir, 'script.mts');
  const poolPath = path.join(repoRoot, 'src-main/core/base/workers/pool.ts');
  await fs.writeFile(
    file,
    `import { WorkerPool } from ${JSON.stringify(poolPath)};\n` +
      `const SOURCE = ${JSON.stringify(SOURCE)};\n` +
      `const pool = new WorkerPool<any, any>({ source: SOURCE, size: 2, name: 'p', message: (t) => t, result: (m) => m });\n` +
      body,
  );
  const t0 = Date.now();
  const child = spawn(process.execPath, [path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), file], {
    cwd: repoRoot,
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  clearTimeout(killer);
  await fs.rm(dir, { recursive: true, force: true });
  return { code, out, ms: Date.now() - t0 };
}

describe('WorkerPool and the process lifetime', () => {
  it('keeps a process alive while a task runs, though nothing else holds the event loop', async () => {
    const r = await runScript(
      `pool.run({ value: 'done', ms: 1500 }).then((m) => console.log('result ' + m.value));\n`,
    );
    expect(r.out).toContain('result done');
    expect(r.code).toBe(0);
  }, 30_000);

  it('lets a process exit once its tasks are done, even if the pool is never closed', async () => {
    const r = await runScript(
      `await pool.run({ value: 'one', ms: 10 });\n` +
        `console.log('finished');\n` +
        // Unref'd, so it fires only if something else (the pool) still holds the process.
        `setTimeout(() => { console.log('still alive'); process.exit(9); }, 8000).unref();\n`,
    );
    expect(r.out).toContain('finished');
    expect(r.out).not.toContain('still alive');
    expect(r.code).toBe(0);
  }, 30_000);
});
