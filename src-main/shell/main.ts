import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, clipboard, ipcMain, protocol, shell, type WebContents } from 'electron';
import os from 'node:os';
import { dataDir } from '../core/base/config/dirs.js';
import { systemDriveSource, watchDrives } from '../core/media/drives/index.js';
import { EVENT_CHANNEL } from '../ipc/channels.js';
import { createBackend, driveView, type AppBackend } from '../ipc/index.js';
import { electronDialogs } from './dialogs.js';
import { registerIpc } from './ipc-bridge.js';
import { APP_SCHEME, contentType, resolveAppFile, SECURITY_HEADERS } from './policy.js';
import { createMainWindow } from './window.js';

/**
 * Electron main: wires the backend (src-main/ipc) to one locked-down window. All behaviour lives
 * in core and ipc; this file only connects Electron's objects to them.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererDir = path.join(here, '../renderer');
const preloadPath = path.join(here, '../preload/index.cjs');

// Must run before 'ready': app:// behaves like https (secure context, fetch, standard URL parsing).
protocol.registerSchemesAsPrivileged([
  {
    scheme: APP_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
  },
]);
app.enableSandbox();

// A second copy hands over to the first (its window comes to the front) and starts nothing.
const primary = app.requestSingleInstanceLock();
if (!primary) app.quit();

let win: BrowserWindow | null = null;
let backend: AppBackend | null = null;

function contents(): WebContents | null {
  return win && !win.isDestroyed() ? win.webContents : null;
}

async function serveApp(req: Request): Promise<Response> {
  const file = resolveAppFile(rendererDir, req.url);
  if (!file) return new Response('Not found', { status: 404, headers: SECURITY_HEADERS });
  try {
    const body = await fs.readFile(file);
    return new Response(body, {
      status: 200,
      headers: { ...SECURITY_HEADERS, 'Content-Type': contentType(file) },
    });
  } catch {
    return new Response('Not found', { status: 404, headers: SECURITY_HEADERS });
  }
}

app.on('web-contents-created', (_e, wc) => {
  wc.setWindowOpenHandler(() => ({ action: 'deny' }));
  wc.on('will-attach-webview', (ev) => ev.preventDefault());
});

app.on('second-instance', () => {
  if (win) {
    if (win.isMinimized()) win.restore();
    win.focus();
  }
});

void app.whenReady().then(() => {
  if (!primary) return;
  protocol.handle(APP_SCHEME, serveApp);
  // The home folder and Ferry's own data are never offered as export targets.
  const drives = systemDriveSource([os.homedir(), dataDir()]);
  backend = createBackend({
    version: app.getVersion(),
    dialogs: electronDialogs(() => win),
    drives,
    openExternal: (url) => shell.openExternal(url),
    copyText: (text) => clipboard.writeText(text),
    emit: (e) => contents()?.send(EVENT_CHANNEL, e),
  });
  registerIpc(ipcMain, backend.dispatch, contents);
  win = createMainWindow(preloadPath);
  const stopWatching = watchDrives(
    drives,
    (c) => contents()?.send(EVENT_CHANNEL, { channel: 'drives', drives: c.drives.map(driveView) }),
    {
      intervalMs: 3000,
    },
  );
  app.once('before-quit', stopWatching);
  win.on('closed', () => {
    win = null;
  });
});

app.on('window-all-closed', () => {
  void backend?.shutdown().finally(() => app.quit());
});
