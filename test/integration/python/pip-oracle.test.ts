import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../../src-main/core/fetch/download/http-client.js';
import { IndexClient } from '../../../src-main/core/kinds/python/index-client.js';
import { requirementLines } from '../../../src-main/core/kinds/python/plan.js';
import { resolveWheels } from '../../../src-main/core/kinds/python/resolve.js';
import { platformTags } from '../../../src-main/core/kinds/python/tags.js';
import type { PythonTarget } from '../../../src-main/core/kinds/python/targets.js';
import {
  kubesprayV231Projects,
  protocolProjects,
  startPypi,
  type PypiServer,
} from '../../helpers/pypi-server.js';
import { kubesprayDataDir, lacksCondition } from '../../helpers/tools.js';

/**
 * The oracle for which file Ferry picks: Debian's own pip, `pip download --only-binary=:all:`
 * for the target's platform (every manylinux level listed, since pip does not expand
 * manylinux_2_X), Python version and implementation, against the same loopback index. pip
 * evaluates markers against the interpreter it runs in, so the requirement sets here avoid
 * markers that differ between this machine and the targets (those are checked against
 * python3-packaging instead, in markers-packaging.test.ts).
 */

const run = promisify(execFile);
const DEBIAN_PYTHON = '/usr/bin/python3';

const TARGETS: PythonTarget[] = [
  { python: '3.11', arch: 'x86_64', glibc: '2.36' },
  { python: '3.11', arch: 'aarch64', glibc: '2.36' },
  { python: '3.12', arch: 'x86_64', glibc: '2.39' },
  { python: '3.12', arch: 'aarch64', glibc: '2.34' },
];

function hasDebianPip(): boolean {
  try {
    return fs.existsSync(DEBIAN_PYTHON) && fs.existsSync('/usr/lib/python3/dist-packages/pip');
  } catch {
    return false;
  }
}

async function pipDownload(index: string, reqFile: string, t: PythonTarget, dir: string): Promise<string[]> {
  const args = ['-m', 'pip', 'download', '--only-binary=:all:', '--implementation', 'cp'];
  args.push('--python-version', t.python, '--index-url', index, '-r', reqFile, '-d', dir);
  args.push('--no-cache-dir', '--disable-pip-version-check', '--quiet');
  for (const p of platformTags(t)) args.push('--platform', p);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-pip-home-'));
  try {
    await run(DEBIAN_PYTHON, args, {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        PIP_CONFIG_FILE: '/dev/null',
        PYTHONNOUSERSITE: '1',
      },
      timeout: 120_000,
    });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
  return fs.readdirSync(dir).sort();
}

describe.skipIf(
  lacksCondition(!hasDebianPip(), "Debian's python3-pip") ||
    lacksCondition(!fs.existsSync(kubesprayDataDir), kubesprayDataDir),
)('Ferry picks the files pip download picks for each target', () => {
  let real: PypiServer;
  let proto: PypiServer;
  let client: HttpClient;
  let work: string;
  beforeAll(async () => {
    real = await startPypi(kubesprayV231Projects());
    proto = await startPypi(protocolProjects());
    client = new HttpClient({ retry: { attempts: 2, baseMs: 10 } });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-pip-oracle-'));
  });
  afterAll(async () => {
    await client.close();
    await real.close();
    await proto.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  for (const t of TARGETS) {
    const name = `${t.python} ${t.arch} glibc ${t.glibc}`;
    it(`Kubespray v2.31.0 requirements.txt, ${name}`, async () => {
      const reqFile = path.join(kubesprayDataDir, 'v2.31.0', 'requirements.txt');
      const lines = requirementLines(fs.readFileSync(reqFile, 'utf8'), 'v2.31.0');
      const index = new IndexClient({ client, indexes: [real.index] });
      const set = await resolveWheels(lines, t, { index });
      const dir = path.join(work, `real-${t.python}-${t.arch}`);
      const pip = await pipDownload(real.index, reqFile, t, dir);
      expect(set.wheels.map((w) => w.filename).sort()).toEqual(pip);
      expect(pip.length).toBe(12);
    }, 180_000);

    it(`yanked, Requires-Python and tag priority, ${name}`, async () => {
      const reqs = ['ferry-dep>=2.0', 'ferry-native', ...(t.arch === 'aarch64' ? ['ferry-armonly'] : [])];
      const reqFile = path.join(work, `proto-${t.python}-${t.arch}.txt`);
      fs.writeFileSync(reqFile, reqs.join('\n') + '\n');
      const index = new IndexClient({ client, indexes: [proto.index] });
      const set = await resolveWheels(
        reqs.map((line) => ({ line, why: 'test' })),
        t,
        { index },
      );
      const pip = await pipDownload(proto.index, reqFile, t, path.join(work, `proto-${t.python}-${t.arch}`));
      expect(set.wheels.map((w) => w.filename).sort()).toEqual(pip);
    }, 180_000);
  }
});
