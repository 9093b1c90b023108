import { beforeEach, describe, expect, it } from 'vitest';
import { applyJobEvent } from '../../../src-renderer/src/jobs.js';
import { progress, resetApp } from './state.js';

/** How the renderer folds numbered job events into a job view (split from steps.test.tsx). */

beforeEach(resetApp);

describe('job events in the renderer', () => {
  const ev = (seq: number, type = 'progress') =>
    ({ type, jobId: 'j', seq, progress: progress({ bytesDone: seq }) }) as never;

  it('ignores stale and duplicate events, and asks to re-attach after a gap', () => {
    let r = applyJobEvent(undefined, 'fetch', ev(1));
    expect(r).toMatchObject({ gap: false, view: { seq: 1 } });
    r = applyJobEvent(r.view, 'fetch', ev(1));
    expect(r.view.seq).toBe(1);
    r = applyJobEvent(r.view, 'fetch', ev(4));
    expect(r.gap).toBe(true);
    expect(r.view.progress.bytesDone).toBe(4);
    const stale = applyJobEvent(r.view, 'fetch', ev(3));
    expect(stale.view.progress.bytesDone).toBe(4);
  });

  it('ends in the state of the terminal event', () => {
    const a = applyJobEvent(undefined, 'verify', {
      type: 'failed',
      jobId: 'j',
      seq: 1,
      error: { code: 'SIGNATURE', message: 'unsigned' },
    });
    expect(a.view).toMatchObject({ state: 'failed', error: { code: 'SIGNATURE' } });
    const c = applyJobEvent(undefined, 'verify', { type: 'cancelled', jobId: 'j', seq: 1 });
    expect(c.view.state).toBe('cancelled');
  });
});
