import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** fsync a directory so a rename inside it survives a power cut (a no-op where the OS refuses, e.g. Windows). */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await fs.open(dir, 'r');
    await fh.sync();
  } catch {
    // Directories cannot be opened for sync on Windows; rename is still atomic there.
  } finally {
    await fh?.close();
  }
}

export async function fsyncFile(file: string): Promise<void> {
  const fh = await fs.open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export function tempName(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Write bytes so the target is either the old content or the complete new content, never a
 * half-written file: temp file in the same folder, fsync, rename, fsync the folder.
 */
export async function writeFileAtomic(target: string, data: Buffer | string, mode?: number): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = tempName(target);
  const fh = await fs.open(tmp, 'wx', mode ?? 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(target));
}

export interface HashResult {
  sha256: string;
  size: number;
}

/** A pass-through stream that hashes what flows through it. */
export class HashingStream extends Transform {
  private readonly hash = createHash('sha256');
  size = 0;
  constructor(private readonly onBytes?: (n: number) => void) {
    super();
  }
  override _transform(
    chunk: Buffer,
    _enc: BufferEncoding,
    cb: (err?: Error | null, data?: Buffer) => void,
  ): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.onBytes?.(chunk.length);
    cb(null, chunk);
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Hash a file in this thread (small files; large ones go through the worker pool). */
export async function hashFile(file: string, signal?: AbortSignal): Promise<HashResult> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20, signal })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Copy src to dest (temp + fsync + rename), hashing on the way. */
export async function copyFileHashed(
  src: string,
  dest: string,
  opts: { signal?: AbortSignal | undefined; onBytes?: ((n: number) => void) | undefined } = {},
): Promise<HashResult> {
  await fs.mkdir(path.dirname(dest), { recursive: true });
  const tmp = tempName(dest);
  const h = new HashingStream(opts.onBytes);
  try {
    const out = createWriteStream(tmp, { flags: 'wx' });
    await pipeline(createReadStream(src, { highWaterMark: 1 << 20 }), h, out, { signal: opts.signal });
    await fsyncFile(tmp);
    await fs.rename(tmp, dest);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(dest));
  return { sha256: h.digest(), size: h.size };
}
