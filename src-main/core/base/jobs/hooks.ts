import type { JobContext } from './job.js';
import { ProgressTracker } from './progress.js';

/**
 * How an operation that runs as a job (export, import) is told where its news goes: the app
 * passes its JobContext, the CLI a signal, a tracker and callbacks. Both are heard when both are
 * given, so a test can watch the items of a job too.
 */
export interface JobHookOptions<Item> {
  job?: JobContext;
  signal?: AbortSignal;
  progress?: ProgressTracker;
  onProgress?: () => void;
  onItem?: (item: Item) => void;
  onLog?: (level: 'info' | 'warn', message: string) => void;
}

/** The one interface the operation itself speaks, whichever of the two it was given. */
export interface JobHooks<Item> {
  signal: AbortSignal | undefined;
  progress: ProgressTracker;
  report(): void;
  item(i: Item): void;
  log(level: 'info' | 'warn', message: string): void;
}

export function jobHooks<Item extends object>(o: JobHookOptions<Item>): JobHooks<Item> {
  const j = o.job;
  return {
    signal: j?.signal ?? o.signal,
    progress: j?.progress ?? o.progress ?? new ProgressTracker(),
    report: () => {
      j?.report();
      o.onProgress?.();
    },
    item: (i) => {
      // The job keeps a copy; items are plain records (ipc/contract's schemas check them).
      j?.item({ ...i } as Record<string, unknown>);
      o.onItem?.(i);
    },
    log: (l, m) => {
      j?.log(l, m);
      o.onLog?.(l, m);
    },
  };
}
