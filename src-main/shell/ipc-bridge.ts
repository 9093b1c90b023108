import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { IPC_PREFIX, REQUEST_CHANNELS } from '../ipc/channels.js';
import type { Dispatch } from '../ipc/dispatcher.js';
import { isTrustedSender } from './policy.js';

/**
 * One ipcMain.handle per contract channel. A message from anything but the app's own top frame
 * is answered with an error value and never reaches a handler.
 */
export function registerIpc(
  ipcMain: IpcMain,
  dispatch: Dispatch,
  contents: () => WebContents | null,
): () => void {
  for (const channel of REQUEST_CHANNELS) {
    ipcMain.handle(IPC_PREFIX + channel, async (event: IpcMainInvokeEvent, req: unknown) => {
      const wc = contents();
      if (!wc || event.sender !== wc || !isTrustedSender(event.senderFrame, wc.mainFrame)) {
        return {
          ok: false,
          error: { code: 'USAGE', message: 'Request refused: it did not come from the Ferry window.' },
        };
      }
      return dispatch(channel, req);
    });
  }
  return () => {
    for (const channel of REQUEST_CHANNELS) ipcMain.removeHandler(IPC_PREFIX + channel);
  };
}
