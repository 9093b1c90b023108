import { WORKER_PROTOCOL, WorkerPool, coreCount } from '../../base/workers/pool.js';

/**
 * Reads what was written back from the media and hashes it, in worker threads so hashing the
 * copy of one file overlaps with writing the next, on all cores.
 *
 * A read served from the page cache proves nothing about the stick, so where the OS allows the
 * read bypasses the cache:
 * - Linux: O_DIRECT. Node exposes the flag but not aligned memory, so the worker finds, once, an
 *   offset into its buffer that the kernel accepts (O_DIRECT needs block-aligned memory). The
 *   bytes then come from the device driver; a FUSE file system (exfat-fuse, ntfs-3g) still sits in
 *   between and may serve them from its own cache of the block device.
 * - Where O_DIRECT is refused (tmpfs, some FUSE mounts, macOS, Windows) the file is read through
 *   a fresh descriptor after fsync: this proves the file system holds the right bytes, not that
 *   the flash does. The mode used is reported per file ('direct' or 'buffered') so the CLI can
 *   say what was guaranteed.
 */

const WORKER_SOURCE = `${WORKER_PROTOCOL}
const fs = require('node:fs');
const crypto = require('node:crypto');
const CHUNK = 4 << 20;
const ab = new ArrayBuffer(CHUNK + 8192);
let alignedOffset = -1; // unknown yet
function hashFd(fd, task, direct, reprobed) {
  const hash = crypto.createHash('sha256');
  let size = 0;
  let view;
  if (direct) {
    if (alignedOffset < 0) {
      // Only a read that returned bytes proves an offset is aligned (an empty file accepts any).
      let probed = -1;
      for (let off = 0; off <= 8192 - 16; off += 16) {
        try {
          const v = new Uint8Array(ab, off, CHUNK);
          const got = fs.readSync(fd, v, 0, CHUNK, 0);
          if (got === 0) return { sha256: crypto.createHash('sha256').digest('hex'), size: 0 };
          probed = off;
          break;
        } catch (e) {
          if (e.code !== 'EINVAL') throw e;
        }
      }
      if (probed < 0) return null;
      alignedOffset = probed;
    }
    view = new Uint8Array(ab, alignedOffset, CHUNK);
  } else {
    view = new Uint8Array(ab, 0, CHUNK);
  }
  let n;
  let pos = 0;
  for (;;) {
    try {
      n = fs.readSync(fd, view, 0, CHUNK, pos);
    } catch (e) {
      if (direct && e.code === 'EINVAL' && pos === 0) {
        // Another device may need a stricter alignment than the one probed before: probe again once.
        if (reprobed) return null;
        alignedOffset = -1;
        return hashFd(fd, task, true, true);
      }
      throw e;
    }
    if (n <= 0) break;
    if (task.stopped()) return CANCELLED;
    hash.update(view.subarray(0, n));
    size += n; pos += n;
    task.progress(n);
    // An O_DIRECT read stops short only at the end of the file, and the next offset would not be
    // aligned; a short buffered read is read again until it returns 0.
    if (n < CHUNK && direct) break;
  }
  return { sha256: hash.digest('hex'), size };
}
serveTasks(({ file, direct }, task) => {
  const base = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW || 0);
  let result = null, mode = 'buffered';
  if (direct && fs.constants.O_DIRECT) {
    let fd;
    try {
      fd = fs.openSync(file, base | fs.constants.O_DIRECT);
    } catch (e) {
      if (e.code !== 'EINVAL') throw e;
    }
    if (fd !== undefined) {
      try { result = hashFd(fd, task, true); } finally { fs.closeSync(fd); }
      if (result) mode = 'direct';
    }
  }
  if (result === null) {
    const fd = fs.openSync(file, base);
    try { result = hashFd(fd, task, false); } finally { fs.closeSync(fd); }
  }
  return result === CANCELLED ? result : { sha256: result.sha256, size: result.size, mode };
});
`;

export type ReadBackMode = 'direct' | 'buffered';

export interface ReadBackResult {
  sha256: string;
  size: number;
  mode: ReadBackMode;
}

export class ReadBackPool {
  private readonly pool: WorkerPool<string, ReadBackResult>;

  constructor(
    readonly size = coreCount(),
    private readonly direct = true,
  ) {
    this.pool = new WorkerPool({
      source: WORKER_SOURCE,
      size,
      name: 'Read-back pool',
      message: (file) => ({ file, direct: this.direct }),
      result: (m) => ({ sha256: m.sha256 as string, size: m.size as number, mode: m.mode as ReadBackMode }),
    });
  }

  read(
    file: string,
    opts: { signal?: AbortSignal | undefined; onBytes?: ((n: number) => void) | undefined } = {},
  ): Promise<ReadBackResult> {
    return this.pool.run(file, opts);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
