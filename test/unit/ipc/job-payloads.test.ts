import { describe, expect, it } from 'vitest';
import { JobKindSchema } from '../../../src-main/ipc/contract.js';
import { JOB_PAYLOADS, payloadProblem } from '../../../src-main/ipc/job-payloads.js';

describe('job payloads per kind', () => {
  it('every job kind has an item and a result schema', () => {
    expect(Object.keys(JOB_PAYLOADS).sort()).toEqual([...JobKindSchema.options].sort());
  });

  it('names what breaks the contract, and passes what keeps it', () => {
    expect(
      payloadProblem('fetch', 'item', { id: 'file:x', kind: 'file', name: 'x', status: 'started', bytes: 1 }),
    ).toBeUndefined();
    expect(payloadProblem('fetch', 'item', { id: 'file:x', kind: 'file', status: 'started' })).toMatch(
      /^fetch job item: name:/,
    );
    // A fetch item for a kind the app cannot draw is refused, not passed on.
    expect(payloadProblem('fetch', 'item', { id: 'd', kind: 'deb', name: 'x', status: 'done' })).toMatch(
      /kind/,
    );
    expect(payloadProblem('plan', 'item', { anything: 1 })).toMatch(/^plan job item/);
    expect(payloadProblem('serve', 'result', { requests: 3, bytesServed: 10 })).toBeUndefined();
    expect(payloadProblem('gc', 'result', { removedBlobs: 1 })).toMatch(/^gc job result: removedBytes/);
  });
});
