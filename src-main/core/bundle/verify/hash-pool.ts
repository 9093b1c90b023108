import { WORKER_PROTOCOL, WorkerPool, coreCount } from '../../base/workers/pool.js';

/**
 * SHA-256 is the bottleneck of everything that verifies (about 250 MB/s per core here), so
 * hashing runs in worker threads, one per core, each streaming its file in 1 MiB reads. The
 * worker is inline source (eval) so it runs unchanged under tsx, vitest, and Electron's main.
 */

const WORKER_SOURCE = `${WORKER_PROTOCOL}
const fs = require('node:fs');
const crypto = require('node:crypto');
const CHUNK = 1 << 20;
// One read buffer per thread, reused: a fresh 1 MiB per file piles up as external memory the
// small worker heap rarely collects, which made each thread cost ~40 MB on bundles of many files.
const buf = Buffer.allocUnsafe(CHUNK);
serveTasks(({ file }, task) => {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW || 0));
  try {
    if (!fs.fstatSync(fd).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTREG' });
    const hash = crypto.createHash('sha256');
    let size = 0, n;
    while ((n = fs.readSync(fd, buf, 0, CHUNK, null)) > 0) {
      if (task.stopped()) return CANCELLED;
      hash.update(n === CHUNK ? buf : buf.subarray(0, n));
      size += n;
      task.progress(n);
    }
    return { sha256: hash.digest('hex'), size };
  } finally {
    try { fs.closeSync(fd); } catch {}
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

export class HashPool {
  private readonly pool: WorkerPool<string, HashOutcome>;

  constructor(readonly size = defaultHashThreads()) {
    this.pool = new WorkerPool({
      source: WORKER_SOURCE,
      size,
      name: 'Hash pool',
      message: (file) => ({ file }),
      result: (m) => ({ sha256: m.sha256 as string, size: m.size as number }),
    });
  }

  hash(job: HashJob, signal?: AbortSignal): Promise<HashOutcome> {
    return this.pool.run(job.file, { signal, onBytes: job.onBytes });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export function defaultHashThreads(): number {
  const env = Number(process.env.FERRY_HASH_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  return coreCount();
}
