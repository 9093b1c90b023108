import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/**
 * Moves a response body into a file at a given offset while a hasher sees every byte, with as
 * little work per chunk as the event loop allows: on a fast link the main thread's per-chunk
 * overhead, not SHA-256, is what limits a download (measured: an async iterator plus a
 * WriteStream and a promise per chunk cost about twice the CPU that curl spends on the same
 * gigabyte). So chunks arrive as 'data' events, go to the hasher as they are, and are written
 * in ~1 MiB batches with one positioned writev each, at most two batches in flight; the body
 * is paused while the disk or the hasher is behind, which lets TCP slow the sender.
 *
 * What reaches the file is always a prefix of the body: when the body fails (a dropped
 * connection, a cancel) the batches already received are written before the error is passed
 * on, so a resume continues from every byte that arrived; when a write fails (a full disk) the
 * file is cut back to the bytes before the first failed batch.
 */

export interface PumpHasher {
  update(chunk: Buffer): void;
  /** Bytes handed over and not yet hashed (0 for an in-thread hasher). */
  readonly backlog: number;
  /** Resolves once the hasher has caught up enough. */
  drain(): Promise<void>;
}

export interface PumpOptions {
  /** File offset of the first body byte. */
  at: number;
  onBytes?: (n: number) => void;
  /** Bytes the hasher may lag behind before the body is paused. */
  maxHashBacklog?: number;
  /**
   * Start an fdatasync each time this many more bytes were written (one at a time, never
   * waited on by the body). The caller fsyncs before it commits the file anyway; flushing while
   * the bytes arrive overlaps the disk with the network, so that final fsync finds little left
   * (measured: a lone 0.6 s fsync of 1 GiB at the end was a third of the download's time).
   */
  syncEvery?: number;
}

const BATCH_BYTES = 1 << 20;
/** Small chunks from a slow link: keep each writev well under IOV_MAX (1024). */
const BATCH_CHUNKS = 256;
const MAX_WRITES_IN_FLIGHT = 2;

/** Resolves with the number of body bytes written; rejects with the body's or the disk's error. */
export function pumpBodyToFile(
  body: Readable,
  fh: FileHandle,
  hasher: PumpHasher,
  opts: PumpOptions,
): Promise<number> {
  const maxBacklog = opts.maxHashBacklog ?? 4 << 20;
  return new Promise<number>((resolve, reject) => {
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let pos = opts.at;
    let received = 0;
    let writing = 0;
    let syncing = false;
    let sinceSync = 0;
    let waitingForHasher = false;
    let ended = false;
    let bodyError: unknown;
    let writeError: unknown;
    /** File offset of the earliest batch whose write failed. */
    let failedAt: number | undefined;
    let settled = false;

    const settle = () => {
      if (
        settled ||
        writing > 0 ||
        syncing ||
        !(ended || bodyError !== undefined || writeError !== undefined)
      )
        return;
      settled = true;
      body.off('data', onData);
      if (writeError !== undefined) {
        // Two batches write at once: when one fails (a full disk), the other may have landed
        // beyond it, leaving a hole of zeros that a resume would splice in. Cut the file back to
        // the bytes before the first failed batch, so it stays a prefix of the body.
        const err = writeError;
        void fh.truncate(failedAt ?? opts.at).then(
          () => reject(err),
          () => reject(err),
        );
      } else if (bodyError !== undefined) reject(bodyError);
      else resolve(received);
    };

    const maybeResume = () => {
      if (settled || ended || bodyError !== undefined || writeError !== undefined) return;
      if (writing < MAX_WRITES_IN_FLIGHT && !waitingForHasher && body.isPaused()) body.resume();
    };

    const flush = () => {
      if (batchBytes === 0 || writeError !== undefined) return;
      const bufs = batch;
      const at = pos;
      pos += batchBytes;
      batch = [];
      batchBytes = 0;
      writing++;
      void writeAll(fh, bufs, at).then(
        () => {
          writing--;
          sinceSync += bufs.reduce((a, b) => a + b.length, 0);
          if (opts.syncEvery && sinceSync >= opts.syncEvery && !syncing) {
            sinceSync = 0;
            syncing = true;
            // A failed early flush is not the caller's problem: its own fsync reports a bad disk.
            void fh
              .datasync()
              .catch(() => undefined)
              .then(() => {
                syncing = false;
                settle();
              });
          }
          maybeResume();
          settle();
        },
        (err: unknown) => {
          writing--;
          writeError ??= err;
          failedAt = Math.min(failedAt ?? at, at);
          body.destroy();
          settle();
        },
      );
    };

    const onData = (chunk: Buffer) => {
      hasher.update(chunk);
      received += chunk.length;
      opts.onBytes?.(chunk.length);
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= BATCH_BYTES || batch.length >= BATCH_CHUNKS) flush();
      if (writing >= MAX_WRITES_IN_FLIGHT) body.pause();
      if (hasher.backlog > maxBacklog && !waitingForHasher) {
        waitingForHasher = true;
        body.pause();
        void hasher.drain().then(() => {
          waitingForHasher = false;
          maybeResume();
        });
      }
    };

    body.on('data', onData);
    body.once('end', () => {
      ended = true;
      flush();
      settle();
    });
    body.once('error', (err) => {
      bodyError ??= err;
      flush();
      settle();
    });
    // A body destroyed without an error (e.g. by an abort signal undici handles) still ends the pump.
    body.once('close', () => {
      if (!ended && bodyError === undefined) {
        bodyError = Object.assign(new Error('response body closed early'), { code: 'UND_ERR_SOCKET' });
        flush();
        settle();
      }
    });
  });
}

/** writev may write less than asked (a full disk, a signal): continue until all of it is down. */
async function writeAll(fh: FileHandle, bufs: Buffer[], at: number): Promise<void> {
  let rest = bufs;
  let pos = at;
  while (rest.length) {
    const { bytesWritten } = await fh.writev(rest, pos);
    pos += bytesWritten;
    let skip = bytesWritten;
    const next: Buffer[] = [];
    for (const b of rest) {
      if (skip >= b.length) skip -= b.length;
      else {
        next.push(skip ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    if (bytesWritten === 0 && next.length) throw new Error('write made no progress');
    rest = next;
  }
}
