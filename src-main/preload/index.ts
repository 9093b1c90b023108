import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { EVENT_CHANNEL, IPC_PREFIX, isRequestChannel } from '../ipc/channels.js';

/**
 * The whole surface the renderer gets: invoke a contract channel, listen to app events. The
 * ipcRenderer object itself never crosses the bridge, and channels outside the contract are
 * refused here as well as in main.
 */
const api = {
  invoke(channel: unknown, req: unknown): Promise<unknown> {
    if (!isRequestChannel(channel)) {
      return Promise.resolve({
        ok: false,
        error: { code: 'USAGE', message: `Unknown IPC channel '${String(channel).slice(0, 80)}'.` },
      });
    }
    return ipcRenderer.invoke(IPC_PREFIX + channel, req);
  },
  onEvent(fn: (e: unknown) => void): () => void {
    if (typeof fn !== 'function') throw new TypeError('onEvent needs a function');
    const listener = (_e: IpcRendererEvent, payload: unknown) => fn(payload);
    ipcRenderer.on(EVENT_CHANNEL, listener);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, listener);
    };
  },
};

contextBridge.exposeInMainWorld('ferry', api);
