import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { create as tarCreate } from 'tar';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KeyStore } from '../../src-main/core/bundle/keys/index.js';
import { BundleWriter } from '../../src-main/core/bundle/writer.js';
import { toolArtifact, toolPath } from '../../src-main/core/kinds/tool/index.js';
import { staticDriveSource } from '../../src-main/core/media/drives/index.js';
import { writeTestBundle } from '../helpers/oci-fixtures.js';
import { kubesprayDataDir, lacks, lacksCondition } from '../helpers/tools.js';
import { fakeUsb } from './fixtures.js';
import { buildApp, launchBrowser, openApp, serveRenderer, type AppSession } from './harness.js';

/**
 * The offline side's fourth step, Deploy, walked in Chromium against the real dispatcher and core:
 * nodes entered in the form, the preflight, a real ansible-playbook run of a Kubespray-shaped
 * release from the bundle (this machine is both nodes, ansible_connection local), the grid of
 * nodes filling in, a failure opened inline, a cancel that stops Ansible and its children, and a
 * rerun that finishes. Screenshots go to test-results/screenshots/8-offline-deploy-*.png.
 */

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** innerText with its line breaks (block-level pills, cells) as single spaces. */
const flat = (s: string) => s.replace(/\s+/g, ' ').trim();

async function waitText(page: Page, text: string | RegExp, timeout = 60_000): Promise<void> {
  await page.getByText(text).first().waitFor({ state: 'visible', timeout });
}

/** A sleep only this test starts, so a leftover after cancel is unmistakably ours. */
const SLEEP = '97.25';

function sleepers(): string[] {
  try {
    return execFileSync('pgrep', ['-f', `sleep ${SLEEP}`], { encoding: 'utf8' })
      .trim()
      .split('\n');
  } catch {
    return [];
  }
}

const missing =
  lacks('chromium', 'ansible-playbook', 'ansible-inventory', 'python3', 'pgrep') ||
  lacksCondition(
    !existsSync(path.join(kubesprayDataDir, 'v2.31.0')),
    `Kubespray data in ${kubesprayDataDir}`,
  );

describe.skipIf(missing)('the app, offline side: deploy', () => {
  let tmp: string;
  let ctl: string;
  let renderer: Awaited<ReturnType<typeof serveRenderer>>;
  let browser: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let app: AppSession;

  /**
   * A Kubespray-shaped release: Kubespray's own roles data (so the app can write offline.yml for
   * it), ansible.cfg, cluster.yml importing playbooks/cluster.yml, and a role that uses
   * offline.yml like Kubespray's download role. Files in `ctl` on this machine steer it between
   * runs: `fail` fails node2's check, `slow` makes both nodes sleep until cancelled.
   */
  async function release(): Promise<Buffer> {
    const src = path.join(tmp, 'src', 'kubespray-2.31.0');
    await fs.mkdir(path.join(src, 'playbooks'), { recursive: true });
    await fs.cp(path.join(kubesprayDataDir, 'v2.31.0', 'roles'), path.join(src, 'roles'), {
      recursive: true,
    });
    const role = path.join(src, 'roles', 'ferry_e2e', 'tasks');
    await fs.mkdir(role, { recursive: true });
    await fs.writeFile(
      path.join(src, 'ansible.cfg'),
      '[defaults]\nhost_key_checking=False\nstdout_callback = default\nroles_path = roles\n',
    );
    await fs.writeFile(
      path.join(src, 'cluster.yml'),
      '---\n- name: Install Kubernetes\n  ansible.builtin.import_playbook: playbooks/cluster.yml\n',
    );
    await fs.writeFile(
      path.join(src, 'reset.yml'),
      '- hosts: all\n  gather_facts: false\n  tasks: [{ansible.builtin.debug: {msg: reset}}]\n',
    );
    await fs.writeFile(
      path.join(src, 'playbooks', 'cluster.yml'),
      '- hosts: k8s_cluster\n  gather_facts: false\n  roles: [ferry_e2e]\n',
    );
    await fs.writeFile(
      path.join(role, 'main.yml'),
      `- name: Reach the node
  ansible.builtin.ping:
- name: Download kubeadm from files_repo
  ansible.builtin.get_url:
    url: "{{ files_repo }}/dl.k8s.io/release/v1.33.5/bin/linux/amd64/kubeadm"
    dest: "${ctl}/kubeadm-{{ inventory_hostname }}"
    mode: "0644"
- name: Check the node
  ansible.builtin.fail:
    msg: "node2 refuses: ${ctl}/fail is there"
  when: inventory_hostname == 'node2' and '${ctl}/fail' is exists
- name: Slow step
  ansible.builtin.command: sleep ${SLEEP}
  when: "'${ctl}/slow' is exists"
- name: Configure the node
  ansible.builtin.command: "true"
  changed_when: true
`,
    );
    const tarball = path.join(tmp, 'kubespray-v2.31.0.tar.gz');
    await tarCreate({ gzip: true, file: tarball, cwd: path.dirname(src) }, ['kubespray-2.31.0']);
    return fs.readFile(tarball);
  }

  beforeAll(async () => {
    buildApp();
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-e2e-deploy-'));
    ctl = path.join(tmp, 'ctl');
    await fs.mkdir(ctl);
    renderer = await serveRenderer();
    ({ browser, close: closeBrowser } = await launchBrowser());
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await app?.shot('failed-offline-deploy').catch(() => undefined);
  });
  afterAll(async () => {
    await app?.close();
    await closeBrowser?.();
    await renderer?.close();
    for (const pid of sleepers()) process.kill(Number(pid), 'SIGKILL');
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('enters nodes, checks them, runs the playbook with the grid filling in, opens a failure, cancels and reruns', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: path.join(tmp, 'home'),
      FERRY_CONFIG_DIR: path.join(tmp, 'config'),
      FERRY_DATA_DIR: path.join(tmp, 'data'),
    };
    const keys = KeyStore.fromEnv(env);
    await keys.generate({ name: 'this side' });
    const usb = fakeUsb(path.join(tmp, 'media', 'FERRY-USB'));
    await writeTestBundle(path.join(usb.mountPoint, 'ferry'), {
      files: [
        {
          url: 'https://dl.k8s.io/release/v1.33.5/bin/linux/amd64/kubeadm',
          content: Buffer.from('kubeadm bytes\n'),
          key: 'kubeadm',
          arch: 'amd64',
        },
      ],
      kubespray: { version: 'v2.31.0', tarball: await release(), arches: ['amd64'] },
      signer: await keys.signer(),
    });
    // The bundle carries Ferry itself (a stand-in script: the tool kind's bytes are not run here;
    // test/integration/tools/carry.test.ts runs the real executable).
    const w = await BundleWriter.open(path.join(usb.mountPoint, 'ferry'));
    for (const platform of ['linux-x64', 'linux-arm64']) {
      await w.addBytes(toolPath(platform), '#!/bin/sh\necho ferry\n');
      await w.addArtifact(toolArtifact({ name: 'ferry', platform, version: '0.1.0' }));
    }
    await w.finalize({ signer: await keys.signer() });
    app = await openApp(browser, renderer.url, { env, drives: staticDriveSource([usb]) });
    const { page } = app;

    // Media → integrity → services, as the walk does, quickly.
    await page.getByRole('tab', { name: 'Offline side' }).click();
    await waitText(page, 'Signed · trusted', 30_000);
    await page.locator('.bundle-card').click();
    // The media step says the bundle carries Ferry, for which platforms, and how to run it.
    expect(await page.locator('.bundle-card').innerText()).toContain(
      'Carries Ferry 0.1.0 for linux-arm64, linux-x64',
    );
    const carried = page.getByRole('note', { name: 'Ferry on the deploy host' });
    expect(await carried.innerText()).toContain('This bundle carries Ferry 0.1.0 for linux-arm64, linux-x64');
    expect(await carried.getByLabel('Run Ferry from the bundle').innerText()).toContain(
      './tools/ferry-linux-x64 serve --bundle .',
    );
    await app.shot('8-offline-deploy-media');
    await page.getByRole('button', { name: 'Next: check integrity' }).click();
    await page.getByRole('button', { name: 'Start check' }).click();
    await waitText(page, 'Bundle verified', 60_000);
    await page.getByRole('button', { name: 'Next: services' }).click();
    const filesPort = await freePort();
    const registryPort = await freePort();
    await page.getByLabel('Listen address').selectOption('127.0.0.1');
    await page.getByLabel('Files port').fill(String(filesPort));
    await page.getByLabel('Registry port').fill(String(registryPort));
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await waitText(page, 'Serving', 60_000);
    await page.getByRole('heading', { name: 'offline.yml' }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Next: deploy' }).click();

    // Nodes: this machine twice, under two names.
    await page.getByLabel('Name of node 1').fill('node1');
    await page.getByLabel('Address of node 1').fill('local');
    await page.getByRole('button', { name: 'Add a node' }).click();
    await page.getByLabel('Name of node 2').fill('node2');
    await page.getByLabel('Address of node 2').fill('local');
    await page.getByLabel('Control plane on node 1').check();
    await page.getByLabel('etcd on node 1').check();
    await page.getByLabel('Worker on node 1').check();
    await page.getByLabel('Worker on node 2').check();
    // No sudo here, and the nodes are this machine as root.
    await page.getByLabel('Become root (sudo)').uncheck();
    await app.shot('8-offline-deploy-nodes');

    // Preflight only: every check named, each ok, and Ansible not started.
    await page.getByRole('button', { name: 'Check the nodes' }).click();
    await waitText(page, 'Every check passed.', 60_000);
    const checks = page.getByRole('list', { name: 'Preflight checks' });
    const listed = flat(await checks.innerText());
    for (const c of ['node1 · ssh', 'node1 · python', 'node1 · clock', 'node1 · disk', 'node2 · python'])
      expect(listed).toContain(`ok ${c}`);
    expect(listed).toMatch(/ok deploy host · files: files_repo http:\/\/127\.0\.0\.1:\d+ answers/);
    expect(listed).toMatch(/ok deploy host · registry: registry 127\.0\.0\.1:\d+ answers/);
    expect(await checks.locator('li', { hasText: 'failed' }).count()).toBe(0);
    await app.shot('8-offline-deploy-preflight');

    // Run 1: node2 fails its check; node1 finishes. The failure opens inline with the message.
    await fs.writeFile(path.join(ctl, 'fail'), '');
    await page.getByRole('button', { name: /^Run cluster\.yml/ }).click();
    const failures = page.getByRole('list', { name: 'Failures' });
    await failures.waitFor({ timeout: 120_000 });
    await page.getByLabel('Deploy result').waitFor({ timeout: 120_000 });
    const failure = failures.locator('li').first();
    expect(flat(await failure.innerText())).toContain('failed node2 · ferry_e2e : Check the node');
    // Open inline; its summary folds it away and opens it again, with the module's message.
    const details = failure.locator('details');
    expect(await details.getAttribute('open')).not.toBeNull();
    await failure.locator('summary').click();
    expect(await details.getAttribute('open')).toBeNull();
    await failure.locator('summary').click();
    expect(await details.getAttribute('open')).not.toBeNull();
    expect(await failure.locator('.failure-message').innerText()).toContain(
      `node2 refuses: ${ctl}/fail is there`,
    );
    const grid = page.getByRole('table', { name: 'Nodes' });
    expect(await grid.getByRole('row', { name: 'Node node2' }).innerText()).toContain('Failed');
    const node1 = await grid.getByRole('row', { name: 'Node node1' }).innerText();
    expect(node1).toContain('Done');
    // ok: ping, get_url (changed), check skipped, slow skipped, configure changed.
    expect(await grid.getByRole('row', { name: 'Node node1' }).getByLabel('changed').innerText()).toBe('2');
    expect(flat(await page.getByLabel('Deploy result').innerText())).toMatch(
      /Failed cluster\.yml stopped \(exit 2\)/,
    );
    expect(await page.getByLabel('Deploy result').innerText()).toContain('ansible.log');
    await app.shot('8-offline-deploy-failed');

    // Run 2: both nodes reach the slow step; the grid shows it as their task; Cancel stops it all.
    await fs.rm(path.join(ctl, 'fail'));
    await fs.writeFile(path.join(ctl, 'slow'), '');
    await page.getByRole('button', { name: 'Run cluster.yml again' }).click();
    await page.getByLabel('Current task').filter({ hasText: 'Slow step' }).waitFor({ timeout: 120_000 });
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('table[aria-label="Nodes"] tbody tr')].filter((r) =>
          r.textContent?.includes('Slow step'),
        ).length === 2,
      undefined,
      { timeout: 60_000 },
    );
    const deadline = Date.now() + 30_000;
    while (sleepers().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(sleepers().length).toBeGreaterThanOrEqual(2);
    await app.shot('8-offline-deploy-running');
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await waitText(page, 'Cancelled: Ansible was stopped', 60_000);
    // ansible-playbook and the sleeps it started are gone.
    const gone = Date.now() + 15_000;
    while (sleepers().length && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
    expect(sleepers()).toEqual([]);
    await app.shot('8-offline-deploy-cancelled');

    // Run 3: the rerun resumes (the playbook is idempotent) and finishes on both nodes.
    await fs.rm(path.join(ctl, 'slow'));
    await page.getByRole('button', { name: 'Run cluster.yml again' }).click();
    await page.getByLabel('Deploy result').filter({ hasText: 'Deployed' }).waitFor({ timeout: 120_000 });
    expect(await page.getByRole('list', { name: 'Failures' }).count()).toBe(0);
    for (const n of ['node1', 'node2'])
      expect(await grid.getByRole('row', { name: `Node ${n}` }).innerText()).toContain('Done');
    expect(await fs.readFile(path.join(ctl, 'kubeadm-node2'), 'utf8')).toBe('kubeadm bytes\n');
    await app.shot('8-offline-deploy-done');
  });
});
