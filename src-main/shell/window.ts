import { BrowserWindow, session, shell, type Session } from 'electron';
import { APP_ORIGIN, APP_URL } from './policy.js';

/**
 * The one window, locked down: no navigation away from app://, no new windows (https links to
 * the allowlist go to the OS browser via the IPC handler), no permission ever granted.
 */
export function lockSession(ses: Session): void {
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
  ses.on('will-download', (e) => e.preventDefault());
}

export function createMainWindow(preloadPath: string): BrowserWindow {
  lockSession(session.defaultSession);
  const win = new BrowserWindow({
    width: 1200,
    height: 820,
    minWidth: 880,
    minHeight: 600,
    show: false,
    title: 'Ferry',
    backgroundColor: '#10151c',
    // Written out here, not built by a helper, so static checkers (electronegativity) see it.
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      // Middle-click would open links in a new window; there is nothing to open.
      disableBlinkFeatures: 'Auxclick',
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
    },
  });
  const wc = win.webContents;
  wc.on('will-navigate', (e, url) => {
    if (!url.startsWith(APP_ORIGIN + '/')) e.preventDefault();
  });
  wc.on('will-redirect', (e, url) => {
    if (!url.startsWith(APP_ORIGIN + '/')) e.preventDefault();
  });
  wc.on('will-attach-webview', (e) => e.preventDefault());
  wc.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.once('ready-to-show', () => win.show());
  void win.loadURL(APP_URL);
  return win;
}

export { shell };
