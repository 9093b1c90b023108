import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { staticDriveSource, type Drive } from '../../src-main/core/media/drives/index.js';
import type { JobEventT, JobSnapshot } from '../../src-main/ipc/contract.js';
import { payloadProblem } from '../../src-main/ipc/job-payloads.js';
import { createBackend, type AppBackend, type AppEvent } from '../../src-main/ipc/index.js';

/** A backend as the app builds it, with scripted dialogs, injected drives and recorded events. */
export function testBackend(opts: { drives?: Drive[]; tmp?: string } = {}) {
  const tmp = opts.tmp ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-ipc-'));
  const env = {
    ...process.env,
    HOME: tmp,
    FERRY_CONFIG_DIR: path.join(tmp, 'config'),
    FERRY_DATA_DIR: path.join(tmp, 'data'),
  };
  const answers = {
    folders: [] as Array<string | null>,
    files: [] as Array<string | null>,
    saves: [] as Array<string | null>,
  };
  const events: AppEvent[] = [];
  // Every item and result a job emits is parsed with its kind's schema (src-main/ipc/job-payloads.ts):
  // a payload the renderer could not read fails the test that produced it, at the latest at cleanup.
  const payloadProblems: string[] = [];
  const checkPayloads = (e: AppEvent) => {
    if (e.channel !== 'job') return;
    const p =
      e.event.type === 'item'
        ? payloadProblem(e.kind, 'item', e.event.item)
        : e.event.type === 'done'
          ? payloadProblem(e.kind, 'result', e.event.result)
          : undefined;
    if (p) payloadProblems.push(p);
  };
  const checkSnapshot = (s: JobSnapshot) => {
    // The kept list merges later items for the same thing into the first: still one valid item.
    for (const i of s.items) {
      const p = payloadProblem(s.kind, 'item', i);
      if (p) payloadProblems.push(`${p} (kept in jobs.get)`);
    }
    if (s.state === 'done') {
      const p = payloadProblem(s.kind, 'result', s.result);
      if (p) payloadProblems.push(`${p} (jobs.get)`);
    }
  };
  const assertPayloads = () => {
    if (payloadProblems.length)
      throw new Error(`Job payloads broke the contract:\n  ${[...new Set(payloadProblems)].join('\n  ')}`);
  };
  const opened: string[] = [];
  const copied: string[] = [];
  const backend: AppBackend = createBackend({
    version: '0.0.0-test',
    env,
    dialogs: {
      pickFolder: async () => answers.folders.shift() ?? null,
      pickFile: async () => answers.files.shift() ?? null,
      saveFile: async () => answers.saves.shift() ?? null,
    },
    drives: staticDriveSource(opts.drives ?? []),
    openExternal: async (u) => {
      opened.push(u);
    },
    copyText: (t) => {
      copied.push(t);
    },
    emit: (e) => {
      checkPayloads(e);
      events.push(e);
    },
  });
  const call = async (channel: string, req: unknown = {}) => backend.dispatch(channel, req);
  const ok = async (channel: string, req: unknown = {}): Promise<any> => {
    const r = await call(channel, req);
    if (!r.ok) throw new Error(`${channel} failed: ${r.error.code} ${r.error.message}`);
    return r.value;
  };
  const jobEvents = (jobId: string): JobEventT[] =>
    events
      .filter(
        (e): e is Extract<AppEvent, { channel: 'job' }> => e.channel === 'job' && e.event.jobId === jobId,
      )
      .map((e) => e.event);
  const waitJob = async (jobId: string) => {
    await backend.services.jobs.get(jobId)?.done.catch(() => undefined);
    // Let the terminal event's listeners run.
    await new Promise((r) => setImmediate(r));
    const snap = (await ok('jobs.get', { id: jobId })) as JobSnapshot;
    checkSnapshot(snap);
    assertPayloads();
    return snap as any;
  };
  return {
    tmp,
    env,
    backend,
    answers,
    events,
    opened,
    copied,
    call,
    ok,
    jobEvents,
    waitJob,
    payloadProblems,
    cleanup: async () => {
      await backend.shutdown();
      fs.rmSync(tmp, { recursive: true, force: true });
      assertPayloads();
    },
  };
}
