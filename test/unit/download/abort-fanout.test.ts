import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { childSignal, onAbort } from '../../../src-main/core/fetch/download/abort-fanout.js';

describe('abort fan-out', () => {
  it('many waiters share one listener, which goes with the last release', () => {
    const ac = new AbortController();
    const releases = Array.from({ length: 40 }, () => onAbort(ac.signal, () => undefined));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    for (const r of releases.slice(1)) r();
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    releases[0]();
    releases[0](); // a second release is harmless
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('an abort reaches every waiter still registered, and no released one', () => {
    const ac = new AbortController();
    const called: number[] = [];
    const releases = [0, 1, 2, 3].map((i) => onAbort(ac.signal, () => called.push(i)));
    releases[2]();
    ac.abort();
    expect(called).toEqual([0, 1, 3]);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('a child signal aborts with its parent and its reason', () => {
    const ac = new AbortController();
    const a = childSignal(ac.signal);
    const b = childSignal(ac.signal);
    b.release();
    const reason = new Error('stop');
    ac.abort(reason);
    expect(a.signal?.aborted).toBe(true);
    expect(a.signal?.reason).toBe(reason);
    expect(b.signal?.aborted).toBe(false);
    expect(childSignal(ac.signal).signal?.aborted).toBe(true);
    expect(childSignal(undefined).signal).toBeUndefined();
  });

  it('a waiter on an already aborted signal is called once, soon', async () => {
    const ac = new AbortController();
    ac.abort();
    let n = 0;
    onAbort(ac.signal, () => n++);
    await Promise.resolve();
    expect(n).toBe(1);
  });
});
