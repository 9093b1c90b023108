import path from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { IPC_PREFIX, REQUEST_CHANNELS } from '../../../src-main/ipc/channels.js';

/**
 * The Electron shell with electron mocked: what window it makes, what it registers, and what it
 * refuses. Nothing here needs the Electron binary.
 */

const m = vi.hoisted(() => {
  const handlers = new Map<string, (e: unknown, req: unknown) => unknown>();
  const windows: any[] = [];
  const wcListeners = new Map<string, (...a: any[]) => void>();
  const sessionHandlers: Record<string, any> = {};
  const ready = { resolve: () => undefined as void, promise: Promise.resolve() };
  const freshReady = () => {
    ready.promise = new Promise<void>((r) => (ready.resolve = r));
  };
  freshReady();
  const exposed: Record<string, unknown> = {};
  const rendererListeners = new Map<string, (...a: any[]) => void>();
  const mainFrame = { url: 'app://ferry/index.html', parent: null };
  const webContents = {
    mainFrame,
    on: (ev: string, fn: (...a: any[]) => void) => wcListeners.set(ev, fn),
    setWindowOpenHandler: vi.fn((fn: () => unknown) => wcListeners.set('window-open', fn)),
    send: vi.fn(),
  };
  class BrowserWindow {
    webContents = webContents;
    constructor(readonly options: any) {
      windows.push(this);
    }
    once() {}
    on() {}
    loadURL = vi.fn(async () => undefined);
    isDestroyed() {
      return false;
    }
  }
  return {
    handlers,
    windows,
    wcListeners,
    sessionHandlers,
    freshReady,
    resolveReady: () => ready.resolve(),
    exposed,
    rendererListeners,
    webContents,
    mainFrame,
    electron: {
      app: {
        whenReady: () => ready.promise,
        enableSandbox: vi.fn(),
        requestSingleInstanceLock: () => true,
        getVersion: () => '0.1.0',
        on: vi.fn(),
        once: vi.fn(),
        quit: vi.fn(),
      },
      BrowserWindow,
      protocol: { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() },
      ipcMain: { handle: vi.fn((c: string, fn: any) => handlers.set(c, fn)), removeHandler: vi.fn() },
      session: {
        defaultSession: {
          setPermissionRequestHandler: (fn: any) => (sessionHandlers.request = fn),
          setPermissionCheckHandler: (fn: any) => (sessionHandlers.check = fn),
          setDevicePermissionHandler: (fn: any) => (sessionHandlers.device = fn),
          on: vi.fn(),
        },
      },
      shell: { openExternal: vi.fn() },
      clipboard: { writeText: vi.fn() },
      dialog: { showOpenDialog: vi.fn(), showSaveDialog: vi.fn() },
      contextBridge: { exposeInMainWorld: vi.fn((k: string, v: unknown) => (exposed[k] = v)) },
      ipcRenderer: {
        invoke: vi.fn(async (c: string, r: unknown) => ({ ok: true, value: { c, r } })),
        on: vi.fn((c: string, fn: any) => rendererListeners.set(c, fn)),
        removeListener: vi.fn((c: string) => rendererListeners.delete(c)),
      },
    },
  };
});

vi.mock('electron', () => ({ ...m.electron, default: m.electron }));

describe('the Electron main process', () => {
  beforeEach(() => {
    vi.resetModules();
    m.freshReady();
    m.windows.length = 0;
    m.handlers.clear();
    (m.electron.protocol.handle as any).mockClear();
  });

  it('registers app:// as a privileged standard, secure scheme before ready and sandboxes every renderer', async () => {
    await import('../../../src-main/shell/main.js');
    expect(m.electron.protocol.registerSchemesAsPrivileged).toHaveBeenCalledWith([
      expect.objectContaining({
        scheme: 'app',
        privileges: expect.objectContaining({ standard: true, secure: true }),
      }),
    ]);
    expect(m.electron.app.enableSandbox).toHaveBeenCalled();
  });

  it('opens one locked-down window on app:// and registers one handler per contract channel', async () => {
    await import('../../../src-main/shell/main.js');
    m.resolveReady();
    await new Promise((r) => setTimeout(r, 10));
    expect(m.windows).toHaveLength(1);
    const wp = m.windows[0].options.webPreferences;
    expect(wp).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
    });
    expect(path.basename(wp.preload)).toBe('index.cjs');
    expect(m.windows[0].loadURL).toHaveBeenCalledWith('app://ferry/index.html');
    expect(m.electron.protocol.handle).toHaveBeenCalledWith('app', expect.any(Function));
    expect([...m.handlers.keys()].sort()).toEqual(REQUEST_CHANNELS.map((c) => IPC_PREFIX + c).sort());
  });

  it('denies navigation away from app://, new windows, webviews and every permission', async () => {
    await import('../../../src-main/shell/main.js');
    m.resolveReady();
    await new Promise((r) => setTimeout(r, 10));
    const nav = m.wcListeners.get('will-navigate')!;
    const ev = { preventDefault: vi.fn() };
    nav(ev, 'https://evil.example/');
    expect(ev.preventDefault).toHaveBeenCalled();
    const ok = { preventDefault: vi.fn() };
    nav(ok, 'app://ferry/index.html');
    expect(ok.preventDefault).not.toHaveBeenCalled();
    expect(m.wcListeners.get('window-open')!()).toEqual({ action: 'deny' });
    const wv = { preventDefault: vi.fn() };
    m.wcListeners.get('will-attach-webview')!(wv);
    expect(wv.preventDefault).toHaveBeenCalled();
    const cb = vi.fn();
    m.sessionHandlers.request({}, 'media', cb);
    expect(cb).toHaveBeenCalledWith(false);
    expect(m.sessionHandlers.check()).toBe(false);
  });

  it('answers only the app’s own top frame; anything else gets an error value and reaches no handler', async () => {
    await import('../../../src-main/shell/main.js');
    m.resolveReady();
    await new Promise((r) => setTimeout(r, 10));
    const h = m.handlers.get(IPC_PREFIX + 'app.info')!;
    const good = await h({ sender: m.webContents, senderFrame: m.mainFrame }, {});
    expect(good).toMatchObject({ ok: true, value: { version: '0.1.0' } });
    const sub = { url: 'app://ferry/index.html', parent: m.mainFrame };
    expect(await h({ sender: m.webContents, senderFrame: sub }, {})).toMatchObject({
      ok: false,
      error: { code: 'USAGE' },
    });
    const foreign = { url: 'https://evil.example/', parent: null };
    expect(await h({ sender: m.webContents, senderFrame: foreign }, {})).toMatchObject({ ok: false });
    expect(await h({ sender: {}, senderFrame: m.mainFrame }, {})).toMatchObject({ ok: false });
  });

  it('serves the renderer with the CSP header and refuses paths that leave its folder', async () => {
    await import('../../../src-main/shell/main.js');
    m.resolveReady();
    await new Promise((r) => setTimeout(r, 10));
    const serve = (m.electron.protocol.handle as any).mock.calls[0][1] as (r: Request) => Promise<Response>;
    const res = await serve(new Request('app://ferry/../../../etc/passwd'));
    expect(res.status).toBe(404);
    expect(res.headers.get('Content-Security-Policy')).toContain("default-src 'self'");
  });
});

describe('the preload', () => {
  beforeEach(() => vi.resetModules());

  it('exposes only invoke and onEvent, never ipcRenderer, and refuses channels outside the contract', async () => {
    await import('../../../src-main/preload/index.js');
    const api = m.exposed.ferry as {
      invoke(c: unknown, r: unknown): Promise<any>;
      onEvent(fn: (e: unknown) => void): () => void;
    };
    expect(Object.keys(api).sort()).toEqual(['invoke', 'onEvent']);
    expect(Object.values(api).every((v) => typeof v === 'function')).toBe(true);
    expect(await api.invoke('app.info', {})).toEqual({ ok: true, value: { c: 'ferry:app.info', r: {} } });
    m.electron.ipcRenderer.invoke.mockClear();
    expect(await api.invoke('shell.exec', {})).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    expect(m.electron.ipcRenderer.invoke).not.toHaveBeenCalled();
    const seen: unknown[] = [];
    const off = api.onEvent((e) => seen.push(e));
    m.rendererListeners.get('ferry:event')!({ sender: 'hidden' }, { channel: 'drives', drives: [] });
    expect(seen).toEqual([{ channel: 'drives', drives: [] }]);
    off();
    expect(m.rendererListeners.has('ferry:event')).toBe(false);
  });
});
