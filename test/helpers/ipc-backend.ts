import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { staticDriveSource, type Drive } from '../../src-main/core/media/drives/index.js';
import type { JobEventT } from '../../src-main/ipc/contract.js';
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
    emit: (e) => events.push(e),
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
    return ok('jobs.get', { id: jobId });
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
    cleanup: async () => {
      await backend.shutdown();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}
