import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyStore } from '../../../src-main/core/bundle/keys/index.js';
import { tarballCachePath } from '../../../src-main/core/fetch/tarball.js';
import { importBundle } from '../../../src-main/core/media/import/index.js';
import { storeSources } from '../../../src-main/core/media/store/index.js';
import { lacksDebianWheels } from '../../helpers/debian-wheels.js';
import { makeKeyStore, tempDir } from '../../helpers/bundle-fixtures.js';
import { ferryProcess } from '../../helpers/cli-process.js';
import {
  ANSIBLE,
  ANSIBLE_CORE,
  kubesprayWheels,
  type KubesprayWheels,
} from '../../helpers/kubespray-wheels.js';
import { startPypi, type PypiServer } from '../../helpers/pypi-server.js';
import { kubesprayDataDir, lacksCondition, repoRoot } from '../../helpers/tools.js';
import { freshVenv, isolatedPipEnv } from '../../helpers/wheel-bundle.js';
import { freePort } from '../serve/tools.js';

const run = promisify(execFile);

/**
 * Issue 15's acceptance, end to end and as processes: Kubespray v2.31.0's REAL requirements.txt
 * resolved by `ferry plan` against a loopback PyPI, `ferry fetch` into a bundle, `ferry serve`,
 * then Debian 12's own pip 23.0.1 in a fresh venv installing with --require-hashes from Ferry's
 * `/simple/`, and Ansible running from that venv with no network; `ferry venv` from the same
 * bundle checks the ansible-core the tag's pin implies.
 *
 * The loopback PyPI carries the published versions of Kubespray's pins (ansible 11.13.0 →
 * ansible-core ~=2.18.12, cryptography 46.0.7 → cffi ≥ 2.0.0, …) but the code in those wheels is
 * Debian 12's (ansible-core 2.14 relabelled 2.18.12, its release.py included): a test fixture
 * (test/helpers/kubespray-wheels.ts), the only way to run real Ansible offline from what pip
 * installed when PyPI cannot be reached.
 */
const TAG = 'v2.31.0';
const KS = path.join(kubesprayDataDir, TAG);

const canUnshare = (() => {
  try {
    execFileSync('/usr/bin/unshare', ['-n', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
/** With no network at all (an empty network namespace) when the kernel allows one. */
const offline = (cmd: string, args: string[]): [string, string[]] =>
  canUnshare ? ['/usr/bin/unshare', ['-n', cmd, ...args]] : [cmd, args];

const missing =
  lacksDebianWheels() ||
  lacksCondition(!fs.existsSync(path.join(KS, 'requirements.txt')), `${KS}/requirements.txt`);

describe.skipIf(missing)('Kubespray v2.31.0’s requirements: plan → fetch → serve → pip → ansible', () => {
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  let ks: KubesprayWheels;
  let pypi: PypiServer;
  let tarball: string;
  let bundle: string;
  let serve: ChildProcess | undefined;

  beforeAll(async () => {
    tmp = await tempDir('ferry-ks-chain-');
    const keys = await makeKeyStore('connected');
    env = {
      HOME: tmp,
      PATH: process.env.PATH,
      FERRY_CONFIG_DIR: keys.env.FERRY_CONFIG_DIR,
      FERRY_DATA_DIR: path.join(tmp, 'data'),
      NO_PROXY: '*',
    };
    ks = await kubesprayWheels(path.join(tmp, 'wheels'));
    pypi = await startPypi(ks.projects);
    // The release tarball as GitHub lays it out, with the real requirements.txt at its top.
    tarball = path.join(tmp, `kubespray-${TAG}.tar.gz`);
    execFileSync('tar', [
      'czf',
      tarball,
      '--transform',
      `s,^,kubespray-${TAG.slice(1)}/,`,
      '-C',
      KS,
      'roles',
      'requirements.txt',
    ]);
    bundle = path.join(tmp, 'bundle');
  }, 180_000);
  afterAll(async () => {
    if (serve && serve.exitCode === null) serve.kill('SIGKILL');
    await pypi?.close();
    if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('plan resolves the real requirements.txt for Python 3.11 against the loopback PyPI', async () => {
    const p = await ferryProcess(
      [
        'plan',
        '--kubespray',
        tarball,
        '--python',
        '3.11',
        '--glibc',
        '2.36',
        '--pip-index',
        pypi.index,
        '--offline',
        '--json',
      ],
      env,
    );
    expect(p.code, p.err).toBe(0);
    const plan = JSON.parse(p.out);
    expect(plan.kubespray).toBe(TAG);
    const set = plan.python[0];
    expect(set.target).toEqual({ python: '3.11', arch: 'x86_64', glibc: '2.36' });
    expect(set.requirements.map((r: { line: string }) => r.line)).toEqual(
      fs
        .readFileSync(path.join(KS, 'requirements.txt'), 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#')),
    );
    const chosen = Object.fromEntries(
      set.wheels.map((w: { project: string; version: string }) => [w.project, w.version]),
    );
    expect(chosen).toEqual(Object.fromEntries(ks.wheels.map((w) => [w.project, w.version])));
    expect(chosen.ansible).toBe(ANSIBLE);
    expect(chosen['ansible-core']).toBe(ANSIBLE_CORE);
    // typing-extensions is required by cryptography only below Python 3.11.
    expect(chosen['typing-extensions']).toBeUndefined();

    // Only the deploy host's Python is fetched here: the cluster's files and images are left out
    // of the plan (as unticked in the app), since their hosts are not mirrored in this test.
    for (const f of plan.files) f.enabled = false;
    for (const i of plan.images) i.enabled = false;
    const planFile = path.join(tmp, 'plan.json');
    await fsp.writeFile(planFile, JSON.stringify(plan));
    // The tarball plan read stands in for the download fetch makes of the tag (its cache).
    const cached = tarballCachePath(TAG, env);
    await fsp.mkdir(path.dirname(cached), { recursive: true });
    await fsp.copyFile(tarball, cached);

    const f = await ferryProcess(['fetch', '--no-tools', '--plan', planFile, '--out', bundle, '--json'], env);
    expect(f.code, f.err + f.out.slice(-4000)).toBe(0);
    for (const w of ks.wheels) {
      const bytes = await fsp.readFile(path.join(bundle, 'python', 'files', w.filename));
      expect(bytes.equals(await fsp.readFile(w.file)), w.filename).toBe(true);
    }
    const manifest = JSON.parse(await fsp.readFile(path.join(bundle, 'manifest.json'), 'utf8'));
    const wheelIds = manifest.artifacts
      .filter((a: { kind: string }) => a.kind === 'wheel')
      .map((a: { id: string }) => a.id)
      .sort();
    expect(wheelIds).toEqual(ks.wheels.map((w) => `wheel:${w.filename}`).sort());
    // The static PEP 503 copy, one signed `repo` artifact (format pypi) like the rest.
    const repo = manifest.artifacts.find((a: { id: string }) => a.id === 'repo:pypi');
    const projects = [...new Set(ks.wheels.map((w) => w.project))].sort();
    expect(repo).toEqual({
      id: 'repo:pypi',
      kind: 'repo',
      format: 'pypi',
      paths: ['python/simple/index.html', ...projects.map((p) => `python/simple/${p}/index.html`)],
      sources: [{ uri: pypi.index }],
    });
    const v = await ferryProcess(['verify', bundle], env);
    expect(v.code, v.err + v.out).toBe(0);
    // Fetched again with the same plan: up to date, nothing downloaded.
    const again = await ferryProcess(
      ['fetch', '--no-tools', '--plan', planFile, '--out', bundle, '--json'],
      env,
    );
    expect(again.code, again.err).toBe(0);
    const statuses = again.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'item')
      .map((l) => l.item.status);
    expect(statuses.length).toBeGreaterThan(0);
    expect(
      statuses.every((x: string) => x === 'present'),
      statuses.join(','),
    ).toBe(true);
  }, 300_000);

  it('Debian’s pip 23.0.1 installs from ferry serve with --require-hashes, and Ansible runs offline', async () => {
    const fp = await freePort();
    const rp = await freePort();
    serve = spawn(
      process.execPath,
      [
        path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs'),
        'src-main/cli/main.ts',
        'serve',
        '--bundle',
        bundle,
        '--listen',
        '127.0.0.1',
        '--hostname',
        '127.0.0.1',
        '--files-port',
        String(fp),
        '--registry-port',
        String(rp),
      ],
      { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let said = '';
    serve.stdout!.on('data', (d) => (said += d));
    serve.stderr!.on('data', (d) => (said += d));
    for (let i = 0; i < 600 && !said.includes('Press Ctrl-C') && serve.exitCode === null; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(said).toContain(`http://127.0.0.1:${fp}/simple/`);
    try {
      const base = `http://127.0.0.1:${fp}`;
      const requirements = await (await fetch(`${base}/python/requirements.txt`)).text();
      for (const w of ks.wheels)
        expect(requirements).toContain(`${w.project}==${w.version} \\\n    --hash=sha256:${w.sha256}`);
      const reqFile = path.join(tmp, 'requirements.txt');
      await fsp.writeFile(reqFile, requirements);

      const bin = await freshVenv(path.join(tmp, 'venv'));
      // From here on the loopback PyPI is not asked for anything: pip has only Ferry's index.
      const upstreamAsked = pypi.requests.length;
      expect((await run(path.join(bin, 'pip'), ['--version'])).stdout).toMatch(/^pip 23\.0\.1 /);
      const pip = await run(
        path.join(bin, 'pip'),
        [
          'install',
          '--index-url',
          `${base}/simple/`,
          '--require-hashes',
          '--only-binary=:all:',
          '-r',
          reqFile,
        ],
        { env: isolatedPipEnv(), maxBuffer: 1 << 24 },
      ).then(
        (x) => ({ code: 0, out: x.stdout + x.stderr }),
        (e: { code?: number; stdout?: string; stderr?: string }) => ({
          code: e.code ?? 1,
          out: `${e.stdout ?? ''}${e.stderr ?? ''}`,
        }),
      );
      expect(pip.code, pip.out).toBe(0);
      expect(pypi.requests.length).toBe(upstreamAsked);
      const freeze = (await run(path.join(bin, 'pip'), ['freeze'], { env: isolatedPipEnv() })).stdout;
      for (const w of ks.wheels) expect(freeze.toLowerCase()).toContain(`${w.project}==${w.version}`);

      const aenv = {
        ...isolatedPipEnv(),
        ANSIBLE_LOCALHOST_WARNING: 'false',
        ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false',
      };
      const version = await run(...offline(path.join(bin, 'ansible-playbook'), ['--version']), { env: aenv });
      expect(version.stdout.split('\n')[0]).toBe(`ansible-playbook [core ${ANSIBLE_CORE}]`);
      expect(version.stdout).toContain(`ansible python module location = ${path.join(tmp, 'venv')}`);
      const ping = await run(
        ...offline(path.join(bin, 'ansible'), ['-m', 'ping', 'localhost', '-c', 'local']),
        {
          env: aenv,
        },
      );
      expect(ping.stdout).toMatch(/localhost \| SUCCESS/);
      expect(ping.stdout).toContain('"ping": "pong"');

      // A small real playbook: a Jinja filter chain and a template (jinja2, markupsafe), and
      // Kubespray's own pins jmespath and netaddr imported by the venv's Python.
      const out = path.join(tmp, 'play-out.txt');
      const play = path.join(tmp, 'play.yml');
      await fsp.writeFile(
        play,
        [
          '- hosts: localhost',
          '  connection: local',
          '  gather_facts: false',
          '  vars:',
          '    nodes: [{name: cp1, ip: 10.0.0.11}, {name: w1, ip: 10.0.0.21}]',
          '  tasks:',
          '    - set_fact:',
          '        names: "{{ nodes | map(attribute=\'name\') | list }}"',
          '    - copy:',
          `        dest: ${out}`,
          '        content: "{% for n in names %}{{ n | upper }}\\n{% endfor %}"',
          `    - command: ${path.join(bin, 'python')} -c "import jmespath, netaddr; print(jmespath.search('[0]', [netaddr.IPNetwork('10.0.0.0/24').size]))"`,
          '      register: size',
          '    - assert:',
          '        that: size.stdout == "256"',
        ].join('\n') + '\n',
      );
      const pb = await run(...offline(path.join(bin, 'ansible-playbook'), ['-i', 'localhost,', play]), {
        env: aenv,
      });
      expect(pb.stdout).toMatch(/localhost\s+: ok=4\s+changed=2\s+unreachable=0\s+failed=0/);
      expect(await fsp.readFile(out, 'utf8')).toBe('CP1\nW1\n');
    } finally {
      serve.kill('SIGINT');
      await new Promise((r) => (serve!.exitCode === null ? serve!.once('close', r) : r(undefined)));
    }
  }, 300_000);

  it('the bundle’s static python/simple/ works from a plain web server with pip 23.0.1, and a changed page is named by verify', async () => {
    const port = await freePort();
    const web = spawn(
      '/usr/bin/python3',
      ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '-d', bundle],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    try {
      const base = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 100; i++) {
        if (
          await fetch(`${base}/python/simple/`).then(
            (r) => r.ok,
            () => false,
          )
        )
          break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const page = await (await fetch(`${base}/python/simple/jinja2/`)).text();
      const jinja = ks.wheels.find((w) => w.project === 'jinja2')!;
      expect(page).toContain(`href="../../files/${jinja.filename}#sha256=${jinja.sha256}"`);
      expect(page).toContain('data-core-metadata="sha256=');
      expect(page).not.toContain('data-dist-info-metadata');

      const reqFile = path.join(tmp, 'requirements.txt');
      const bin = await freshVenv(path.join(tmp, 'venv-static'));
      const pip = await run(
        path.join(bin, 'pip'),
        [
          'install',
          '--index-url',
          `${base}/python/simple/`,
          '--require-hashes',
          '--only-binary=:all:',
          '-r',
          reqFile,
        ],
        { env: isolatedPipEnv(), maxBuffer: 1 << 24 },
      ).then(
        (x) => ({ code: 0, out: x.stdout + x.stderr }),
        (e: { code?: number; stdout?: string; stderr?: string }) => ({
          code: e.code ?? 1,
          out: `${e.stdout ?? ''}${e.stderr ?? ''}`,
        }),
      );
      expect(pip.code, pip.out).toBe(0);
      const version = await run(...offline(path.join(bin, 'ansible-playbook'), ['--version']), {
        env: isolatedPipEnv(),
      });
      expect(version.stdout.split('\n')[0]).toBe(`ansible-playbook [core ${ANSIBLE_CORE}]`);
    } finally {
      web.kill('SIGTERM');
    }

    // A page changed after signing: verify names the repository artifact, nothing else.
    const copy = path.join(tmp, 'bundle-changed');
    await fsp.cp(bundle, copy, { recursive: true });
    const f = path.join(copy, 'python', 'simple', 'jinja2', 'index.html');
    await fsp.writeFile(
      f,
      (await fsp.readFile(f, 'utf8')).replace(/sha256=[0-9a-f]{64}/, `sha256=${'0'.repeat(64)}`),
    );
    const v = await ferryProcess(['verify', copy, '--json'], env);
    expect(v.code).not.toBe(0);
    const report = JSON.parse(v.out);
    const bad = (report.artifacts as Array<{ id: string; status: string }>).filter((a) => a.status !== 'ok');
    expect(bad.map((a) => [a.id, a.status])).toEqual([['repo:pypi', 'damaged']]);

    // Imported into a store, the static pages come along like every other verified file.
    const store = path.join(tmp, 'store');
    await importBundle(bundle, { store, keyStore: KeyStore.fromEnv(env) });
    const sources = await storeSources(store);
    for (const p of ['python/simple/index.html', 'python/simple/jinja2/index.html']) {
      const blob = sources[0].filePath(p);
      expect(blob, p).toBeTruthy();
      expect((await fsp.readFile(blob!)).equals(await fsp.readFile(path.join(bundle, p)))).toBe(true);
    }
  }, 300_000);

  it('ferry venv makes the venv from the bundle with no network and checks the ansible-core the tag requires', async () => {
    const dir = path.join(tmp, 'ferry-venv');
    const r = await run(
      ...offline(process.execPath, [
        path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs'),
        path.join(repoRoot, 'src-main/cli/main.ts'),
        'venv',
        '--bundle',
        bundle,
        '--dir',
        dir,
        '--python',
        '/usr/bin/python3',
        '--json',
      ]),
      { env, cwd: repoRoot, maxBuffer: 1 << 24 },
    ).then(
      (x) => ({ code: 0, out: x.stdout, err: x.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        out: e.stdout,
        err: e.stderr,
      }),
    );
    expect(r.code, r.err + r.out).toBe(0);
    const res = JSON.parse(r.out);
    expect(res.pip).toBe('23.0.1');
    expect(res.installed.map((w: { filename: string }) => w.filename).sort()).toEqual(
      ks.wheels.map((w) => w.filename).sort(),
    );
    expect(res.ansibleCore).toEqual({
      expected: ANSIBLE_CORE,
      reported: ANSIBLE_CORE,
      requiredBy: `Kubespray ${TAG}: ansible==${ANSIBLE} → ansible-core ~=${ANSIBLE_CORE}`,
    });
  }, 300_000);
});
