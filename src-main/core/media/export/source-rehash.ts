import { createHash, type Hash } from 'node:crypto';
import { FerryError } from '../../base/errors/index.js';
import { hashFile } from '../../base/fs/atomic.js';
import { resolveInside } from '../../bundle/paths.js';

/**
 * Export's check that the source bundle is the one its manifest names, shared by the folder
 * export (a split file's parts) and the archive (every file cut across tar parts). Each file is
 * hashed as its bytes stream onto the media, so the common case costs no second read; the running
 * hash is forked per attempt, so a retried write does not hash bytes twice; a file this run did
 * not see whole and in order (a resumed export reused some of its bytes from the media) is read
 * again from the source at the end. The verdict is one INTEGRITY error naming the file.
 */

export interface SourceFile {
  /** Bundle-relative path (the manifest's). */
  path: string;
  size: number;
  sha256: string;
}

export class SourceRehash {
  /** path → the hash of bytes [0, next) as written, or null once the run lost the file's thread. */
  private readonly running = new Map<string, { hash: Hash; next: number } | null>();

  constructor(private readonly bundleDir: string) {}

  /**
   * One attempt at writing bytes from `from` of a file: a hash to feed those bytes to, or
   * undefined when this run cannot follow the file from byte 0 up to `from`.
   */
  begin(path: string, from: number): Hash | undefined {
    const r = this.running.get(path);
    if (r === undefined) return from === 0 ? createHash('sha256') : undefined;
    return r && r.next === from ? r.hash.copy() : undefined;
  }

  /** The attempt that reached the media: its hash now covers the file up to `end`. */
  commit(path: string, attempt: Hash | undefined, end: number): void {
    this.running.set(path, attempt ? { hash: attempt, next: end } : null);
  }

  /** Some of the file's bytes will not pass through this run (reused from the media). */
  skip(path: string): void {
    this.running.set(path, null);
  }

  /** The file read afresh from the source bundle matches its manifest entry. */
  async sourceMatches(f: SourceFile, signal?: AbortSignal): Promise<boolean> {
    const s = await hashFile(resolveInside(this.bundleDir, f.path), signal);
    return s.sha256 === f.sha256 && s.size === f.size;
  }

  /** Every file's bytes, as written or read again, are the manifest's; else INTEGRITY. */
  async check(files: Iterable<SourceFile>, signal?: AbortSignal): Promise<void> {
    for (const f of files) {
      const r = this.running.get(f.path);
      const ok =
        r && r.next === f.size ? r.hash.digest('hex') === f.sha256 : await this.sourceMatches(f, signal);
      if (!ok) throw sourceDamaged(f.path);
    }
  }
}

export function sourceDamaged(path: string): FerryError {
  return new FerryError('INTEGRITY', `The source bundle's ${path} does not match its manifest.`, {
    artifact: path,
    hint: 'The bundle on this machine is damaged. Run `ferry verify` on it and fetch again, then export.',
  });
}
