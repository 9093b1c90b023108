import { execFile, execFileSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { create as tarCreate } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/main.js';
import { importBundle } from '../../../src-main/core/media/import/index.js';
import { storeSources } from '../../../src-main/core/media/store/index.js';
import { createVenv } from '../../../src-main/core/kinds/python/venv.js';
import { KeyStore } from '../../../src-main/core/bundle/keys/index.js';
import { debianWheels, lacksDebianWheels, type BuiltWheel } from '../../helpers/debian-wheels.js';
import { makeKeyStore, tempDir } from '../../helpers/bundle-fixtures.js';
import { makeWheelBundle } from '../../helpers/wheel-bundle.js';
import { kubesprayDataDir } from '../../helpers/tools.js';

const run = promisify(execFile);

function capture() {
  const s = new PassThrough();
  let text = '';
  s.on('data', (c) => (text += c.toString()));
  return { stream: s, text: () => text };
}

async function cli(argv: string[], env: NodeJS.ProcessEnv) {
  const out = capture();
  const err = capture();
  const code = await runCli(argv, {
    stdout: out.stream,
    stderr: err.stream,
    env,
    signal: new AbortController().signal,
  });
  return { code, out: out.text(), err: err.text() };
}

/** No network namespace where the kernel allows one: the venv is made and used with no network. */
const canUnshare = (() => {
  try {
    execFileSync('/usr/bin/unshare', ['-n', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(lacksDebianWheels())('ferry venv: the offline virtualenv from the bundle’s wheels', () => {
  let tmp: string;
  let wheels: BuiltWheel[];
  let env: NodeJS.ProcessEnv;
  let bundle: string;
  let core: BuiltWheel;

  beforeAll(async () => {
    tmp = await tempDir('ferry-venv-');
    wheels = await debianWheels();
    core = wheels.find((w) => w.project === 'ansible-core')!;
    const keys = await makeKeyStore('connected');
    env = { ...keys.env, FERRY_DATA_DIR: path.join(tmp, 'data') };
    // A Kubespray-shaped release whose cluster.yml reports which Ansible runs it.
    const src = path.join(tmp, 'ks-src', 'kubespray-2.31.0');
    await fsp.mkdir(src, { recursive: true });
    await fsp.writeFile(path.join(src, 'ansible.cfg'), '[defaults]\nhost_key_checking=False\n');
    // Kubespray's pin of the community package, whose Requires-Dist names the ansible-core.
    await fsp.writeFile(
      path.join(src, 'requirements.txt'),
      'ansible==7.3.0\njmespath==1.0.1\nnetaddr==0.8.0\n',
    );
    await fsp.writeFile(
      path.join(src, 'cluster.yml'),
      [
        '- hosts: all',
        '  gather_facts: false',
        '  tasks:',
        '    - name: report the controller',
        '      ansible.builtin.copy:',
        '        dest: "{{ probe }}"',
        '        content: "{{ ansible_playbook_python }} {{ ansible_version.full }}\\n"',
        '      delegate_to: localhost',
      ].join('\n') + '\n',
    );
    const tarball = path.join(tmp, 'ks.tar.gz');
    await tarCreate({ gzip: true, file: tarball, cwd: path.dirname(src) }, ['kubespray-2.31.0']);
    bundle = path.join(tmp, 'bundle');
    await makeWheelBundle(bundle, wheels, {
      signer: await keys.store.signer(),
      kubespray: 'v2.31.0',
      kubesprayTarball: await fsp.readFile(tarball),
    });
  }, 120_000);
  afterAll(async () => {
    if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('makes the venv with --no-index --require-hashes and checks ansible-core against the bundle and ansible’s pin', async () => {
    const dir = path.join(tmp, 'venv');
    const argv = ['venv', '--bundle', bundle, '--dir', dir, '--python', '/usr/bin/python3', '--json'];
    // With no network at all (a fresh network namespace) when the kernel lets us: nothing to reach.
    const r = canUnshare
      ? await run(
          '/usr/bin/unshare',
          ['-n', process.execPath, '--import', 'tsx', path.resolve('bin/ferry.mjs'), ...argv],
          { env, maxBuffer: 1 << 24 },
        ).then(
          (x) => ({ code: 0, out: x.stdout, err: x.stderr }),
          (e: { code: number; stdout: string; stderr: string }) => ({
            code: e.code,
            out: e.stdout,
            err: e.stderr,
          }),
        )
      : await cli(argv, env);
    expect(r.code, r.err + r.out).toBe(0);
    const res = JSON.parse(r.out);
    expect(res.reused).toBe(false);
    expect(res.pip).toBe('23.0.1');
    expect(res.python.version).toMatch(/^3\.11\./);
    expect(res.installed.map((w: { filename: string }) => w.filename).sort()).toEqual(
      wheels.map((w) => w.filename).sort(),
    );
    expect(res.skipped).toEqual([]);
    expect(res.ansibleCore).toEqual({
      expected: core.version,
      reported: core.version,
      requiredBy: 'Kubespray v2.31.0: ansible==7.3.0 → ansible-core ~=2.14.3',
    });
    expect(res.ansiblePlaybook).toBe(path.join(dir, 'bin', 'ansible-playbook'));
    // The hashes pip was held to are the bundle's.
    const req = await fsp.readFile(res.requirementsFile, 'utf8');
    for (const w of wheels)
      expect(req).toContain(`${w.project}==${w.version} \\\n    --hash=sha256:${w.sha256}`);
    const freeze = (
      await run(path.join(dir, 'bin', 'pip'), ['freeze'], { env: { PIP_CONFIG_FILE: '/dev/null' } })
    ).stdout;
    expect(freeze).toContain(`ansible-core==${core.version}`);
    expect(freeze).toContain('cryptography==38.0.4');

    // A rerun with the same bundle reuses the venv after checking it.
    const again = await cli([...argv.slice(0, -1)], env);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toMatch(new RegExp(`^Reused ${dir}: Python 3\\.11\\.\\d+, pip 23\\.0\\.1, 13 wheels`));
    expect(again.out).toContain(
      `ansible-playbook [core ${core.version}], as the bundle carries (Kubespray v2.31.0: ansible==7.3.0 → ansible-core ~=2.14.3).`,
    );
  }, 240_000);

  it('makes it from the store after import, and refuses a stored wheel changed since', async () => {
    const store = path.join(tmp, 'store');
    await importBundle(bundle, { store, keyStore: KeyStore.fromEnv(env) });
    const r = await cli(
      ['venv', '--store', store, '--dir', path.join(tmp, 'venv-store'), '--python', '/usr/bin/python3'],
      env,
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`ansible-playbook [core ${core.version}], as the bundle carries`);
    // The store holds verified blobs; one changed under it is caught while copied out for pip.
    const sources = await storeSources(store);
    const nx = wheels.find((w) => w.project === 'netaddr')!;
    const blob = sources[0].filePath(`python/files/${nx.filename}`)!;
    const bytes = await fsp.readFile(blob);
    bytes[100] ^= 1;
    await fsp.chmod(blob, 0o644).catch(() => undefined);
    await fsp.writeFile(blob, bytes);
    await expect(
      createVenv({ sources, dir: path.join(tmp, 'venv-store-2'), python: '/usr/bin/python3' }),
    ).rejects.toThrow(`${nx.filename} changed since it was verified`);
  }, 240_000);

  it('names python3.11-venv when the Python has no venv/ensurepip (Debian without python3-venv)', async () => {
    // A python3 whose ensurepip cannot be imported, as on Debian without python3-venv (which ships it).
    const shadow = path.join(tmp, 'no-ensurepip');
    await fsp.mkdir(path.join(shadow, 'ensurepip'), { recursive: true });
    await fsp.writeFile(path.join(shadow, 'ensurepip', '__init__.py'), 'raise ImportError("no ensurepip")\n');
    const py = path.join(tmp, 'python3-novenv');
    await fsp.writeFile(py, `#!/bin/sh\nPYTHONPATH=${shadow} exec /usr/bin/python3 "$@"\n`, { mode: 0o755 });
    const r = await cli(['venv', '--bundle', bundle, '--dir', path.join(tmp, 'v2'), '--python', py], env);
    expect(r.code).toBe(3);
    expect(r.err).toContain('has no venv/ensurepip module');
    const osRelease = await fsp.readFile('/etc/os-release', 'utf8').catch(() => '');
    if (/^ID=debian$/m.test(osRelease)) expect(r.err).toContain('apt install python3.11-venv');
    await expect(fsp.stat(path.join(tmp, 'v2'))).rejects.toThrow();
  }, 60_000);

  it('refuses a Python older than the Kubespray tag needs, naming what to install', async () => {
    const py = path.join(tmp, 'python3.9');
    // Answers Ferry's probe as a Python 3.9 would.
    await fsp.writeFile(
      py,
      `#!/bin/sh\necho '{"version": "3.9.18", "executable": "/usr/bin/python3.9", "venv": true}'\n`,
      { mode: 0o755 },
    );
    const r = await cli(['venv', '--bundle', bundle, '--dir', path.join(tmp, 'v3'), '--python', py], env);
    expect(r.code).toBe(3);
    expect(r.err).toContain('is Python 3.9.18; Kubespray v2.31.0 needs Python 3.11 or newer');
  });

  it('ferry deploy runs Kubespray with the venv’s ansible-playbook when the bundle carries wheels', async () => {
    const dir = path.join(tmp, 'deploy');
    const vars = path.join(tmp, 'offline.yml');
    await fsp.writeFile(vars, 'files_repo: "http://127.0.0.1:9"\nregistry_host: "127.0.0.1:9"\n');
    const probe = path.join(tmp, 'probe.txt');
    const r = await cli(
      [
        'deploy',
        '--bundle',
        bundle,
        '--vars',
        vars,
        '--node',
        'node1=local',
        '--python',
        '/usr/bin/python3',
        '--venv-python',
        '/usr/bin/python3',
        '--dir',
        dir,
        '--skip-preflight',
        '--',
        '-e',
        `probe=${probe}`,
      ],
      env,
    );
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.out).toContain(
      `Ansible: ${path.join(dir, 'venv', 'bin', 'ansible-playbook')} (the bundle's offline virtualenv)`,
    );
    expect(await fsp.readFile(probe, 'utf8')).toBe(
      `${path.join(dir, 'venv', 'bin', 'python')} ${core.version}\n`,
    );
  }, 240_000);

  it('ferry deploy falls back to the deploy host’s ansible-playbook, with a note, when no venv can be made', async () => {
    const dir = path.join(tmp, 'deploy-fallback');
    const vars = path.join(tmp, 'offline-fallback.yml');
    await fsp.writeFile(vars, 'files_repo: "http://127.0.0.1:9"\nregistry_host: "127.0.0.1:9"\n');
    const old = path.join(tmp, 'python3.9-fallback');
    await fsp.writeFile(
      old,
      `#!/bin/sh\necho '{"version": "3.9.18", "executable": "/usr/bin/python3.9", "venv": true}'\n`,
      { mode: 0o755 },
    );
    const probe = path.join(tmp, 'probe-fallback.txt');
    const r = await cli(
      [
        'deploy',
        '--bundle',
        bundle,
        '--vars',
        vars,
        '--node',
        'node1=local',
        '--python',
        '/usr/bin/python3',
        '--venv-python',
        old,
        '--dir',
        dir,
        '--skip-preflight',
        '--',
        '-e',
        `probe=${probe}`,
      ],
      env,
    );
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.err).toContain('No offline virtualenv:');
    expect(r.err).toContain("Using the deploy host's ansible-playbook.");
    expect(r.out).toContain("Ansible: ansible-playbook (the deploy host's)");
    // Debian's ansible-core ran it, from the system Python.
    expect(await fsp.readFile(probe, 'utf8')).toMatch(/^\/usr\/bin\/python3(\.\d+)? 2\.\d+\.\d+\n$/);
  }, 240_000);

  it('refuses wheels resolved for another release: Kubespray v2.31.0’s real requirements.txt pins ansible 11', async () => {
    const src = path.join(tmp, 'ks-real', 'kubespray-2.31.0');
    await fsp.mkdir(src, { recursive: true });
    await fsp.copyFile(
      path.join(kubesprayDataDir, 'v2.31.0', 'requirements.txt'),
      path.join(src, 'requirements.txt'),
    );
    const tarball = path.join(tmp, 'ks-real.tar.gz');
    await tarCreate({ gzip: true, file: tarball, cwd: path.dirname(src) }, ['kubespray-2.31.0']);
    const other = path.join(tmp, 'bundle-real-pins');
    const keys = KeyStore.fromEnv(env);
    await makeWheelBundle(other, wheels, {
      signer: await keys.signer(),
      kubespray: 'v2.31.0',
      kubesprayTarball: await fsp.readFile(tarball),
    });
    const r = await cli(
      ['venv', '--bundle', other, '--dir', path.join(tmp, 'venv-real'), '--python', '/usr/bin/python3'],
      env,
    );
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      "Kubespray v2.31.0's requirements.txt pins ansible==11.13.0, but the bundle carries ansible 7.3.0.",
    );
    // Refused before a venv was made.
    await expect(fsp.stat(path.join(tmp, 'venv-real'))).rejects.toThrow();
  }, 240_000);
});
