import { WORKER_PROTOCOL, WorkerPool, coreCount } from '../../base/workers/pool.js';

/**
 * Copies files from the media into the store and hashes them on the way, in worker threads, one
 * per core: the source is read once, and the bytes hashed are the bytes written. Hashing is the
 * slowest step of an import on CPUs without SHA extensions, so it must run on every core; doing
 * the reads and writes in the same workers keeps each core fed without a second pass over the
 * copy. The source is opened read-only and never followed through a symlink.
 */

const WORKER_SOURCE = `${WORKER_PROTOCOL}
const fs = require('node:fs');
const crypto = require('node:crypto');
const CHUNK = 1 << 20;
const buf = Buffer.allocUnsafe(CHUNK);
serveTasks(({ srcs, dest }, task) => {
  const out = fs.openSync(dest, 'wx', 0o644);
  try {
    const hash = crypto.createHash('sha256');
    let size = 0;
    for (const src of srcs) {
      const fd = fs.openSync(src, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW || 0));
      try {
        if (!fs.fstatSync(fd).isFile()) throw Object.assign(new Error(src + ' is not a regular file'), { code: 'ENOTREG' });
        let n;
        while ((n = fs.readSync(fd, buf, 0, CHUNK, null)) > 0) {
          if (task.stopped()) return CANCELLED;
          const b = n === CHUNK ? buf : buf.subarray(0, n);
          hash.update(b);
          let off = 0;
          while (off < n) off += fs.writeSync(out, b, off, n - off);
          size += n;
          task.progress(n);
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    // No fsync here: the store fsyncs on commit, off this thread, while this worker hashes the next file.
    return { sha256: hash.digest('hex'), size };
  } finally {
    try { fs.closeSync(out); } catch {}
  }
});
`;

interface CopyTask {
  srcs: string[];
  dest: string;
}

export class CopyHashPool {
  private readonly pool: WorkerPool<CopyTask, { sha256: string; size: number }>;

  constructor(readonly size = coreCount()) {
    this.pool = new WorkerPool({
      source: WORKER_SOURCE,
      size,
      name: 'Copy pool',
      message: (t) => ({ srcs: t.srcs, dest: t.dest }),
      result: (m) => ({ sha256: m.sha256 as string, size: m.size as number }),
    });
  }

  /** Copy `srcs` (concatenated, in order) to `dest` (created exclusively), returning the sha256 of the bytes. */
  copy(
    srcs: string[],
    dest: string,
    opts: { signal?: AbortSignal | undefined; onBytes?: ((n: number) => void) | undefined } = {},
  ): Promise<{ sha256: string; size: number }> {
    return this.pool.run({ srcs, dest }, opts);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
