import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../../src-main/core/fetch/download/http-client.js';
import { IndexClient } from '../../../src-main/core/kinds/python/index-client.js';
import { planPython } from '../../../src-main/core/kinds/python/plan.js';
import { resolveWheels } from '../../../src-main/core/kinds/python/resolve.js';
import type { PythonTarget } from '../../../src-main/core/kinds/python/targets.js';
import {
  kubesprayV231Projects,
  protocolProjects,
  startPypi,
  type PypiServer,
} from '../../helpers/pypi-server.js';
import { kubesprayDataDir, lacksCondition } from '../../helpers/tools.js';

const x86: PythonTarget = { python: '3.11', arch: 'x86_64', glibc: '2.36' };
const arm: PythonTarget = { python: '3.11', arch: 'aarch64', glibc: '2.36' };
const top = [{ line: 'ferry-top', why: 'test' }];

function files(set: { wheels: { filename: string }[] }): string[] {
  return set.wheels.map((w) => w.filename).sort();
}

describe('resolving wheels against a loopback index, for the target and not this machine', () => {
  const servers: Record<string, PypiServer> = {};
  const clients: HttpClient[] = [];
  const indexFor = (mode: 'json' | 'html' | 'range' | 'whole') => {
    const s = servers[mode];
    const client = new HttpClient({ retry: { attempts: 2, baseMs: 10 } });
    clients.push(client);
    return new IndexClient({ client, indexes: [s.index] });
  };
  beforeAll(async () => {
    const p = protocolProjects();
    servers.json = await startPypi(p);
    servers.html = await startPypi(p, { json: false });
    servers.range = await startPypi(p, { metadata: false });
    servers.whole = await startPypi(p, { metadata: false, range: false, json: false });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    for (const s of Object.values(servers)) await s.close();
  });

  for (const mode of ['json', 'html', 'range', 'whole'] as const) {
    it(`markers, Requires-Python, yanked and tag priority (${mode})`, async () => {
      const index = indexFor(mode);
      const a = await resolveWheels(top, x86, { index });
      expect(files(a)).toEqual([
        'ferry_dep-2.1-py3-none-any.whl', // 3.0 needs Python >= 4, 2.2 is yanked
        'ferry_native-1.0-cp311-cp311-manylinux_2_34_x86_64.whl', // own ABI beats abi3; 2_34 beats 2_28
        'ferry_old-1.0-py3-none-any.whl', // python_version < '3.12' holds for 3.11
        'ferry_top-1.0-py3-none-any.whl',
        'ferry_x86only-1.0-py3-none-any.whl', // platform_machine == 'x86_64'
      ]);
      // On aarch64 the x86-only dependency is dropped (this x86_64 machine would keep it), and
      // glibc 2.36 admits the cp311 manylinux_2_35 wheel, which beats abi3.
      const b = await resolveWheels(top, arm, { index });
      expect(files(b)).toEqual([
        'ferry_dep-2.1-py3-none-any.whl',
        'ferry_native-1.0-cp311-cp311-manylinux_2_35_aarch64.whl',
        'ferry_old-1.0-py3-none-any.whl',
        'ferry_top-1.0-py3-none-any.whl',
      ]);
      const c = await resolveWheels(top, { python: '3.12', arch: 'aarch64', glibc: '2.34' }, { index });
      // 3.12 cannot use cp311-cp311; glibc 2.34 cannot use 2_35: abi3 2_28 it is; ferry-old is gone.
      expect(files(c)).toContain('ferry_native-1.0-cp311-abi3-manylinux_2_28_aarch64.whl');
      expect(files(c).some((f) => f.startsWith('ferry_old'))).toBe(false);
      const d = await resolveWheels(top, { python: '3.11', arch: 'x86_64', glibc: '2.31' }, { index });
      expect(files(d)).toContain('ferry_native-1.0-cp311-cp311-manylinux_2_28_x86_64.whl');
      const why = a.wheels.find((w) => w.project === 'ferry-x86only')!.why;
      expect(why).toMatch(/Requires-Dist of ferry-top 1.0: ferry-x86only; platform_machine == 'x86_64'/);
      expect(a.wheels.every((w) => /^[0-9a-f]{64}$/.test(w.sha256))).toBe(true);
    });
  }

  it('names project, version and target when no wheel fits, and takes an sdist only when allowed', async () => {
    const index = indexFor('json');
    await expect(resolveWheels([{ line: 'ferry-armonly', why: 't' }], x86, { index })).rejects.toThrow(
      /ferry-armonly 1\.0 has no compatible wheel for Python 3\.11 x86_64 glibc 2\.36/,
    );
    const arm64 = await resolveWheels([{ line: 'ferry-armonly', why: 't' }], arm, { index });
    expect(files(arm64)).toEqual(['ferry_armonly-1.0-py3-none-manylinux_2_17_aarch64.whl']);
    await expect(resolveWheels([{ line: 'ferry-sdist', why: 't' }], x86, { index })).rejects.toThrow(
      /ferry-sdist 0\.5 has no compatible wheel .* only an sdist/,
    );
    const s = await resolveWheels([{ line: 'ferry-sdist', why: 't' }], x86, {
      index,
      allowSdist: ['ferry-sdist'],
    });
    // The sdist's PKG-INFO supplies its dependencies.
    expect(files(s)).toEqual(['ferry_dep-2.1-py3-none-any.whl', 'ferry_sdist-0.5.tar.gz']);
    expect(s.wheels.find((w) => w.project === 'ferry-sdist')!.why).toMatch(/sdist/);
  });

  it('retries an index that answers 503, for pages and metadata alike', async () => {
    const s = servers.json;
    s.flaky.set('/simple/ferry-dep/', 2);
    s.flaky.set('/files/ferry_dep-2.1-py3-none-any.whl.metadata', 1);
    const client = new HttpClient({ retry: { attempts: 4, baseMs: 5 } });
    clients.push(client);
    const set = await resolveWheels([{ line: 'ferry-dep', why: 't' }], x86, {
      index: new IndexClient({ client, indexes: [s.index] }),
    });
    expect(files(set)).toEqual(['ferry_dep-2.1-py3-none-any.whl']);
    expect(s.flaky.get('/simple/ferry-dep/')).toBe(0);
    expect(s.flaky.get('/files/ferry_dep-2.1-py3-none-any.whl.metadata')).toBe(0);
  });

  it('refuses core metadata whose sha256 differs from the index', async () => {
    const s = await startPypi(protocolProjects());
    const client = new HttpClient({ retry: { attempts: 1 } });
    try {
      const dep = s.dists.get('ferry-dep')!.find((d) => d.filename.startsWith('ferry_dep-2.1'))!;
      dep.metadata += 'Requires-Dist: evil\n';
      // The server lists the hash of what it serves; the listing Ferry read is what gets altered.
      const index = new IndexClient({ client, indexes: [s.index] });
      const page = await index.project('ferry-dep');
      const f = page.files.find((x) => x.filename === dep.filename)!;
      f.coreMetadata = { sha256: '0'.repeat(64) };
      await expect(index.metadata(f)).rejects.toThrow(
        /core metadata of ferry_dep-2\.1-py3-none-any\.whl .* does not match/,
      );
    } finally {
      await client.close();
      await s.close();
    }
  });
});

describe.skipIf(lacksCondition(!fs.existsSync(kubesprayDataDir), kubesprayDataDir))(
  "Kubespray v2.31.0's real requirements.txt",
  () => {
    let s: PypiServer;
    let cache: string;
    beforeAll(async () => {
      s = await startPypi(kubesprayV231Projects());
      cache = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-pypi-cache-'));
    });
    afterAll(async () => {
      await s.close();
      fs.rmSync(cache, { recursive: true, force: true });
    });

    it('resolves for two targets, each file chosen for its target, in under a second warm', async () => {
      const requirements = fs.readFileSync(
        path.join(kubesprayDataDir, 'v2.31.0', 'requirements.txt'),
        'utf8',
      );
      const req = {
        os: 'debian-12',
        arch: ['x86_64', 'aarch64'] as ('x86_64' | 'aarch64')[],
        indexes: [s.index],
      };
      const k = { tag: 'v2.31.0', requirements };
      const cold = await planPython(req, k, { cacheDir: cache, env: {} });
      const t0 = performance.now();
      const warm = await planPython(req, k, { cacheDir: cache, env: {} });
      const ms = performance.now() - t0;
      console.log(`python resolution, v2.31.0, 2 targets, warm: ${ms.toFixed(0)} ms`);
      expect(ms).toBeLessThan(1000);
      expect(warm).toEqual(cold);
      const [a, b] = warm;
      expect(a.target).toEqual({ python: '3.11', arch: 'x86_64', glibc: '2.36', os: 'debian-12' });
      expect(files(a)).toEqual([
        'ansible-11.13.0-py3-none-any.whl',
        'ansible_core-2.18.12-py3-none-any.whl',
        'cffi-2.0.0-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl',
        'cryptography-46.0.7-cp311-abi3-manylinux_2_34_x86_64.whl',
        'jinja2-3.1.6-py3-none-any.whl',
        'jmespath-1.1.0-py3-none-any.whl',
        'markupsafe-3.0.3-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl',
        'netaddr-1.3.0-py3-none-any.whl',
        'packaging-25.0-py3-none-any.whl',
        'pycparser-2.23-py3-none-any.whl',
        'pyyaml-6.0.3-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl',
        'resolvelib-1.0.1-py2.py3-none-any.whl',
      ]);
      expect(files(b)).toContain('cryptography-46.0.7-cp311-abi3-manylinux_2_34_aarch64.whl');
      const why = Object.fromEntries(a.wheels.map((w) => [w.project, w.why]));
      expect(why.ansible).toBe('Kubespray v2.31.0 requirements.txt: ansible==11.13.0');
      expect(why['ansible-core']).toBe('Requires-Dist of ansible 11.13.0: ansible-core~=2.18.12');
      // Pinned by Kubespray and needed by ansible-core: both reasons, Kubespray's first.
      expect(why.cryptography).toBe(
        'Kubespray v2.31.0 requirements.txt: cryptography==46.0.7; also Requires-Dist of ansible-core 2.18.12: cryptography',
      );
      expect(why.resolvelib).toMatch(/Requires-Dist of ansible-core 2\.18\.12: resolvelib<1\.1\.0,>=0\.5\.3/);
    });

    it('refuses a Python the tag does not support', async () => {
      await expect(
        planPython(
          { python: ['3.10'], glibc: '2.35', indexes: [s.index] },
          { tag: 'v2.31.0', requirements: 'ansible==11.13.0\n' },
          { env: {} },
        ),
      ).rejects.toThrow(/Kubespray v2\.31\.0 needs Python ≥ 3\.11, not 3\.10/);
    });
  },
);
