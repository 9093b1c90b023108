import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { FerryError } from '../errors/index.js';

/**
 * Copies files from the media into the store and hashes them on the way, in worker threads, one
 * per core: the source is read once, and the bytes hashed are the bytes written. Hashing is the
 * slowest step of an import on CPUs without SHA extensions, so it must run on every core; doing
 * the reads and writes in the same workers keeps each core fed without a second pass over the
 * copy. The source is opened read-only and never followed through a symlink.
 */

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const CHUNK = 1 << 20;
const REPORT = 8 << 20;
const buf = Buffer.allocUnsafe(CHUNK);
const cancelled = new Set();
parentPort.on('message', (msg) => {
  if (msg.cancel !== undefined) { cancelled.add(msg.cancel); return; }
  const { id, srcs, dest } = msg;
  let out;
  try {
    out = fs.openSync(dest, 'wx', 0o644);
    const hash = crypto.createHash('sha256');
    let size = 0, pending = 0;
    for (const src of srcs) {
      const fd = fs.openSync(src, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW || 0));
      try {
        if (!fs.fstatSync(fd).isFile()) throw Object.assign(new Error(src + ' is not a regular file'), { code: 'ENOTREG' });
        let n;
        while ((n = fs.readSync(fd, buf, 0, CHUNK, null)) > 0) {
          if (cancelled.has(id)) { cancelled.delete(id); parentPort.postMessage({ id, cancelled: true }); return; }
          const b = n === CHUNK ? buf : buf.subarray(0, n);
          hash.update(b);
          let off = 0;
          while (off < n) off += fs.writeSync(out, b, off, n - off);
          size += n; pending += n;
          if (pending >= REPORT) { parentPort.postMessage({ id, bytes: pending }); pending = 0; }
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    // No fsync here: the store fsyncs on commit, off this thread, while this worker hashes the next file.
    if (pending) parentPort.postMessage({ id, bytes: pending });
    parentPort.postMessage({ id, sha256: hash.digest('hex'), size });
  } catch (err) {
    parentPort.postMessage({ id, error: { code: err.code || 'EIO', message: err.message, path: err.path } });
  } finally {
    if (out !== undefined) try { fs.closeSync(out); } catch {}
  }
});
`;

interface Task {
  id: number;
  srcs: string[];
  dest: string;
  onBytes?: (n: number) => void;
  resolve: (r: { sha256: string; size: number }) => void;
  reject: (e: unknown) => void;
}

export class CopyHashPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Task[] = [];
  private readonly busy = new Map<number, { task: Task; worker: Worker }>();
  private nextId = 1;

  constructor(
    readonly size = Math.max(
      1,
      typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
    ),
  ) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.on('message', (m) => this.onMessage(w, m));
      w.on('error', (err) => {
        for (const [id, b] of this.busy) {
          if (b.worker === w) {
            this.busy.delete(id);
            b.task.reject(err);
          }
        }
      });
      w.unref();
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  /** Copy `srcs` (concatenated, in order) to `dest` (created exclusively), returning the sha256 of the bytes. */
  copy(
    srcs: string[],
    dest: string,
    opts: { signal?: AbortSignal; onBytes?: (n: number) => void } = {},
  ): Promise<{ sha256: string; size: number }> {
    if (opts.signal?.aborted) return Promise.reject(new FerryError('CANCELLED', 'Cancelled.'));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const onAbort = () => {
        const b = this.busy.get(id);
        if (b) b.worker.postMessage({ cancel: id });
        const qi = this.queue.findIndex((q) => q.id === id);
        if (qi >= 0) this.queue.splice(qi, 1);
        reject(new FerryError('CANCELLED', 'Cancelled.'));
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const off = () => opts.signal?.removeEventListener('abort', onAbort);
      this.queue.push({
        id,
        srcs,
        dest,
        onBytes: opts.onBytes,
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

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const t = this.queue.shift()!;
      this.busy.set(t.id, { task: t, worker: w });
      // Keep the process alive while work is pending (idle workers are unref'd).
      w.ref();
      w.postMessage({ id: t.id, srcs: t.srcs, dest: t.dest });
    }
  }

  private onMessage(w: Worker, m: any): void {
    const b = this.busy.get(m.id);
    if (!b) return;
    if (m.bytes !== undefined) {
      b.task.onBytes?.(m.bytes);
      return;
    }
    this.busy.delete(m.id);
    w.unref();
    this.idle.push(w);
    if (m.cancelled) b.task.reject(new FerryError('CANCELLED', 'Cancelled.'));
    else if (m.error)
      b.task.reject(Object.assign(new Error(m.error.message), { code: m.error.code, path: m.error.path }));
    else b.task.resolve({ sha256: m.sha256, size: m.size });
    this.pump();
  }

  async close(): Promise<void> {
    for (const q of this.queue.splice(0)) q.reject(new FerryError('CANCELLED', 'Cancelled.'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
