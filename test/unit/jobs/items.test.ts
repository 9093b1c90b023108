import { describe, expect, it } from 'vitest';
import { addItem, ItemList, MAX_LOOSE } from '../../../src-main/core/base/jobs/items.js';
import { Job } from '../../../src-main/core/base/jobs/job.js';

describe('job items', () => {
  it('keep one entry per type and id, merged in place, so a re-attach copies a bounded list', async () => {
    const job = new Job('fetch', async (ctx) => {
      for (let s = 0; s < 1000; s++)
        for (const id of ['a', 'b', 'c'])
          ctx.item({ type: 'artifact', id, bytes: s, ...(s === 0 ? { name: id.toUpperCase() } : {}) });
      ctx.item({ type: 'part', id: 'a', state: 'good' }); // another type: another thing
      return 1;
    });
    await job.done;
    expect(job.snapshot().items).toEqual([
      { type: 'artifact', id: 'a', bytes: 999, name: 'A' },
      { type: 'artifact', id: 'b', bytes: 999, name: 'B' },
      { type: 'artifact', id: 'c', bytes: 999, name: 'C' },
      { type: 'part', id: 'a', state: 'good' },
    ]);
  });

  it('keep only the newest items that have no id, the same in core and in the renderer', () => {
    const l = new ItemList();
    let arr: Array<Record<string, unknown>> = [];
    for (let i = 0; i < MAX_LOOSE + 10; i++) {
      l.add({ type: 'log', n: i });
      arr = addItem(arr, { type: 'log', n: i });
    }
    expect(l.size).toBe(MAX_LOOSE);
    expect(l.toArray()[0]).toEqual({ type: 'log', n: 10 });
    expect(arr).toEqual(l.toArray());
  });
});
