import { randomBytes } from 'node:crypto';
import { getEventListeners, setMaxListeners } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job } from '../../../src-main/core/base/jobs/job.js';
import { fetchBundle, type FetchOptions } from '../../../src-main/core/fetch/fetch-bundle.js';
import { FileHost, makePlan } from '../../helpers/world/index.js';
import { FAST } from './helpers.js';

/**
 * Every request, retry pause and resumed partial of a fetch waits on the job's one AbortSignal.
 * A listener per waiter on that signal made Node print "MaxListenersExceededWarning: 11 abort
 * listeners" into the fetch's output (under Node 20) as soon as more than ten were in flight; the
 * signal must carry at most one listener for the download layer and end with none of ours.
 * Node 22 no longer limits an AbortSignal's listeners, so the tests set Node 20's limit (10) on
 * the job's signal: what a Node 20 user saw, a warning here shows on any Node.
 */
describe('the job signal during a fetch', () => {
  let host: FileHost;
  let tmp: string;
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fetch-net-abort-'));
    host = await FileHost.start();
    process.on('warning', onWarning);
  });
  afterAll(async () => {
    process.off('warning', onWarning);
    await host?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Runs a fetch as a job, sampling the listeners on its signal until it settles. */
  async function watchedFetch(
    opts: Omit<FetchOptions, 'out'>,
    files: Array<{ url: string; checksum: string }>,
  ) {
    const plan = makePlan({
      files: files.map((f, i) => ({ key: `f${i}`, url: f.url, checksum: f.checksum })),
    });
    let signal!: AbortSignal;
    let initial = -1;
    let most = 0;
    const job = new Job('fetch', (ctx) => {
      signal = ctx.signal;
      setMaxListeners(10, signal);
      initial = getEventListeners(signal, 'abort').length;
      return fetchBundle(
        plan,
        {
          out: fs.mkdtempSync(path.join(tmp, 'b-')),
          signer: null,
          env: { HOME: '/nonexistent' },
          http: FAST,
          ...opts,
        },
        ctx,
      );
    });
    const sampler = setInterval(() => {
      if (signal) most = Math.max(most, getEventListeners(signal, 'abort').length);
    }, 1);
    const outcome = await job.done.then(
      (r) => ({ ok: true as const, r }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    clearInterval(sampler);
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));
    return { job, outcome, signal, initial, most, after: getEventListeners(signal, 'abort').length };
  }

  it('50 files, 16 at a time, some retried: no warning, at most one listener, none left', async () => {
    warnings.length = 0;
    const files = Array.from({ length: 50 }, (_, i) =>
      host.add(
        `/many/f${i}`,
        randomBytes(30_000 + i * 4000),
        // Every fifth file fails once: its download sleeps on the signal before the retry.
        i % 5 === 0
          ? [{ kind: 'status', status: 503, times: 1 }]
          : [{ kind: 'slow', bytesPerSecond: 2_000_000 }],
      ),
    );
    const r = await watchedFetch({ concurrency: 16 }, files);
    expect(r.outcome.ok, String(!r.outcome.ok && r.outcome.e)).toBe(true);
    if (r.outcome.ok) expect(r.outcome.r.counts.fetched).toBe(50);
    expect(warnings.map(String)).toEqual([]);
    expect(r.after).toBe(r.initial);
    expect(r.most).toBeLessThanOrEqual(r.initial + 1);
  });

  it('a cancel still stops every download at once, and leaves no listener behind', async () => {
    warnings.length = 0;
    const files = Array.from({ length: 30 }, (_, i) =>
      host.add(`/slow/f${i}`, randomBytes(400_000), [{ kind: 'slow', bytesPerSecond: 50_000 }]),
    );
    const plan = makePlan({
      files: files.map((f, i) => ({ key: `s${i}`, url: f.url, checksum: f.checksum })),
    });
    let signal!: AbortSignal;
    let initial = -1;
    const job = new Job('fetch', (ctx) => {
      signal = ctx.signal;
      setMaxListeners(10, signal);
      initial = getEventListeners(signal, 'abort').length;
      return fetchBundle(
        plan,
        {
          out: fs.mkdtempSync(path.join(tmp, 'c-')),
          signer: null,
          env: { HOME: '/nonexistent' },
          http: FAST,
          concurrency: 20,
        },
        ctx,
      );
    });
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    job.cancel();
    await expect(job.done).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(Date.now() - t0).toBeLessThan(2000);
    await new Promise((r) => setImmediate(r));
    expect(getEventListeners(signal, 'abort').length).toBeLessThanOrEqual(initial);
    expect(warnings.map(String)).toEqual([]);
  });
});
