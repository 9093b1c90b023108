import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackend } from '../../helpers/ipc-backend.js';
import { kubesprayV231Projects, startPypi, type PypiServer } from '../../helpers/pypi-server.js';
import { kubesprayDataDir, lacksCondition } from '../../helpers/tools.js';

/**
 * The app's cluster step: a deploy-host OS and architectures put the deploy host's wheels into
 * the plan, resolved from PyPI through the app's mirror settings (here a mirror of
 * https://pypi.org/ on loopback), and the plan view counts them per target.
 */

const TAG = 'v2.31.0';

describe.skipIf(lacksCondition(!fs.existsSync(kubesprayDataDir), kubesprayDataDir))(
  'the cluster step carries the deploy host’s Python',
  () => {
    let s: PypiServer;
    let t: ReturnType<typeof testBackend>;
    beforeAll(async () => {
      s = await startPypi(kubesprayV231Projects());
      t = testBackend();
      const cache = path.join(t.env.FERRY_DATA_DIR!, 'cache', 'kubespray');
      fs.mkdirSync(cache, { recursive: true });
      const tar = spawnSync('tar', [
        '-czf',
        path.join(cache, `kubespray-${TAG}.tar.gz`),
        '-C',
        kubesprayDataDir,
        TAG,
      ]);
      expect(tar.status).toBe(0);
      await t.ok('settings.set', { mirrors: [{ upstream: 'https://pypi.org/', mirror: `${s.url}/` }] });
    });
    afterAll(async () => {
      await t.cleanup();
      await s.close();
    });

    const base = {
      kubespray: { source: 'release', version: TAG },
      arches: ['amd64'],
      runtime: 'containerd',
      network: 'calico',
      addons: [],
      extraImages: [],
      extraFiles: [],
    };

    it('plan.compute resolves one set per deploy-host architecture', async () => {
      const without = await t.ok('plan.compute', base);
      const plan = await t.ok('plan.compute', {
        ...base,
        deployHost: { os: 'ubuntu-24.04', arches: ['x86_64', 'aarch64'] },
      });
      const groups = plan.groups.filter((g: { name: string }) => g.name.startsWith('python'));
      expect(groups).toEqual([
        expect.objectContaining({ name: 'python 3.12 x86_64', kind: 'file', count: 12 }),
        expect.objectContaining({ name: 'python 3.12 aarch64', kind: 'file', count: 12 }),
      ]);
      expect(groups[0].bytes).toBeGreaterThan(0);
      expect(plan.counts.total).toBe(without.counts.total + 16);
      expect(s.requests.some((r) => r.startsWith('GET /simple/ansible/'))).toBe(true);
    });

    it('a deploy-host OS whose Python the tag does not support is refused', async () => {
      const r = await t.call('plan.compute', {
        ...base,
        deployHost: { os: 'ubuntu-22.04', arches: ['x86_64'] },
      });
      if (r.ok) throw new Error('plan.compute accepted Python 3.10 for v2.31.0');
      expect(r.error.code).toBe('INVALID_CHOICE');
      expect(r.error.message).toMatch(/needs Python ≥ 3\.11, not 3\.10/);
    });
  },
);
