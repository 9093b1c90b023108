import { dialog, type BrowserWindow } from 'electron';
import type { Dialogs } from '../ipc/services.js';

/** Native dialogs: the only way a path enters the app from the user. */
export function electronDialogs(win: () => BrowserWindow | null): Dialogs {
  return {
    async pickFolder({ title }) {
      const w = win();
      const opts = {
        title,
        properties: ['openDirectory', 'createDirectory'] as Array<'openDirectory' | 'createDirectory'>,
      };
      const r = w ? await dialog.showOpenDialog(w, opts) : await dialog.showOpenDialog(opts);
      return r.canceled || !r.filePaths[0] ? null : r.filePaths[0];
    },
    async pickFile({ title, extensions }) {
      const w = win();
      const filters = extensions ? [{ name: title, extensions }] : [];
      const opts = { title, filters, properties: ['openFile'] as Array<'openFile'> };
      const r = w ? await dialog.showOpenDialog(w, opts) : await dialog.showOpenDialog(opts);
      return r.canceled || !r.filePaths[0] ? null : r.filePaths[0];
    },
    async saveFile({ title, defaultName }) {
      const w = win();
      const r = w
        ? await dialog.showSaveDialog(w, { title, defaultPath: defaultName })
        : await dialog.showSaveDialog({ title, defaultPath: defaultName });
      return r.canceled || !r.filePath ? null : r.filePath;
    },
  };
}
