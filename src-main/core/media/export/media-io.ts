import fs from 'node:fs/promises';
import path from 'node:path';
import { FerryError, toErrorValue } from '../../base/errors/index.js';
import { fsyncDir, tempName } from '../../base/fs/atomic.js';

/**
 * Writing to removable media: chunked copies with fsync, the low-level write injectable so
 * tests can pull the drive or fail a sector at an exact byte, and errno codes turned into
 * messages a technician can act on.
 */
export interface MediaIo {
  write(fh: fs.FileHandle, buf: Buffer, length: number, position: number): Promise<void>;
}

export const realIo: MediaIo = {
  async write(fh, buf, length, position) {
    let off = 0;
    while (off < length) {
      const { bytesWritten } = await fh.write(buf, off, length - off, position + off);
      off += bytesWritten;
    }
  },
};

const CHUNK = 4 << 20;

/**
 * Copy `size` bytes of `src` from `offset` into a temp file beside `dest`, fsync it and rename it
 * into place: a file at `dest` is always complete. Reads and writes overlap (read the next chunk
 * while the previous one is written) since a stick writes slower than a disk reads.
 */
export async function copyRange(
  src: string,
  offset: number,
  size: number,
  dest: string,
  opts: {
    io?: MediaIo | undefined;
    signal?: AbortSignal | undefined;
    onBytes?: ((n: number) => void) | undefined;
    /** Sees the source bytes in order (e.g. to hash a whole file across its parts). */
    onData?: ((chunk: Buffer) => void) | undefined;
    tempDir?: string;
  } = {},
): Promise<void> {
  const io = opts.io ?? realIo;
  await fs.mkdir(path.dirname(dest), { recursive: true });
  const tmp = opts.tempDir ? path.join(opts.tempDir, path.basename(tempName(dest))) : tempName(dest);
  const inp = await fs.open(src, 'r');
  let out: fs.FileHandle | undefined;
  let pendingWrite: Promise<void> = Promise.resolve();
  try {
    out = await fs.open(tmp, 'wx', 0o644);
    const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
    let done = 0;
    let i = 0;
    while (done < size) {
      if (opts.signal?.aborted) throw new FerryError('CANCELLED', 'Cancelled.');
      const want = Math.min(CHUNK, size - done);
      const buf = bufs[i++ % 2];
      const { bytesRead } = await inp.read(buf, 0, want, offset + done);
      if (bytesRead === 0) {
        throw new FerryError('INTEGRITY', `${src} ended after ${done} of ${size} bytes while copying.`, {
          artifact: src,
          hint: 'The source bundle is damaged. Run `ferry verify` on it.',
        });
      }
      opts.onData?.(buf.subarray(0, bytesRead));
      // The previous write must finish before its buffer is reused two rounds later.
      await pendingWrite;
      const pos = done;
      const fh = out;
      pendingWrite = io.write(fh, buf, bytesRead, pos).then(() => opts.onBytes?.(bytesRead));
      // Its failure is handled when awaited; mark it handled now so it never counts as unhandled.
      pendingWrite.catch(() => undefined);
      done += bytesRead;
    }
    await pendingWrite;
    await out.sync();
    await out.close();
    out = undefined;
    await fs.rename(tmp, dest);
    await fsyncDir(path.dirname(dest));
  } catch (err) {
    await pendingWrite.catch(() => undefined);
    await out?.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  } finally {
    await inp.close();
  }
}

const TRANSIENT = new Set(['EIO', 'EAGAIN', 'EBUSY', 'EINTR', 'ETIMEDOUT']);
const GONE = new Set(['ENODEV', 'ENXIO', 'ESHUTDOWN', 'ENOTCONN']);

/** Whether the folder on the media is still reachable (a pulled stick makes it vanish or fail). */
async function stillThere(dir: string): Promise<boolean> {
  try {
    await fs.access(dir);
    await fs.readdir(dir);
    return true;
  } catch {
    return false;
  }
}

/**
 * Run a media operation, retrying transient failures (a USB hiccup) with backoff. A pulled drive,
 * a full drive or a read-only drive is not retried: it becomes a FerryError that says the export
 * is resumable.
 */
export async function withMediaRetry<T>(
  what: string,
  root: string,
  fn: () => Promise<T>,
  opts: {
    retries?: number | undefined;
    delayMs?: number | undefined;
    signal?: AbortSignal | undefined;
    onRetry?: ((err: unknown, attempt: number) => void) | undefined;
  } = {},
): Promise<T> {
  const retries = opts.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof FerryError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const resume = 'Run the same `ferry export` again: files already verified on the drive are kept.';
      if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') {
        throw new FerryError(
          'NO_SPACE',
          code === 'EFBIG'
            ? `The drive refused ${what}: the file is too large for its file system.`
            : `The drive is full while writing ${what}.`,
          {
            artifact: what,
            hint:
              code === 'EFBIG'
                ? 'Reformat the drive as exFAT, or let Ferry split large files (the default on FAT32).'
                : `Free space on the drive or use a larger one. ${resume}`,
            cause: err,
          },
        );
      }
      if (code === 'EROFS') {
        throw new FerryError('IO', `The drive is read-only; cannot write ${what}.`, {
          artifact: what,
          hint: 'Check the write-protect switch of the drive, then run the same command again.',
          cause: err,
        });
      }
      if (GONE.has(code) || !(await stillThere(root))) {
        throw new FerryError(
          'MEDIA_REMOVED',
          `The drive went away while writing ${what} (${code || 'gone'}).`,
          {
            artifact: what,
            hint: `Reconnect the drive. ${resume}`,
            cause: err,
          },
        );
      }
      if (TRANSIENT.has(code) && attempt < retries) {
        opts.onRetry?.(err, attempt + 1);
        await new Promise((r) => setTimeout(r, (opts.delayMs ?? 500) * 2 ** attempt));
        if (opts.signal?.aborted) throw new FerryError('CANCELLED', 'Cancelled.');
        continue;
      }
      const ev = toErrorValue(err);
      throw new FerryError(ev.code === 'INTERNAL' ? 'IO' : ev.code, `Writing ${what} failed: ${ev.message}`, {
        artifact: what,
        hint: `The drive may be failing. ${resume}`,
        cause: err,
      });
    }
  }
}
