import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/main.js';
import type { Plan } from '../../../src-main/core/plan/plan.js';
import { kubesprayV231Projects, startPypi, type PypiServer } from '../../helpers/pypi-server.js';
import { kubesprayDataDir, lacksCondition } from '../../helpers/tools.js';

async function cli(args: string[], env: NodeJS.ProcessEnv) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await runCli(args, { stdout, stderr, env, signal: new AbortController().signal });
  return { code, stdout: out, stderr: err };
}

describe.skipIf(lacksCondition(!fs.existsSync(kubesprayDataDir), kubesprayDataDir))(
  'ferry plan with deploy-host Python targets',
  () => {
    let s: PypiServer;
    let tmp: string;
    let env: NodeJS.ProcessEnv;
    const ks = path.join(kubesprayDataDir, 'v2.31.0');
    beforeAll(async () => {
      s = await startPypi(kubesprayV231Projects());
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-cli-py-'));
      env = {
        HOME: tmp,
        FERRY_CONFIG_DIR: path.join(tmp, 'c'),
        FERRY_DATA_DIR: path.join(tmp, 'd'),
        PATH: process.env.PATH,
      };
    });
    afterAll(async () => {
      await s.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    });

    it('puts one wheel set per target into the plan and shows why each is there', async () => {
      // (--deploy-os also plans the deploy host's OS packages from Debian's archive: not here.)
      const args = [
        'plan',
        '--kubespray',
        ks,
        '--python',
        '3.11',
        '--glibc',
        '2.34',
        '--deploy-arch',
        'x86_64,aarch64',
        '--pip-index',
        s.index,
      ];
      const j = await cli([...args, '--json'], env);
      expect(j.stderr).toBe('');
      expect(j.code).toBe(0);
      const plan = JSON.parse(j.stdout) as Plan;
      expect(plan.python?.map((x) => x.target)).toEqual([
        { python: '3.11', arch: 'x86_64', glibc: '2.34' },
        { python: '3.11', arch: 'aarch64', glibc: '2.34' },
      ]);
      expect(plan.python?.[0].requirements.map((r) => r.line)).toEqual([
        'ansible==11.13.0',
        'cryptography==46.0.7',
        'jmespath==1.1.0',
        'netaddr==1.3.0',
      ]);
      const t = await cli(args, env);
      expect(t.code).toBe(0);
      expect(t.stdout).toMatch(/Deploy host: Python 3\.11 aarch64 glibc 2\.34 — 12 distributions/);
      expect(t.stdout).toMatch(
        /cryptography-46\.0\.7-cp311-abi3-manylinux_2_34_aarch64\.whl +Kubespray v2\.31\.0 requirements\.txt: cryptography==46\.0\.7/,
      );
      expect(t.stdout).toMatch(
        /cffi-2\.0\.0-cp311-cp311-manylinux2014_x86_64\.manylinux_2_17_x86_64\.whl +Requires-Dist of cryptography 46\.0\.7: cffi>=2\.0\.0/,
      );
    });

    it('refuses a Python the tag does not support, and an unknown architecture, as usage errors', async () => {
      const r = await cli(
        ['plan', '--kubespray', ks, '--python', '3.10', '--glibc', '2.35', '--pip-index', s.index],
        env,
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/Kubespray v2\.31\.0 needs Python ≥ 3\.11, not 3\.10/);
      const a = await cli(
        ['plan', '--kubespray', ks, '--python', '3.11', '--glibc', '2.36', '--deploy-arch', 'arm64'],
        env,
      );
      expect(a.code).toBe(2);
      expect(a.stderr).toMatch(/Unknown deploy-host architecture 'arm64'/);
    });

    it("takes the targets from the profile's python:, flags winning", async () => {
      const profile = path.join(tmp, 'ferry.yaml');
      fs.writeFileSync(
        profile,
        `kubespray: {dir: ${ks}}\npython:\n  os: ubuntu-24.04\n  arch: [aarch64]\n  indexes: ['${s.index}']\n  requirements: ['packaging==24.2']\n`,
      );
      const r = await cli(['plan', '--profile', profile, '--json'], env);
      expect(r.stderr).toBe('');
      const plan = JSON.parse(r.stdout) as Plan;
      expect(plan.python?.map((x) => x.target)).toEqual([
        { python: '3.12', arch: 'aarch64', glibc: '2.39', os: 'ubuntu-24.04' },
      ]);
      // The extra requirement pins packaging below what ansible-core alone would get.
      expect(plan.python?.[0].wheels.find((w) => w.project === 'packaging')?.version).toBe('24.2');
      const f = await cli(['plan', '--profile', profile, '--deploy-arch', 'x86_64', '--json'], env);
      expect((JSON.parse(f.stdout) as Plan).python?.map((x) => x.target.arch)).toEqual(['x86_64']);
    });

    it('leaves Python out unless asked', async () => {
      const r = await cli(['plan', '--kubespray', ks, '--json'], env);
      expect(r.code).toBe(0);
      expect((JSON.parse(r.stdout) as Plan).python).toBeUndefined();
    });
  },
);
