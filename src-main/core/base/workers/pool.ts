import os from 'node:os';
import { setMaxListeners } from 'node:events';
import { Worker } from 'node:worker_threads';
import { FerryError } from '../errors/index.js';

/**
 * A fixed set of worker threads that each run one task at a time, for work that is CPU-bound per
 * file (hashing, copying while hashing). The worker is inline CommonJS source run with
 * `eval: true` so the same code runs under tsx, vitest and Electron's main without a build step.
 *
 * Protocol spoken by the worker source:
 * - in:  `{ ...message(task), id }` to start a task; `{ cancel: id }` to stop it (the worker
 *        checks between reads and answers `{ id, cancelled: true }`).
 * - out: `{ id, bytes }` any number of times (progress), then exactly one final message:
 *        `{ id, cancelled: true }`, `{ id, error: { code, message, ...more } }` or the result
 *        fields `{ id, ... }`.
 *
 * A worker is referenced only while it runs a task: a CLI process waiting on a result must not
 * exit, and an idle pool someone forgot to close must not hold the process open.
 */

/**
 * The worker's half of the protocol, for a worker source to start with: `serveTasks(run)` answers
 * cancels, batches progress (`task.progress(n)`, sent every 8 MiB and before the end), and sends
 * the one final message — `run`'s result fields, `{ cancelled: true }` when `run` returns
 * CANCELLED (after `task.stopped()` said so), or the error it threw with its code (EIO when it
 * has none) and path. Every pool's worker then holds only its own reads and writes.
 */
export const WORKER_PROTOCOL = `
const { parentPort } = require('node:worker_threads');
const REPORT = 8 << 20;
const CANCELLED = Symbol('cancelled');
const cancelled = new Set();
function serveTasks(run) {
  parentPort.on('message', (msg) => {
    if (msg.cancel !== undefined) { cancelled.add(msg.cancel); return; }
    const id = msg.id;
    let pending = 0;
    const task = {
      stopped() { if (!cancelled.has(id)) return false; cancelled.delete(id); return true; },
      progress(n) {
        pending += n;
        if (pending >= REPORT) { parentPort.postMessage({ id, bytes: pending }); pending = 0; }
      },
    };
    try {
      const result = run(msg, task);
      if (result === CANCELLED) { parentPort.postMessage({ id, cancelled: true }); return; }
      if (pending) parentPort.postMessage({ id, bytes: pending });
      parentPort.postMessage({ ...result, id });
    } catch (err) {
      const error = { code: err.code || 'EIO', message: err.message };
      if (err.path !== undefined) error.path = err.path;
      parentPort.postMessage({ id, error });
    }
  });
}
`;

export interface WorkerPoolOptions<Task, Result> {
  /** Inline CommonJS worker source that speaks the protocol above (WORKER_PROTOCOL + its task). */
  source: string;
  /** Number of threads (tasks that run at once). */
  size: number;
  /** Used in the error for a task submitted after close, e.g. 'Hash pool'. */
  name: string;
  /** The structured-cloneable message that starts a task; the pool adds `id`. */
  message: (task: Task) => Record<string, unknown>;
  /** The result from the worker's final message. */
  result: (msg: FinalMessage) => Result;
}

/** Callers forward their own optional signal and meter, so both also take an explicit undefined. */
export interface RunOptions {
  signal?: AbortSignal | undefined;
  /** Called with byte counts as the worker reports them. */
  onBytes?: ((n: number) => void) | undefined;
}

export interface FinalMessage {
  id: number;
  [field: string]: unknown;
}

interface Entry<Result> {
  id: number;
  message: Record<string, unknown>;
  onBytes: ((n: number) => void) | undefined;
  resolve: (r: Result) => void;
  reject: (e: unknown) => void;
}

interface WorkerError {
  message: string;
  code?: string;
  [field: string]: unknown;
}

const cancelled = () => new FerryError('CANCELLED', 'Cancelled.');

export class WorkerPool<Task, Result> {
  readonly size: number;
  private readonly workers: Worker[] = [];
  /** Workers that have not crashed; a crashed one is never given another task. */
  private readonly live = new Set<Worker>();
  private readonly idle: Worker[] = [];
  private readonly queue: Array<Entry<Result>> = [];
  private readonly busy = new Map<number, { entry: Entry<Result>; worker: Worker }>();
  private nextId = 1;
  private closed = false;
  private lastError?: Error;

  constructor(private readonly opts: WorkerPoolOptions<Task, Result>) {
    this.size = opts.size;
    for (let i = 0; i < opts.size; i++) {
      const w = new Worker(opts.source, { eval: true });
      w.on('message', (m: FinalMessage) => this.onMessage(w, m));
      w.on('error', (err) => this.onWorkerError(w, err));
      // After the listeners: adding a 'message' listener refs the worker again.
      w.unref();
      this.workers.push(w);
      this.live.add(w);
      this.idle.push(w);
    }
  }

  run(task: Task, opts: RunOptions = {}): Promise<Result> {
    const { signal, onBytes } = opts;
    if (this.closed) return Promise.reject(new FerryError('INTERNAL', `${this.opts.name} is closed.`));
    if (signal?.aborted) return Promise.reject(cancelled());
    if (this.live.size === 0)
      return Promise.reject(
        new FerryError('INTERNAL', `${this.opts.name} has no working thread left: every worker crashed.`, {
          hint: 'Run the command again; if it repeats, report it with the error that follows.',
          cause: this.lastError,
        }),
      );
    // One listener per queued task; a bundle has thousands, which is expected, not a leak.
    if (signal) setMaxListeners(0, signal);
    const message = this.opts.message(task);
    return new Promise<Result>((resolve, reject) => {
      const id = this.nextId++;
      const onAbort = () => {
        // A running task keeps its worker busy until the worker answers; a queued one just leaves.
        this.busy.get(id)?.worker.postMessage({ cancel: id });
        const qi = this.queue.findIndex((q) => q.id === id);
        if (qi >= 0) this.queue.splice(qi, 1);
        reject(cancelled());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const off = () => signal?.removeEventListener('abort', onAbort);
      this.queue.push({
        id,
        message,
        onBytes,
        resolve: (r) => {
          off();
          resolve(r);
        },
        reject: (e) => {
          off();
          reject(e);
        },
      });
      this.pump();
    });
  }

  /** Terminates every worker; queued tasks reject with CANCELLED. */
  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(cancelled());
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const entry = this.queue.shift()!;
      this.busy.set(entry.id, { entry, worker: w });
      w.ref();
      w.postMessage({ ...entry.message, id: entry.id });
    }
  }

  private onMessage(w: Worker, m: FinalMessage): void {
    const b = this.busy.get(m.id);
    if (!b) return;
    if (m.bytes !== undefined) {
      b.entry.onBytes?.(m.bytes as number);
      return;
    }
    this.busy.delete(m.id);
    w.unref();
    this.idle.push(w);
    if (m.cancelled) b.entry.reject(cancelled());
    else if (m.error) b.entry.reject(rebuildError(m.error as WorkerError));
    else b.entry.resolve(this.opts.result(m));
    this.pump();
  }

  private onWorkerError(w: Worker, err: Error): void {
    this.live.delete(w);
    this.lastError = err;
    const i = this.idle.indexOf(w);
    if (i >= 0) this.idle.splice(i, 1);
    for (const [id, b] of this.busy) {
      if (b.worker === w) {
        this.busy.delete(id);
        b.entry.reject(err);
      }
    }
    // With no thread left the queue would wait forever (and, nothing being referenced, a CLI would exit silently).
    if (this.live.size === 0) for (const q of this.queue.splice(0)) q.reject(err);
  }
}

/** The worker's error as an Error with the worker's code (and path, where given) on it. */
function rebuildError(e: WorkerError): Error {
  const { message, ...fields } = e;
  return Object.assign(new Error(message), fields);
}

/** One thread per core the OS lets this process use. */
export function coreCount(): number {
  return Math.max(
    1,
    typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
  );
}
