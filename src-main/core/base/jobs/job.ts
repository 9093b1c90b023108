import { toErrorValue, type ErrorValue } from '../errors/index.js';
import { ItemList } from './items.js';
import { ProgressTracker, type ProgressSnapshot } from './progress.js';

/**
 * A long operation (plan, fetch, verify, export, import, serve) run the same way by the CLI and
 * the app: it owns an AbortController whose signal reaches every stream and request, a progress
 * tracker, and a stream of events with sequence numbers so a reloaded UI can catch up.
 */

export type JobKind =
  'plan' | 'fetch' | 'verify' | 'export' | 'import' | 'serve' | 'push' | 'gc' | 'deploy' | 'venv';
export type JobState = 'running' | 'done' | 'failed' | 'cancelled';

export type JobEvent =
  | { type: 'progress'; jobId: string; seq: number; progress: ProgressSnapshot }
  /** Per-artifact news: a download finished, a file verified, a blob was damaged… */
  | { type: 'item'; jobId: string; seq: number; item: Record<string, unknown> }
  | { type: 'log'; jobId: string; seq: number; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'done'; jobId: string; seq: number; result: unknown }
  | { type: 'failed'; jobId: string; seq: number; error: ErrorValue }
  | { type: 'cancelled'; jobId: string; seq: number };

type DistributiveOmit<T, K extends keyof any> = T extends unknown ? Omit<T, K> : never;
export type JobEventInput = DistributiveOmit<JobEvent, 'jobId' | 'seq'>;

export interface JobContext {
  signal: AbortSignal;
  progress: ProgressTracker;
  /** Emit a throttled progress event (at most ~10/s; phase changes always go out). */
  report(): void;
  item(item: Record<string, unknown>): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

const THROTTLE_MS = 100;

export class Job<T = unknown> {
  readonly id: string;
  readonly kind: JobKind;
  state: JobState = 'running';
  result?: T;
  error?: ErrorValue;
  private seq = 0;
  private readonly controller = new AbortController();
  readonly progress = new ProgressTracker();
  private readonly listeners = new Set<(e: JobEvent) => void>();
  /** Item events are kept (bounded, latest per id) so a re-attached UI can redraw e.g. the whole integrity map. */
  private readonly itemList = new ItemList();
  private lastReport = 0;
  private lastPhase = '';
  readonly done: Promise<T>;

  constructor(kind: JobKind, run: (ctx: JobContext) => Promise<T>, id?: string) {
    this.id = id ?? `${kind}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    this.kind = kind;
    const ctx: JobContext = {
      signal: this.controller.signal,
      progress: this.progress,
      report: () => this.report(false),
      item: (item) => {
        this.itemList.add(item);
        this.emit({ type: 'item', item });
      },
      log: (level, message) => this.emit({ type: 'log', level, message }),
    };
    this.done = (async () => {
      // Let the caller subscribe before the first event.
      await Promise.resolve();
      try {
        const result = await run(ctx);
        this.report(true);
        this.result = result;
        this.state = 'done';
        this.emit({ type: 'done', result });
        return result;
      } catch (err) {
        const ev = toErrorValue(err);
        this.report(true);
        if (ev.code === 'CANCELLED' || this.controller.signal.aborted) {
          this.state = 'cancelled';
          this.error = { code: 'CANCELLED', message: 'Cancelled; run it again to resume.' };
          this.emit({ type: 'cancelled' });
        } else {
          this.state = 'failed';
          this.error = ev;
          this.emit({ type: 'failed', error: ev });
        }
        throw err;
      }
    })();
    // A job's failure is reported through events; nobody has to await it.
    this.done.catch(() => undefined);
  }

  get items(): Array<Record<string, unknown>> {
    return this.itemList.toArray();
  }

  cancel(): void {
    this.controller.abort();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  subscribe(fn: (e: JobEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  snapshot(): {
    id: string;
    kind: JobKind;
    state: JobState;
    seq: number;
    progress: ProgressSnapshot;
    items: Array<Record<string, unknown>>;
    result?: unknown;
    error?: ErrorValue;
  } {
    return {
      id: this.id,
      kind: this.kind,
      state: this.state,
      seq: this.seq,
      progress: this.progress.snapshot(),
      items: this.itemList.toArray(),
      ...(this.result !== undefined ? { result: this.result } : {}),
      ...(this.error ? { error: this.error } : {}),
    };
  }

  private report(force: boolean): void {
    const now = Date.now();
    const phaseChanged = this.progress.phase !== this.lastPhase;
    if (!force && !phaseChanged && now - this.lastReport < THROTTLE_MS) return;
    this.lastReport = now;
    this.lastPhase = this.progress.phase;
    this.emit({ type: 'progress', progress: this.progress.snapshot() });
  }

  private emit(e: JobEventInput): void {
    const ev = { ...e, jobId: this.id, seq: ++this.seq } as JobEvent;
    for (const fn of this.listeners) {
      try {
        fn(ev);
      } catch {
        // A broken listener must not break the job.
      }
    }
  }
}

/** Keeps running and finished jobs so the UI can re-attach after a reload. */
export class JobRegistry {
  private readonly jobs = new Map<string, Job<any>>();
  private readonly listeners = new Set<(e: JobEvent) => void>();

  start<T>(kind: JobKind, run: (ctx: JobContext) => Promise<T>): Job<T> {
    const job = new Job<T>(kind, run);
    this.jobs.set(job.id, job);
    job.subscribe((e) => {
      for (const fn of this.listeners) fn(e);
    });
    return job;
  }

  get(id: string): Job<any> | undefined {
    return this.jobs.get(id);
  }

  list(): Job<any>[] {
    return [...this.jobs.values()];
  }

  onEvent(fn: (e: JobEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
