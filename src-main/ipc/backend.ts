import { JobRegistry } from '../core/base/jobs/job.js';
import { KeyStore } from '../core/bundle/keys/keystore.js';
import type { AppEvent } from './contract.js';
import { createDispatcher, type Dispatch } from './dispatcher.js';
import { createHandlers } from './handlers/index.js';
import { PickRegistry } from './picks.js';
import type { AppServices, Dialogs, DriveSource } from './services.js';
import { SettingsStore } from './settings-store.js';

export interface AppBackend {
  dispatch: Dispatch;
  services: AppServices;
  /** Stop every running job (window closed, app quitting, test over). */
  shutdown(): Promise<void>;
}

/**
 * The whole main-side backend, built from the few things the host provides. Electron's shell and
 * the e2e harness both call this; only how events reach the renderer and how dialogs look differ.
 */
export function createBackend(host: {
  version: string;
  env?: NodeJS.ProcessEnv;
  dialogs: Dialogs;
  drives: DriveSource;
  openExternal(url: string): Promise<void>;
  copyText(text: string): Promise<void> | void;
  emit(e: AppEvent): void;
}): AppBackend {
  const env = host.env ?? process.env;
  const jobs = new JobRegistry();
  const services: AppServices = {
    version: host.version,
    platform: process.platform,
    env,
    jobs,
    picks: new PickRegistry(),
    settings: new SettingsStore(env),
    keyStore: KeyStore.fromEnv(env),
    dialogs: host.dialogs,
    drives: host.drives,
    openExternal: host.openExternal,
    copyText: host.copyText,
    emit: host.emit,
  };
  jobs.onEvent((event) => {
    const job = jobs.get(event.jobId);
    if (job) host.emit({ channel: 'job', kind: job.kind, event } as AppEvent);
  });
  return {
    dispatch: createDispatcher(createHandlers(services)),
    services,
    async shutdown() {
      const running = jobs.list().filter((j) => j.state === 'running');
      for (const j of running) j.cancel();
      await Promise.allSettled(running.map((j) => j.done));
    },
  };
}
