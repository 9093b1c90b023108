import type { JobContext } from '../base/jobs/job.js';
import type { FetchItemEvent } from './options.js';
import { itemKind, type Want } from './wants.js';

/** Per-artifact progress events: often enough for a moving bar, rarely enough to keep job.items small. */
export const ITEM_PROGRESS_MS = 1000;

/**
 * What an unfinished artifact still needs, for a full disk's message: its size once a response
 * or a blob list said it, and where its partial bytes are.
 */
export interface ArtifactSize {
  total?: number;
  have: number;
  partial?: string;
}

/**
 * One artifact's meter: its own bar (bytes on disk of its total, sent as 'started' items at most
 * once a second) and its share of the job's byte total, which responses and blob lists make known
 * as the download goes.
 */
export class ArtifactMeter {
  /** Bytes this run downloaded for the artifact. */
  bytes = 0;
  readonly size: ArtifactSize = { have: 0 };
  private have = 0;
  private total: number | undefined;
  private lastItem = 0;
  /**
   * What this artifact adds to the overall total; replaced (not added to) when a retry's
   * response says it again, so a dropped connection does not inflate the total.
   */
  private counted = 0;

  constructor(
    private readonly w: Want,
    private readonly ctx: JobContext,
    /** The job's byte counter (every artifact's downloads together). */
    private readonly onBytes: (n: number) => void,
    /** Blobs already in the job's total: a layer two images share is counted once. */
    private readonly countedBlobs: Set<string>,
  ) {}

  private started(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastItem < ITEM_PROGRESS_MS) return;
    this.lastItem = now;
    const { have, total } = this;
    this.ctx.item({
      id: this.w.id,
      kind: itemKind(this.w),
      name: this.w.name,
      status: 'started',
      ...(force && have === 0 && total === undefined ? {} : { bytes: have }),
      ...(total !== undefined ? { total } : {}),
    } satisfies FetchItemEvent);
  }

  /** The transfer slot is ours: the artifact shows as current and gets its first item. */
  begin(): void {
    this.ctx.progress.current = this.w.name;
    this.started(true);
  }

  /** Bytes arrived. */
  track = (n: number): void => {
    this.bytes += n;
    this.have += n;
    this.size.have = this.have;
    this.onBytes(n);
    this.started(false);
  };

  /** A response said the size (undefined: it did not), with `already` bytes resumed on disk. */
  grow = (n: number | undefined, already: number): void => {
    const p = this.ctx.progress;
    this.have = already;
    this.size.have = already;
    if (n === undefined) return;
    this.total = n;
    this.size.total = n;
    const adds = n - already + this.bytes;
    p.bytesTotal = (p.bytesTotal ?? 0) + adds - this.counted;
    this.counted = adds;
    this.started(true);
    this.ctx.report();
  };

  /** An image's blob list is known. */
  blobsPlanned = (blobs: ReadonlyArray<{ digest: string; size: number }>): void => {
    const p = this.ctx.progress;
    // Configs are read before the blob list exists: their bytes are part of the image too.
    const early = this.total === undefined ? this.bytes : 0;
    this.total = (this.total ?? 0) + early + blobs.reduce((a, b) => a + b.size, 0);
    this.size.total = this.total;
    p.bytesTotal = (p.bytesTotal ?? 0) + early;
    for (const b of blobs) {
      if (this.countedBlobs.has(b.digest)) continue;
      this.countedBlobs.add(b.digest);
      p.bytesTotal = (p.bytesTotal ?? 0) + b.size;
    }
    this.started(true);
    this.ctx.report();
  };

  /** A blob resumed with bytes already on disk. */
  resumed = (_digest: string, already: number): void => {
    const p = this.ctx.progress;
    this.have += already;
    p.bytesTotal = Math.max(0, (p.bytesTotal ?? 0) - already);
  };
}
