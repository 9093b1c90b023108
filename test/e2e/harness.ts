import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { DriveSource } from '../../src-main/core/media/drives/index.js';
import { createBackend, type AppBackend, type AppEvent, type Dialogs } from '../../src-main/ipc/index.js';
import { contentType, CSP, resolveAppFile } from '../../src-main/shell/policy.js';
import { repoRoot } from '../helpers/tools.js';

/**
 * Runs the real renderer bundle in Debian Chromium against the real dispatcher and core in this
 * Node process. The page gets the same window.ferry API the preload exposes: invoke goes through
 * page.exposeBinding, events come back through page.evaluate. No Electron binary is involved.
 */

export const SCREENSHOTS = path.join(repoRoot, 'test-results', 'screenshots');
const RENDERER = path.join(repoRoot, 'out', 'renderer');

let built = false;
/** Build main, preload and renderer exactly as `npm run build` does (about 5 s). */
export function buildApp(): void {
  if (built) return;
  execFileSync('npx', ['electron-vite', 'build'], { cwd: repoRoot, stdio: 'pipe', timeout: 180_000 });
  built = true;
}

/** Serves the built renderer on loopback with the same CSP the app:// protocol sends. */
export async function serveRenderer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const file = resolveAppFile(RENDERER, `app://ferry${(req.url ?? '/').split('?')[0]}`);
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': contentType(file),
      'Content-Security-Policy': CSP,
      'Cache-Control': 'no-store',
    });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/index.html`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Debian Chromium with a fresh profile folder of its own (deleted on close). */
export async function launchBrowser(): Promise<{ browser: BrowserContext; close(): Promise<void> }> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-chromium-'));
  const browser = await chromium.launchPersistentContext(userDir, {
    executablePath: '/usr/bin/chromium',
    viewport: { width: 1280, height: 860 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/** Native dialogs stand-in: each call takes the next queued answer (null = the user cancelled). */
export class ScriptedDialogs implements Dialogs {
  readonly folders: Array<string | null> = [];
  readonly files: Array<string | null> = [];
  readonly saves: Array<string | null> = [];
  readonly asked: string[] = [];
  async pickFolder(o: { title: string }) {
    this.asked.push(`folder: ${o.title}`);
    return this.folders.shift() ?? null;
  }
  async pickFile(o: { title: string }) {
    this.asked.push(`file: ${o.title}`);
    return this.files.shift() ?? null;
  }
  async saveFile(o: { title: string }) {
    this.asked.push(`save: ${o.title}`);
    return this.saves.shift() ?? null;
  }
}

export interface AppSession {
  page: Page;
  backend: AppBackend;
  dialogs: ScriptedDialogs;
  copied: string[];
  /** Screenshot of the whole page into test-results/screenshots/<name>.png. */
  shot(name: string): Promise<string>;
  reload(): Promise<void>;
  close(): Promise<void>;
}

const INIT_SCRIPT = `(() => {
  const listeners = new Set();
  const api = Object.freeze({
    invoke: (channel, req) => window.__ferryInvoke(channel, req),
    onEvent: (fn) => { listeners.add(fn); return () => listeners.delete(fn); },
  });
  Object.defineProperty(window, 'ferry', { value: api, writable: false, configurable: false });
  Object.defineProperty(window, '__ferryEmit', {
    value: (e) => { for (const fn of listeners) { try { fn(e); } catch (err) { console.error(err); } } },
    writable: false,
  });
})();`;

export async function openApp(
  browser: BrowserContext,
  url: string,
  opts: { env: NodeJS.ProcessEnv; drives: DriveSource; theme?: 'light' | 'dark' },
): Promise<AppSession> {
  const dialogs = new ScriptedDialogs();
  const copied: string[] = [];
  const page = await browser.newPage();
  await page.emulateMedia({ colorScheme: opts.theme ?? 'light' });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  let ready = false;
  const pending: AppEvent[] = [];
  const deliver = (e: AppEvent) => {
    page
      .evaluate((ev) => (window as unknown as { __ferryEmit(e: unknown): void }).__ferryEmit(ev), e)
      .catch(() => undefined);
  };
  const backend = createBackend({
    version: '0.1.0-e2e',
    env: opts.env,
    dialogs,
    drives: opts.drives,
    openExternal: async () => undefined,
    copyText: (t) => {
      copied.push(t);
    },
    emit: (e) => (ready ? deliver(e) : pending.push(e)),
  });
  await page.exposeBinding('__ferryInvoke', (_source, channel: string, req: unknown) =>
    backend.dispatch(channel, req),
  );
  await page.addInitScript(INIT_SCRIPT);
  await page.goto(url);
  ready = true;
  for (const e of pending.splice(0)) deliver(e);
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    page,
    backend,
    dialogs,
    copied,
    async shot(name) {
      if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
      // Let transitions and the last throttled events settle so the picture shows a steady state.
      await page.waitForTimeout(300);
      const file = path.join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async reload() {
      await page.reload();
    },
    async close() {
      await backend.shutdown();
      await page.close();
    },
  };
}
