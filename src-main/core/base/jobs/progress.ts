/**
 * Progress of one long operation: bytes and items done against totals, speed over a sliding
 * window (so a stall shows at once rather than being averaged away) and ETA = bytes left ÷ speed.
 */

export interface ProgressSnapshot {
  phase: string;
  bytesDone: number;
  bytesTotal: number | null;
  itemsDone: number;
  itemsTotal: number | null;
  itemsFailed: number;
  /** Bytes per second over the last few seconds. */
  speed: number;
  /** Seconds left, or null when unknown. */
  eta: number | null;
  /** The artifact being worked on now, for display. */
  current?: string;
}

const WINDOW_MS = 5_000;

export class ProgressTracker {
  phase = 'starting';
  bytesDone = 0;
  bytesTotal: number | null = null;
  itemsDone = 0;
  itemsTotal: number | null = null;
  itemsFailed = 0;
  /** Cleared (undefined) between artifacts; the snapshot then leaves it out. */
  current: string | undefined;
  private samples: Array<[number, number]> = [];

  constructor(private readonly now: () => number = Date.now) {}

  setPhase(phase: string): void {
    this.phase = phase;
    this.samples = [];
  }

  addBytes(n: number): void {
    this.bytesDone += n;
    this.sample();
  }

  private sample(): void {
    const t = this.now();
    const last = this.samples[this.samples.length - 1];
    if (last && t - last[0] < 100) last[1] = this.bytesDone;
    else this.samples.push([t, this.bytesDone]);
    while (this.samples.length > 2 && t - this.samples[0][0] > WINDOW_MS) this.samples.shift();
  }

  speed(): number {
    const t = this.now();
    if (this.samples.length === 0) return 0;
    const [t0, b0] = this.samples[0];
    const dt = Math.max(t - t0, 1) / 1000;
    if (t - t0 < 200) return 0;
    return (this.bytesDone - b0) / dt;
  }

  snapshot(): ProgressSnapshot {
    const speed = this.speed();
    const left = this.bytesTotal === null ? null : Math.max(this.bytesTotal - this.bytesDone, 0);
    const eta = left === null || speed <= 0 ? null : left / speed;
    return {
      phase: this.phase,
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      itemsDone: this.itemsDone,
      itemsTotal: this.itemsTotal,
      itemsFailed: this.itemsFailed,
      speed,
      eta,
      ...(this.current ? { current: this.current } : {}),
    };
  }
}

export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** The byte formatter lives in base/format so the renderer can share it; re-exported for core's callers. */
export { formatBytes } from '../format/bytes.js';
