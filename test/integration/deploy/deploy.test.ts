import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { create as tarCreate } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/main.js';
import { runPlaybook } from '../../../src-main/core/deploy/run.js';
import type { AnsibleEvent } from '../../../src-main/core/deploy/events.js';
import { writeTestBundle } from '../../helpers/oci-fixtures.js';
import { kubesprayDataDir, lacks, lacksCondition } from '../../helpers/tools.js';
import { freePort } from '../serve/tools.js';

/**
 * Stage 5 for real, without a cluster: the CI machine is the node (ansible_connection local, and
 * SSH to 127.0.0.1 with a key made here), ansible-playbook is Debian's ansible-core, and every
 * playbook is real Ansible run through Ferry's callback plugin.
 */

function capture() {
  const s = new PassThrough();
  let text = '';
  s.on('data', (c) => (text += c.toString()));
  return { stream: s, text: () => text };
}

async function until(cond: () => boolean | Promise<boolean>, ms = 30_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const missing =
  lacks('ansible-playbook', 'ansible-inventory', 'python3') ||
  lacksCondition(
    !existsSync(path.join(kubesprayDataDir, 'v2.31.0')),
    `Kubespray data in ${kubesprayDataDir}`,
  );
const PY = '/usr/bin/python3';

describe.skipIf(missing)('ferry deploy (stage 5)', () => {
  let tmp: string;
  const env = () => ({
    ...process.env,
    FERRY_CONFIG_DIR: path.join(tmp, 'config'),
    FERRY_DATA_DIR: path.join(tmp, 'data'),
  });

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-deploy-'));
  });
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('reports each host result of a real playbook: ok, changed, skipped, failed, unreachable', async () => {
    const dir = path.join(tmp, 'events');
    await fs.mkdir(dir, { recursive: true });
    const closed = await freePort(); // nothing listens there: ssh is refused at once
    await fs.writeFile(
      path.join(dir, 'hosts.yaml'),
      `all:\n  vars: {ansible_python_interpreter: ${PY}}\n  hosts:\n    h1: {ansible_connection: local}\n    h2: {ansible_connection: local}\n    h3: {ansible_host: 127.0.0.1, ansible_port: ${closed}, ansible_connection: ssh}\n`,
    );
    await fs.writeFile(
      path.join(dir, 'pb.yml'),
      `- hosts: all
  gather_facts: false
  tasks:
    - name: reach
      ansible.builtin.ping:
    - name: change on h1
      ansible.builtin.command: "true"
      changed_when: inventory_hostname == 'h1'
      when: inventory_hostname != 'h2'
    - name: fail on h2
      ansible.builtin.fail: {msg: boom on h2}
      when: inventory_hostname == 'h2'
    - name: after
      ansible.builtin.debug: {msg: after}
`,
    );
    const events: AnsibleEvent[] = [];
    const r = await runPlaybook({
      ansiblePlaybook: 'ansible-playbook',
      cwd: dir,
      inventory: 'hosts.yaml',
      playbook: 'pb.yml',
      pluginDir: path.join(dir, 'cb'),
      logFile: path.join(dir, 'ansible.log'),
      hosts: ['h1', 'h2', 'h3'],
      onEvent: (e) => events.push(e),
    });
    expect(r.badEvents).toBe(0);
    expect(r.exitCode).toBe(4); // ansible-playbook: some host unreachable
    const results = events.filter((e) => e.type === 'result');
    const got = (task: string) =>
      Object.fromEntries(results.filter((e) => e.name === task).map((e) => [e.host, e.status]));
    expect(got('reach')).toEqual({ h1: 'ok', h2: 'ok', h3: 'unreachable' });
    expect(got('change on h1')).toEqual({ h1: 'changed', h2: 'skipped' });
    expect(got('fail on h2')).toEqual({ h1: 'skipped', h2: 'failed' });
    expect(got('after')).toEqual({ h1: 'ok' });
    const unreachable = results.find((e) => e.status === 'unreachable')!;
    expect(unreachable.msg).toMatch(/Connection refused/);
    expect(results.find((e) => e.status === 'failed')!.msg).toBe('boom on h2');
    for (const e of results) expect(e.seconds).toBeGreaterThanOrEqual(0);
    // Tasks start in playbook order, each before its results.
    expect(events.filter((e) => e.type === 'task').map((e) => e.name)).toEqual([
      'reach',
      'change on h1',
      'fail on h2',
      'after',
    ]);
    const firstResult = events.findIndex((e) => e.type === 'result');
    expect(events.findIndex((e) => e.type === 'task')).toBeLessThan(firstResult);
    const stats = events.at(-1)!;
    expect(stats.type).toBe('stats');
    if (stats.type === 'stats') {
      expect(stats.hosts.h2.failures).toBe(1);
      expect(stats.hosts.h3.unreachable).toBe(1);
      expect(stats.hosts.h1.changed).toBe(1);
    }
    expect(r.state.failures.map((f) => [f.host, f.status])).toEqual([
      ['h3', 'unreachable'],
      ['h2', 'failed'],
    ]);
    // Ansible's own log is kept whole next to the inventory.
    expect(await fs.readFile(path.join(dir, 'ansible.log'), 'utf8')).toMatch(/PLAY RECAP/);
  }, 120_000);

  // A Kubespray-shaped release: ansible.cfg (with Kubespray's callbacks_enabled and
  // host_key_checking), cluster.yml importing a playbook, a role that uses offline.yml's
  // variables to fetch from Ferry's file server and registry like Kubespray's download role.
  async function bundleWithRelease(name: string, tasks: string): Promise<string> {
    const src = path.join(tmp, `${name}-src`, 'kubespray-2.31.0');
    await fs.mkdir(path.join(src, 'playbooks'), { recursive: true });
    // Kubespray's real roles data (defaults, vars) for the tag, so `ferry vars` reads the release.
    await fs.cp(path.join(kubesprayDataDir, 'v2.31.0', 'roles'), path.join(src, 'roles'), {
      recursive: true,
    });
    await fs.mkdir(path.join(src, 'roles', 'download_probe', 'tasks'), { recursive: true });
    await fs.writeFile(
      path.join(src, 'ansible.cfg'),
      '[defaults]\nhost_key_checking=False\ncallbacks_enabled = profile_tasks\nstdout_callback = default\nroles_path = roles\n',
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
      '- hosts: k8s_cluster\n  gather_facts: false\n  roles: [download_probe]\n',
    );
    await fs.writeFile(path.join(src, 'roles', 'download_probe', 'tasks', 'main.yml'), tasks);
    const tarball = path.join(tmp, `${name}.tar.gz`);
    await tarCreate({ gzip: true, file: tarball, cwd: path.dirname(src) }, ['kubespray-2.31.0']);
    const bundle = path.join(tmp, name);
    await writeTestBundle(bundle, {
      files: [
        {
          url: 'https://dl.k8s.io/release/v1.33.5/bin/linux/amd64/kubeadm',
          content: Buffer.from('kubeadm bytes\n'),
        },
      ],
      kubespray: { version: 'v2.31.0', tarball: await fs.readFile(tarball) },
    });
    return bundle;
  }

  async function serveAndVars(bundle: string) {
    const [fp, rp] = [await freePort(), await freePort()];
    const ac = new AbortController();
    const out = capture();
    const serving = runCli(
      [
        'serve',
        '--bundle',
        bundle,
        '--allow-unsigned',
        '--listen',
        '127.0.0.1',
        '--files-port',
        String(fp),
        '--registry-port',
        String(rp),
      ],
      { stdout: out.stream, stderr: capture().stream, env: env(), signal: ac.signal },
    );
    await until(() => out.text().includes('Press Ctrl-C'));
    const vars = path.join(tmp, `${path.basename(bundle)}-offline.yml`);
    const verr = capture();
    const code = await runCli(
      [
        'vars',
        '--bundle',
        bundle,
        '--allow-unsigned',
        '--hostname',
        '127.0.0.1',
        '--files-port',
        String(fp),
        '--registry-port',
        String(rp),
        '--skip-check',
        '-o',
        vars,
      ],
      { stdout: capture().stream, stderr: verr.stream, env: env(), signal: new AbortController().signal },
    );
    expect(code, verr.text()).toBe(0);
    return { vars, fp, rp, stop: async () => (ac.abort(), await serving) };
  }

  const DOWNLOAD_TASKS = `- name: files_repo and registry_host come from offline.yml
  ansible.builtin.assert:
    that: [files_repo is defined, registry_host is defined, kube_version is not defined or true]
- name: Download kubeadm from files_repo, checksummed
  ansible.builtin.get_url:
    url: "{{ files_repo }}/dl.k8s.io/release/v1.33.5/bin/linux/amd64/kubeadm"
    dest: "{{ probe_dir }}/kubeadm"
    checksum: "sha256:{{ lookup('pipe', 'printf \\"kubeadm bytes\\\\n\\" | sha256sum | cut -d\\" \\" -f1') }}"
- name: The registry answers the OCI API
  ansible.builtin.uri:
    url: "http://{{ registry_host }}/v2/"
`;

  it('runs a Kubespray-shaped release end to end: inventory, offline.yml, preflight, playbook', async () => {
    const bundle = await bundleWithRelease('ks', DOWNLOAD_TASKS);
    const s = await serveAndVars(bundle);
    const probeDir = path.join(tmp, 'probe');
    await fs.mkdir(probeDir, { recursive: true });
    const dir = path.join(tmp, 'deploy-ks');
    const out = capture();
    const err = capture();
    try {
      const code = await runCli(
        [
          'deploy',
          '--bundle',
          bundle,
          '--allow-unsigned',
          '--vars',
          s.vars,
          '--node',
          'node1=local',
          '--python',
          PY,
          '--dir',
          dir,
          '--min-free-gib',
          '0.01',
          '--json',
          '--',
          '-e',
          `probe_dir=${probeDir}`,
        ],
        { stdout: out.stream, stderr: err.stream, env: env(), signal: new AbortController().signal },
      );
      const lines = out
        .text()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const result = lines.at(-1);
      expect(result.type, err.text()).toBe('result');
      expect(result.ok, JSON.stringify(result.failures)).toBe(true);
      expect(code).toBe(0);
      // Preflight ran on the node and on Ferry's services before Ansible.
      const checks = lines.filter((l) => l.check).map((l) => `${l.node}:${l.check}:${l.ok}`);
      expect(checks).toEqual(
        expect.arrayContaining([
          'node1:ssh:true',
          'node1:python:true',
          'node1:clock:true',
          'node1:disk:true',
          'deploy host:files:true',
          'deploy host:registry:true',
        ]),
      );
      const tasks = lines
        .filter((l) => l.type === 'event' && l.event.type === 'task')
        .map((l) => l.event.name);
      expect(tasks).toContain('download_probe : Download kubeadm from files_repo, checksummed');
      const changed = lines.filter(
        (l) => l.type === 'event' && l.event.type === 'result' && l.event.status === 'changed',
      );
      expect(changed.map((l) => l.event.host)).toContain('node1');
      expect(await fs.readFile(path.join(probeDir, 'kubeadm'), 'utf8')).toBe('kubeadm bytes\n');
      // The deploy folder holds what a technician needs to rerun by hand.
      expect(await fs.readFile(path.join(dir, 'inventory', 'group_vars', 'all', 'offline.yml'), 'utf8')).toBe(
        await fs.readFile(s.vars, 'utf8'),
      );
      expect(await fs.readFile(path.join(dir, 'inventory', 'hosts.yaml'), 'utf8')).toMatch(
        /kube_control_plane:\n\s+hosts:\n\s+node1:/,
      );
      expect(await fs.readFile(path.join(dir, 'ansible.log'), 'utf8')).toMatch(
        /PLAY RECAP[\s\S]*node1 .*failed=0/,
      );

      // Plain lines without a terminal, and a rerun resumes (the same folder, Kubespray not unpacked again).
      const marker = await fs.stat(path.join(dir, 'kubespray', '.ferry-kubespray'));
      const plain = capture();
      const code2 = await runCli(
        [
          'deploy',
          '--bundle',
          bundle,
          '--allow-unsigned',
          '--vars',
          s.vars,
          '--node',
          'node1=local',
          '--python',
          PY,
          '--dir',
          dir,
          '--min-free-gib',
          '0.01',
          '--',
          '-e',
          `probe_dir=${probeDir}`,
        ],
        { stdout: capture().stream, stderr: plain.stream, env: env(), signal: new AbortController().signal },
      );
      expect(code2, plain.text()).toBe(0);
      expect(plain.text()).toMatch(/TASK download_probe : The registry answers the OCI API/);
      expect((await fs.stat(path.join(dir, 'kubespray', '.ferry-kubespray'))).mtimeMs).toBe(marker.mtimeMs);
    } finally {
      await s.stop();
    }
  }, 180_000);

  it('stops before Ansible when preflight fails, naming the node, the check and the fix', async () => {
    const bundle = await bundleWithRelease('pf', DOWNLOAD_TASKS);
    const vars = path.join(tmp, 'dead-offline.yml');
    const dead = await freePort();
    await fs.writeFile(vars, `files_repo: "http://127.0.0.1:${dead}"\nregistry_host: "127.0.0.1:${dead}"\n`);
    const dir = path.join(tmp, 'deploy-pf');
    const err = capture();
    const code = await runCli(
      [
        'deploy',
        '--bundle',
        bundle,
        '--allow-unsigned',
        '--vars',
        vars,
        '--node',
        'node1=local',
        '--python',
        PY,
        '--dir',
        dir,
        '--min-free-gib',
        '1000000',
      ],
      { stdout: capture().stream, stderr: err.stream, env: env(), signal: new AbortController().signal },
    );
    expect(code).toBe(3);
    expect(err.text()).toMatch(/FAIL node1: disk: .* GiB free on \/var, under the 1000000 GiB/);
    expect(err.text()).toMatch(
      /FAIL deploy host: files: files_repo http:\/\/127\.0\.0\.1:\d+ does not answer \(ECONNREFUSED\)/,
    );
    expect(err.text()).toMatch(/fix: Start ferry serve/);
    await expect(fs.stat(path.join(dir, 'ansible.log'))).rejects.toThrow(); // Ansible never started
  }, 120_000);

  it('refuses a playbook outside the release and names the ones it has', async () => {
    const bundle = await bundleWithRelease('pb', DOWNLOAD_TASKS);
    const vars = path.join(tmp, 'pb-offline.yml');
    await fs.writeFile(vars, 'files_repo: "http://127.0.0.1:1"\n');
    for (const [pb, re] of [
      ['../../../etc/passwd', /not part of the Kubespray release/],
      ['upgrade.yml', /no playbook upgrade\.yml[\s\S]*cluster\.yml, reset\.yml/],
    ] as const) {
      const err = capture();
      const code = await runCli(
        [
          'deploy',
          '--bundle',
          bundle,
          '--allow-unsigned',
          '--vars',
          vars,
          '--node',
          'node1=local',
          '--dir',
          path.join(tmp, 'deploy-pb'),
          '--playbook',
          pb,
          '--skip-preflight',
        ],
        { stdout: capture().stream, stderr: err.stream, env: env(), signal: new AbortController().signal },
      );
      expect(code).not.toBe(0);
      expect(err.text()).toMatch(re);
    }
  }, 60_000);

  it('cancel stops ansible-playbook and everything it started', async () => {
    const marker = `ferry-deploy-cancel-${process.pid}-${Date.now()}`;
    const bundle = await bundleWithRelease(
      'cancel',
      `- name: a long task\n  ansible.builtin.command: ${PY} -c "import time; time.sleep(300)" ${marker}\n`,
    );
    const vars = path.join(tmp, 'cancel-offline.yml');
    await fs.writeFile(vars, 'files_repo: "http://127.0.0.1:1"\n');
    const ac = new AbortController();
    const out = capture();
    const running = runCli(
      [
        'deploy',
        '--bundle',
        bundle,
        '--allow-unsigned',
        '--vars',
        vars,
        '--node',
        'node1=local',
        '--python',
        PY,
        '--dir',
        path.join(tmp, 'deploy-cancel'),
        '--skip-preflight',
        '--json',
      ],
      { stdout: out.stream, stderr: capture().stream, env: env(), signal: ac.signal },
    );
    const pgrep = () => {
      try {
        return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim();
      } catch {
        return '';
      }
    };
    await until(() => pgrep() !== '', 60_000);
    expect(out.text()).toContain('a long task');
    const t0 = Date.now();
    ac.abort();
    const code = await running;
    expect(code).not.toBe(0);
    expect(Date.now() - t0).toBeLessThan(15_000);
    await until(() => pgrep() === '', 10_000);
    expect(
      execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.includes('deploy-cancel') && l.includes('ansible')),
    ).toEqual([]);
  }, 120_000);

  // sshd lives in /usr/sbin, which a non-login PATH may lack; the absolute path is what runs.
  const SSHD = existsSync('/usr/sbin/sshd') ? '/usr/sbin/sshd' : 'sshd';
  describe.skipIf(
    lacks(SSHD, 'ssh', 'ssh-keygen') ||
      lacksCondition(process.getuid?.() !== 0, 'root (sshd on a test port)'),
  )('over SSH to 127.0.0.1', () => {
    let sshd: ReturnType<typeof spawn> | undefined;
    let port = 0;
    let key = '';
    let known = '';
    beforeAll(async () => {
      const d = path.join(tmp, 'sshd');
      await fs.mkdir(d, { recursive: true });
      key = path.join(d, 'id');
      known = path.join(d, 'known_hosts');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(d, 'hostkey')]);
      await fs.copyFile(`${key}.pub`, path.join(d, 'authorized_keys'));
      port = await freePort();
      await fs.writeFile(
        path.join(d, 'sshd_config'),
        [
          `Port ${port}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${path.join(d, 'hostkey')}`,
          `AuthorizedKeysFile ${path.join(d, 'authorized_keys')}`,
          'PermitRootLogin prohibit-password',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'StrictModes no',
          'UsePAM no',
          `PidFile ${path.join(d, 'sshd.pid')}`,
        ].join('\n') + '\n',
      );
      await fs.mkdir('/run/sshd', { recursive: true });
      sshd = spawn(SSHD, ['-D', '-e', '-f', path.join(d, 'sshd_config')], { stdio: 'ignore' });
      const net = await import('node:net');
      await until(
        () =>
          new Promise<boolean>((resolve) => {
            const c = net.connect(port, '127.0.0.1', () => (c.destroy(), resolve(true)));
            c.on('error', () => resolve(false));
          }),
        15_000,
      );
    });
    afterAll(() => {
      sshd?.kill();
    });

    it('checks the node over SSH with the key, then runs the playbook over SSH', async () => {
      const bundle = await bundleWithRelease('ssh', '- name: who\n  ansible.builtin.command: id -un\n');
      const vars = path.join(tmp, 'ssh-offline.yml');
      await fs.writeFile(vars, '# no services to probe in this test\n{}\n');
      const inv = path.join(tmp, 'ssh-inventory');
      await fs.mkdir(inv, { recursive: true });
      await fs.writeFile(
        path.join(inv, 'hosts.yaml'),
        `all:\n  vars: {ansible_python_interpreter: ${PY}}\n  hosts:\n    n1: {ansible_host: 127.0.0.1, ansible_port: ${port}}\n  children:\n    k8s_cluster: {hosts: {n1: }}\n`,
      );
      const out = capture();
      const code = await runCli(
        [
          'deploy',
          '--bundle',
          bundle,
          '--allow-unsigned',
          '--vars',
          vars,
          '--inventory',
          inv,
          '--ssh-user',
          'root',
          '--ssh-key',
          key,
          '--ssh-option',
          `UserKnownHostsFile=${known}`,
          '--dir',
          path.join(tmp, 'deploy-ssh'),
          '--min-free-gib',
          '0.01',
          '--json',
        ],
        { stdout: out.stream, stderr: capture().stream, env: env(), signal: new AbortController().signal },
      );
      const lines = out
        .text()
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{"'))
        .map((l) => JSON.parse(l));
      expect(
        lines.find((l) => l.check === 'ssh'),
        out.text(),
      ).toMatchObject({ node: 'n1', ok: true, detail: `ssh root@127.0.0.1 works` });
      expect(code, JSON.stringify(lines.at(-1))).toBe(0);
      expect(
        lines.some(
          (l) =>
            l.type === 'event' &&
            l.event.type === 'result' &&
            l.event.host === 'n1' &&
            l.event.status === 'changed',
        ),
      ).toBe(true);
      // Kubespray's ansible.cfg turns host key checking off, so the preflight did too, and the key was recorded.
      expect(await fs.readFile(known, 'utf8')).toMatch(/ssh-ed25519/);
    }, 120_000);

    it('names the node and the fix when the key is refused', async () => {
      const bundle = await bundleWithRelease('sshbad', '- ansible.builtin.ping:\n');
      const vars = path.join(tmp, 'sshbad-offline.yml');
      await fs.writeFile(vars, '{}\n');
      const other = path.join(tmp, 'sshd', 'other');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
      const inv = path.join(tmp, 'sshbad-inventory');
      await fs.mkdir(inv, { recursive: true });
      await fs.writeFile(
        path.join(inv, 'hosts.yaml'),
        `all:\n  hosts:\n    n9: {ansible_host: 127.0.0.1, ansible_port: ${port}}\n`,
      );
      const err = capture();
      const code = await runCli(
        [
          'deploy',
          '--bundle',
          bundle,
          '--allow-unsigned',
          '--vars',
          vars,
          '--inventory',
          inv,
          '--ssh-user',
          'root',
          '--ssh-key',
          other,
          '--ssh-option',
          `UserKnownHostsFile=${known}`,
          '--dir',
          path.join(tmp, 'deploy-sshbad'),
        ],
        { stdout: capture().stream, stderr: err.stream, env: env(), signal: new AbortController().signal },
      );
      expect(code).toBe(3);
      expect(err.text()).toMatch(/FAIL n9: ssh: ssh root@127\.0\.0\.1:\d+: .*Permission denied/);
      expect(err.text()).toMatch(/fix: Give a key the node accepts/);
    }, 60_000);
  });
});
