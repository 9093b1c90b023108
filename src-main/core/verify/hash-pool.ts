import os from 'node:os';
import { setMaxListeners } from 'node:events';
import { Worker } from 'node:worker_threads';
import { FerryError } from '../errors/index.js';

/**
 * SHA-256 is the bottleneck of everything that verifies (about 250 MB/s per core here), so
 * hashing runs in worker threads, one per core, each streaming its file in 1 MiB reads. The
 * worker is inline source (eval) so it runs unchanged under tsx, vitest, and Electron's main.
 */

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const CHUNK = 1 << 20;
const REPORT = 8 << 20;
const cancelled = new Set();
parentPort.on('message', (msg) => {
  if (msg.cancel !== undefined) { cancelled.add(msg.cancel); return; }
  const { id, file, dropCache } = msg;
  let fd;
  try {
    const flags = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW || 0);
    fd = fs.openSync(file, flags);
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTREG' });
    const hash = crypto.createHash('sha256');
    const buf = Buffer.allocUnsafe(CHUNK);
    let size = 0, pending = 0, n;
    while ((n = fs.readSync(fd, buf, 0, CHUNK, null)) > 0) {
      if (cancelled.has(id)) { cancelled.delete(id); parentPort.postMessage({ id, cancelled: true }); return; }
      hash.update(n === CHUNK ? buf : buf.subarray(0, n));
      size += n; pending += n;
      if (pending >= REPORT) { parentPort.postMessage({ id, bytes: pending }); pending = 0; }
    }
    if (pending) parentPort.postMessage({ id, bytes: pending });
    parentPort.postMessage({ id, sha256: hash.digest('hex'), size });
  } catch (err) {
    parentPort.postMessage({ id, error: { code: err.code || 'EIO', message: err.message } });
  } finally {
    if (fd !== undefined) try { fs.closeSync(fd); } catch {}
  }
});
`;

export interface HashJob {
  file: string;
  /** Called with byte counts as they are hashed (for progress). */
  onBytes?: (n: number) => void;
}

export interface HashOutcome {
  sha256: string;
  size: number;
}

interface Pending {
  resolve: (v: HashOutcome) => void;
  reject: (e: unknown) => void;
  onBytes?: (n: number) => void;
  worker: Worker;
}

export class HashPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Array<{
    id: number;
    job: HashJob;
    resolve: Pending['resolve'];
    reject: Pending['reject'];
  }> = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(readonly size = defaultHashThreads()) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.on('message', (msg) => this.onMessage(w, msg));
      w.on('error', (err) => this.onWorkerError(w, err));
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  hash(job: HashJob, signal?: AbortSignal): Promise<HashOutcome> {
    if (this.closed) return Promise.reject(new FerryError('INTERNAL', 'Hash pool is closed.'));
    if (signal?.aborted) return Promise.reject(new FerryError('CANCELLED', 'Cancelled.'));
    // One listener per queued file; a bundle has thousands, which is expected, not a leak.
    if (signal) setMaxListeners(0, signal);
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const onAbort = () => {
        const p = this.pending.get(id);
        if (p) p.worker.postMessage({ cancel: id });
        const qi = this.queue.findIndex((q) => q.id === id);
        if (qi >= 0) this.queue.splice(qi, 1);
        reject(new FerryError('CANCELLED', 'Cancelled.'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done =
        <T>(fn: (v: T) => void) =>
        (v: T) => {
          signal?.removeEventListener('abort', onAbort);
          fn(v);
        };
      this.queue.push({ id, job, resolve: done(resolve), reject: done(reject) });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const q = this.queue.shift()!;
      this.pending.set(q.id, { resolve: q.resolve, reject: q.reject, onBytes: q.job.onBytes, worker: w });
      w.postMessage({ id: q.id, file: q.job.file });
    }
  }

  private onMessage(w: Worker, msg: any): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.bytes !== undefined) {
      p.onBytes?.(msg.bytes);
      return;
    }
    this.pending.delete(msg.id);
    this.idle.push(w);
    if (msg.cancelled) p.reject(new FerryError('CANCELLED', 'Cancelled.'));
    else if (msg.error) p.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
    else p.resolve({ sha256: msg.sha256, size: msg.size });
    this.pump();
  }

  private onWorkerError(w: Worker, err: Error): void {
    for (const [id, p] of this.pending) {
      if (p.worker === w) {
        this.pending.delete(id);
        p.reject(err);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(new FerryError('CANCELLED', 'Cancelled.'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

export function defaultHashThreads(): number {
  const env = Number(process.env.FERRY_HASH_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  return Math.max(
    1,
    typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
  );
}
