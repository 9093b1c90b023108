import { formatBytes, formatEta, type ProgressSnapshot } from '../core/base/jobs/progress.js';
import type { CommandContext } from './command.js';

export function printJson(ctx: CommandContext, value: unknown): void {
  ctx.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** One JSON object per line, for streaming progress with --json. */
export function printJsonLine(ctx: CommandContext, value: unknown): void {
  ctx.stdout.write(JSON.stringify(value) + '\n');
}

export function println(ctx: CommandContext, line = ''): void {
  ctx.stdout.write(line + '\n');
}

export function progressLine(p: ProgressSnapshot): string {
  const total = p.bytesTotal ? ` / ${formatBytes(p.bytesTotal)}` : '';
  const pct = p.bytesTotal ? ` ${((100 * p.bytesDone) / Math.max(p.bytesTotal, 1)).toFixed(1)}%` : '';
  const items = p.itemsTotal !== null ? ` · ${p.itemsDone}/${p.itemsTotal}` : '';
  const failed = p.itemsFailed ? ` · ${p.itemsFailed} failing` : '';
  return `${p.phase}${pct} ${formatBytes(p.bytesDone)}${total} · ${formatBytes(p.speed)}/s · ETA ${formatEta(p.eta)}${items}${failed}`;
}

/**
 * Draws a single self-overwriting progress line on a terminal (stderr, so stdout stays clean).
 * Without a terminal (a file, a CI log) it prints a plain line every few seconds instead, so a
 * long job is visibly alive (FERRY_PROGRESS_SECONDS, default 5). Silent with --json.
 */
export class TerminalProgress {
  private last = 0;
  private shown = false;
  constructor(private readonly ctx: CommandContext) {}

  get enabled(): boolean {
    return !this.ctx.json;
  }

  update(p: ProgressSnapshot, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!this.ctx.stderr.isTTY) {
      const every = 1000 * (Number(this.ctx.env.FERRY_PROGRESS_SECONDS) || 5);
      if (this.last === 0) this.last = now; // the first line after one interval, not at once
      if (now - this.last < every) return;
      this.last = now;
      this.ctx.stderr.write(progressLine(p) + '\n');
      return;
    }
    if (!force && now - this.last < 200) return;
    this.last = now;
    const cols = (this.ctx.stderr as { columns?: number }).columns ?? 100;
    this.ctx.stderr.write('\r\x1b[2K' + progressLine(p).slice(0, cols - 1));
    this.shown = true;
  }

  done(): void {
    if (this.shown) this.ctx.stderr.write('\r\x1b[2K');
    this.shown = false;
  }
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function strs(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  if (typeof v === 'string') return [v];
  return [];
}
