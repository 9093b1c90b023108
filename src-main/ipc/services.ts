import type { JobRegistry } from '../core/base/jobs/job.js';
import type { KeyStore } from '../core/bundle/keys/keystore.js';
import type { DriveSource } from '../core/media/drives/index.js';
import type { AppEvent } from './contract.js';
import type { PickRegistry, PickPurpose } from './picks.js';
import type { SettingsStore } from './settings-store.js';

/**
 * Everything handlers need from the outside world, injected: Electron's shell supplies native
 * dialogs, clipboard and the browser; tests supply folders and recorders. Handlers never reach
 * for a global, so the same code runs under Electron and behind playwright's exposeBinding.
 */

export interface Dialogs {
  pickFolder(opts: { purpose: PickPurpose; title: string }): Promise<string | null>;
  pickFile(opts: {
    purpose: PickPurpose;
    title: string;
    extensions?: string[] | undefined;
  }): Promise<string | null>;
  saveFile(opts: { title: string; defaultName: string }): Promise<string | null>;
}

export type { DriveSource };

export interface AppServices {
  version: string;
  platform: string;
  env: NodeJS.ProcessEnv;
  jobs: JobRegistry;
  picks: PickRegistry;
  settings: SettingsStore;
  keyStore: KeyStore;
  dialogs: Dialogs;
  drives: DriveSource;
  openExternal(url: string): Promise<void>;
  copyText(text: string): Promise<void> | void;
  /** Push an event to the renderer (webContents.send under Electron, page.evaluate in tests). */
  emit(e: AppEvent): void;
}
