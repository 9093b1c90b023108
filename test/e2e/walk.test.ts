import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { staticDriveSource, type Drive } from '../../src-main/core/media/drives/index.js';
import { openBundle } from '../../src-main/core/bundle/index.js';
import { lacks } from '../helpers/tools.js';
import { startWorld, type World } from '../helpers/world/index.js';
import { fakeUsb, TEST_IMAGES, writeTestKubespray } from './fixtures.js';
import { buildApp, launchBrowser, openApp, serveRenderer, type AppSession } from './harness.js';

/**
 * Both sides of the gap, walked the way a technician does it, through the real renderer in
 * Chromium and the real dispatcher and core in this process: plan → fetch → export on the
 * connected machine; media → verify → import → serve on the offline one. Every step leaves a
 * screenshot in test-results/screenshots/.
 */

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function bigNumbers(page: Page): Promise<string[]> {
  return page.locator('.big-numbers .big').allInnerTexts();
}

async function waitText(page: Page, text: string | RegExp, timeout = 60_000): Promise<void> {
  await page.getByText(text).first().waitFor({ state: 'visible', timeout });
}

describe.skipIf(lacks('docker-registry', 'skopeo', 'chromium'))('the app, both sides of the gap', () => {
  let world: World;
  let tmp: string;
  let ksDir: string;
  let usb: Drive;
  /** A second stick that carries the same bundle as archive parts. */
  let usb2: Drive;
  let archiveDir: string;
  let renderer: Awaited<ReturnType<typeof serveRenderer>>;
  let browser: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let connected: AppSession;
  let offline: AppSession;
  let archiveSide: AppSession;
  let pubKeyFile: string;
  let exportedFingerprint = '';

  const envFor = (name: string): NodeJS.ProcessEnv => ({
    ...process.env,
    HOME: path.join(tmp, name, 'home'),
    FERRY_CONFIG_DIR: path.join(tmp, name, 'config'),
    FERRY_DATA_DIR: path.join(tmp, name, 'data'),
  });

  /** Settings → trust the connected side's public key, as a technician does once per machine. */
  async function trustConnectedKey({ page, dialogs }: AppSession): Promise<void> {
    await page.getByRole('tab', { name: 'Settings' }).click();
    dialogs.files.push(pubKeyFile);
    await page.getByRole('button', { name: 'Trust a key from a file…' }).click();
    await waitText(page, /Now trusting/);
  }

  /** Fills the service form for loopback on two free ports and presses Start. */
  async function startServicesOnLoopback(page: Page): Promise<{ filesPort: number; registryPort: number }> {
    const filesPort = await freePort();
    const registryPort = await freePort();
    await page.getByLabel('Listen address').selectOption('127.0.0.1');
    await page.getByLabel('Files port').fill(String(filesPort));
    await page.getByLabel('Registry port').fill(String(registryPort));
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    return { filesPort, registryPort };
  }

  /**
   * The bundle was planned from a Kubespray folder, so it carries no release tarball: the app asks
   * for the same folder on this side to know which variables that version has.
   */
  async function chooseKubesprayFolder(page: Page, dialogs: AppSession['dialogs']): Promise<void> {
    await waitText(page, 'holds no verified Kubespray tarball');
    dialogs.folders.push(ksDir);
    await page.getByRole('button', { name: 'Choose the Kubespray folder…' }).click();
    await page.getByRole('heading', { name: 'offline.yml' }).waitFor({ timeout: 30_000 });
  }

  /** A node pulling kubeadm from the file server, which then shows up as a recent client. */
  async function pullKubeadmAsANode(page: Page, filesPort: number): Promise<void> {
    const manifest = (await openBundle(path.join(usb.mountPoint, 'ferry'))).manifest;
    const kubeadm = manifest.artifacts.find((a) => a.kind === 'file' && a.key === 'kubeadm')!;
    const res = await fetch(`http://127.0.0.1:${filesPort}/${kubeadm.paths[0].replace(/^files\//, '')}`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    await page.getByRole('list', { name: 'Recent clients' }).waitFor({ timeout: 10_000 });
  }

  beforeAll(async () => {
    buildApp();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-e2e-'));
    world = await startWorld({ images: TEST_IMAGES });
    ksDir = path.join(tmp, 'kubespray');
    writeTestKubespray(ksDir, world);
    // The kubelet downloads slowly, so the download step can be seen running and paused.
    for (const [p, f] of world.files.files)
      if (p.endsWith('/amd64/kubelet')) f.faults = [{ kind: 'slow', bytesPerSecond: 1_000_000 }];
    usb = fakeUsb(path.join(tmp, 'media', 'FERRY-USB'));
    usb2 = fakeUsb(path.join(tmp, 'media', 'FERRY-ARCH'), 'FERRY-ARCH');
    archiveDir = path.join(usb2.mountPoint, 'ferry-archive');
    pubKeyFile = path.join(tmp, 'connected-side.pub');
    renderer = await serveRenderer();
    ({ browser, close: closeBrowser } = await launchBrowser());
  });

  // A failing step leaves a picture of what the page showed, next to the good ones.
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    await connected?.shot(`failed-connected`).catch(() => undefined);
    await offline?.shot(`failed-offline`).catch(() => undefined);
    await archiveSide?.shot(`failed-offline-archive`).catch(() => undefined);
  });

  afterAll(async () => {
    await connected?.close();
    await offline?.close();
    await archiveSide?.close();
    await closeBrowser?.();
    await renderer?.close();
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('connected side: settings, cluster choices with a live plan, download with pause and resume, export to a drive', async () => {
    connected = await openApp(browser, renderer.url, {
      env: envFor('connected'),
      drives: staticDriveSource([usb]),
    });
    const { page, dialogs } = connected;

    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Generate a signing key' }).click();
    await waitText(page, "this machine's signing key");
    await page.getByLabel('Registries without TLS').fill(world.registry.host);
    await page
      .getByRole('textbox', { name: 'Mirrors' })
      .fill(`https://helm.cilium.io/ = ${world.files.origin}/helm.cilium.io/`);
    await page.getByRole('button', { name: 'Save network settings' }).click();
    await waitText(page, 'Saved');
    dialogs.saves.push(pubKeyFile);
    await page.getByRole('button', { name: 'Export the public key…' }).click();
    await waitText(page, `Public key saved to ${pubKeyFile}`);
    expect(fs.readFileSync(pubKeyFile, 'utf8')).toContain('BEGIN PUBLIC KEY');
    await connected.shot('0-settings-keys');

    await page.getByRole('tab', { name: 'Connected side' }).click();
    dialogs.folders.push(ksDir);
    await page.getByRole('button', { name: 'Use a local Kubespray folder…' }).click();
    await page.locator('.big-numbers').waitFor();
    // kubeadm, kubelet, kubectl, containerd for amd64; pause, coredns, calico.
    await page.waitForFunction(() => document.querySelector('.big-numbers .big')?.textContent === '4');
    expect((await bigNumbers(page)).slice(0, 2)).toEqual(['4', '3']);
    expect(await page.getByLabel('Kubernetes version').inputValue()).toBe('1.35.4');

    // Choices change the plan as they are made.
    await page.getByRole('checkbox', { name: 'arm64' }).check();
    await page.getByRole('checkbox', { name: 'Helm' }).check();
    await page.getByLabel('Network plugin').selectOption('cilium');
    await page.waitForFunction(() => document.querySelector('.big-numbers .big')?.textContent === '10');
    // cilium replaces calico, and its chart brings the operator image the chart names.
    expect((await bigNumbers(page)).slice(0, 2)).toEqual(['10', '4']);
    await page.locator('.room li', { hasText: 'cilium' }).waitFor();
    expect(await page.locator('.room li', { hasText: 'calico' }).count()).toBe(0);
    await connected.shot('1-connected-cluster');

    await page.getByRole('button', { name: 'Next: download' }).click();
    await page.getByRole('button', { name: 'Start download' }).click();
    await page.getByRole('button', { name: 'Pause' }).waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => {
      const bar = document.querySelector('[aria-label="Download progress"][role="progressbar"]');
      return Number(bar?.getAttribute('aria-valuenow') ?? 0) > 0;
    });
    // The slow kubelet shows its own byte bar, moving, while it downloads.
    await page.waitForFunction(
      () => {
        const bar = document.querySelector('.inflight [role="progressbar"][aria-label*="kubelet"]');
        return Number(bar?.getAttribute('aria-valuenow') ?? 0) > 0;
      },
      undefined,
      { timeout: 30_000 },
    );
    expect(await page.locator('.inflight li', { hasText: 'kubelet' }).innerText()).toMatch(
      /[\d.]+ [KM]iB of [\d.]+ MiB/,
    );
    await connected.shot('2-connected-download-running');
    await page.getByRole('button', { name: 'Pause' }).click();
    await waitText(page, 'Paused');
    await connected.shot('2-connected-download-paused');
    await page.getByRole('button', { name: 'Resume' }).click();
    await waitText(page, 'Complete', 120_000);
    await page.getByRole('list', { name: 'Finished downloads' }).waitFor();
    await page.getByRole('list', { name: 'Downloaded by component' }).waitFor();
    await connected.shot('2-connected-download-done');

    await page.getByRole('button', { name: 'Next: drive' }).click();
    await page.getByRole('button', { name: /FERRY-USB/ }).click();
    await connected.shot('3-connected-drive-choose');
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    await waitText(page, 'Exported and read back', 120_000);
    exportedFingerprint = (await page.getByLabel('Bundle fingerprint').innerText()).trim();
    const own = (await connected.backend.services.keyStore.ownKey())!;
    expect(exportedFingerprint).toBe(own.fingerprint);
    await connected.shot('3-connected-drive-exported');

    const onUsb = await openBundle(path.join(usb.mountPoint, 'ferry'));
    expect(onUsb.manifest.kubespray?.arches.sort()).toEqual(['amd64', 'arm64']);
    expect(onUsb.manifest.artifacts.filter((a) => a.kind === 'image')).toHaveLength(4);

    // The same bundle once more, as tar parts with their index, onto a second stick.
    dialogs.folders.push(archiveDir);
    await page.getByRole('button', { name: 'Archive parts in a folder…' }).click();
    await waitText(page, 'Archive parts into');
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    await page
      .getByLabel('Export result')
      .locator('code', { hasText: archiveDir })
      .waitFor({ timeout: 120_000 });
    expect((await page.getByLabel('Bundle fingerprint').innerText()).trim()).toBe(exportedFingerprint);
    expect(fs.readdirSync(archiveDir)).toEqual(
      expect.arrayContaining(['ferry-archive.json', 'bundle.tar.000']),
    );
    await connected.shot('3-connected-archive-exported');
  });

  it('offline side: trust the key, find the bundle on the drive, verify every byte, import, serve and generate offline.yml', async () => {
    offline = await openApp(browser, renderer.url, {
      env: envFor('offline'),
      drives: staticDriveSource([usb]),
    });
    const { page, dialogs } = offline;

    // Before the connected side's key is trusted, the bundle shows as signed by an unknown key.
    await page.getByRole('tab', { name: 'Offline side' }).click();
    await waitText(page, 'Signed · unknown key', 30_000);
    expect(await page.locator('.bundle-card .fingerprint').innerText()).toBe(exportedFingerprint);
    await offline.shot('4-offline-media-unknown-key');

    await trustConnectedKey(offline);

    await page.getByRole('tab', { name: 'Offline side' }).click();
    await waitText(page, 'Signed · trusted', 30_000);
    expect(await page.locator('.bundle-card .fingerprint').innerText()).toBe(exportedFingerprint);
    expect(await page.locator('.bundle-card').innerText()).toContain('Key fingerprint');
    await page.locator('.bundle-card').click();
    await offline.shot('4-offline-media');

    await page.getByRole('button', { name: 'Next: check integrity' }).click();
    await page.getByRole('button', { name: 'Start check' }).click();
    await waitText(page, 'Bundle verified', 60_000);
    const tiles = page.locator('.tile[data-state]');
    expect(await tiles.count()).toBe(await page.locator('.tile[data-state="good"]').count());
    await offline.shot('5-offline-integrity');

    // A reload re-attaches to the finished job: the map and summary come back from main.
    await offline.reload();
    await waitText(page, 'Bundle verified', 30_000);
    expect(await page.locator('.tile[data-state="good"]').count()).toBeGreaterThan(5);

    await page.getByRole('button', { name: 'Next: services' }).click();
    // Verified, not yet imported: the services can serve the folder on the media as it is.
    expect(await page.getByRole('radio', { name: /bundle folder on the media/ }).isChecked()).toBe(true);
    expect(await page.getByRole('radio', { name: /store/ }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await waitText(page, 'Imported into the store', 60_000);
    // Once imported, the store is the default: the drive can go back.
    await page.waitForFunction(
      () => (document.querySelector('input[name="serve-from"][value="store"]') as HTMLInputElement)?.checked,
    );

    const { filesPort, registryPort } = await startServicesOnLoopback(page);
    await waitText(page, 'Serving', 60_000);
    await waitText(page, "from this machine's store (1 bundle)");
    await chooseKubesprayFolder(page, dialogs);
    const yml = await page.getByLabel('offline.yml', { exact: true }).innerText();
    expect(yml).toContain(`files_repo: http://127.0.0.1:${filesPort}`);
    expect(yml).toContain(`registry_host: 127.0.0.1:${registryPort}`);

    // A node pulling a file shows up as a client with its request.
    await pullKubeadmAsANode(page, filesPort);
    await page.getByRole('button', { name: 'Copy offline.yml' }).click();
    await waitText(page, 'Copied');
    expect(offline.copied[0]).toBe(yml);
    await offline.shot('6-offline-services');

    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await waitText(page, 'Stopped');
  });

  it('offline side: a damaged copy shows red tiles, and a damaged tile opens what is wrong and what to do', async () => {
    const { page, dialogs } = offline;
    const copy = path.join(tmp, 'damaged-copy');
    fs.cpSync(path.join(usb.mountPoint, 'ferry'), copy, { recursive: true });
    const { manifest } = await openBundle(copy);
    const victim = manifest.artifacts.find((a) => a.kind === 'file' && a.key === 'kubectl')!;
    const file = path.join(copy, victim.paths[0]);
    const bytes = fs.readFileSync(file);
    bytes[100] ^= 0xff;
    fs.writeFileSync(file, bytes);

    await page.getByRole('button', { name: /Media/ }).click();
    dialogs.folders.push(copy);
    await page.getByRole('button', { name: 'Choose a bundle folder…' }).click();
    await page.locator('.bundle-card.chosen').waitFor();
    await page.getByRole('button', { name: 'Next: check integrity' }).click();
    await page.getByRole('button', { name: /Start check|Check again/ }).click();
    await waitText(page, 'Bundle has problems', 60_000);
    expect(await page.locator('.tile[data-state="damaged"]').count()).toBe(1);
    // Keyboard: the damaged tile is a button; Enter opens its details.
    await page.locator('.tile[data-state="damaged"]').focus();
    await page.keyboard.press('Enter');
    const details = page.getByLabel('Damaged artifact details');
    await details.waitFor();
    const text = await details.innerText();
    expect(text).toContain(victim.paths[0]);
    expect(text).toContain('wrong-digest');
    expect(text).toContain('What to do');
    await offline.shot('5-offline-integrity-damaged');
    await page.emulateMedia({ colorScheme: 'dark' });
    await offline.shot('5-offline-integrity-damaged-dark');
  });

  it('offline side, archive: another machine finds the archive on its drive, imports it part by part with the map filling in, serves from its store; a damaged part is named', async () => {
    archiveSide = await openApp(browser, renderer.url, {
      env: envFor('offline-archive'),
      drives: staticDriveSource([usb2]),
    });
    const { page, dialogs } = archiveSide;
    await trustConnectedKey(archiveSide);

    await page.getByRole('tab', { name: 'Offline side' }).click();
    await waitText(page, 'Signed · trusted', 30_000);
    const card = page.locator('.bundle-card');
    expect(await card.innerText()).toMatch(/Archive export · 1 part/);
    expect(await card.locator('.fingerprint').innerText()).toBe(exportedFingerprint);
    await card.click();
    await archiveSide.shot('7-offline-archive-media');

    await page.getByRole('button', { name: 'Next: check integrity' }).click();
    await page.getByRole('button', { name: 'Import and check' }).click();
    await waitText(page, 'Bundle imported and verified', 60_000);
    const tiles = page.locator('.tile[data-state]');
    expect(await tiles.count()).toBeGreaterThan(5);
    expect(await tiles.count()).toBe(await page.locator('.tile[data-state="good"]').count());
    expect(await page.locator('.parts .part[data-state="good"]').count()).toBe(1);
    await archiveSide.shot('7-offline-archive-import');

    await page.getByRole('button', { name: 'Next: services' }).click();
    expect(await page.getByRole('radio', { name: /store/ }).isChecked()).toBe(true);
    expect(await page.getByRole('radio', { name: /bundle folder on the media/ }).isDisabled()).toBe(true);
    const { filesPort, registryPort } = await startServicesOnLoopback(page);
    await waitText(page, "from this machine's store (1 bundle)", 60_000);
    await chooseKubesprayFolder(page, dialogs);
    expect(await page.getByLabel('offline.yml', { exact: true }).innerText()).toContain(
      `registry_host: 127.0.0.1:${registryPort}`,
    );
    await pullKubeadmAsANode(page, filesPort);
    await archiveSide.shot('7-offline-archive-services');
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await waitText(page, 'Stopped');

    // A copy whose part went bad on the way: the import names the part to copy again.
    const copy = path.join(tmp, 'damaged-archive');
    fs.cpSync(archiveDir, copy, { recursive: true });
    const part = path.join(copy, 'bundle.tar.000');
    const bytes = fs.readFileSync(part);
    bytes[Math.floor(bytes.length * 0.7)] ^= 0xff;
    fs.writeFileSync(part, bytes);
    await page.getByRole('button', { name: /Media/ }).click();
    dialogs.folders.push(copy);
    await page.getByRole('button', { name: 'Choose a bundle folder…' }).click();
    await page.locator('.bundle-card.chosen', { hasText: copy }).waitFor();
    await page.getByRole('button', { name: 'Next: check integrity' }).click();
    await page.getByRole('button', { name: 'Import again' }).click();
    await waitText(page, 'Import stopped', 60_000);
    await waitText(page, 'bundle.tar.000 is damaged');
    expect(await page.locator('.parts .part[data-state="damaged"]').count()).toBe(1);
    await archiveSide.shot('7-offline-archive-damaged-part');
  });
});
