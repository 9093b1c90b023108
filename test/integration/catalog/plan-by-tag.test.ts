import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/main.js';
import { kubesprayDataDir, lacksCondition } from '../../helpers/tools.js';
import { startWorld, type World } from '../../helpers/world/index.js';

/**
 * `ferry plan --kubespray TAG` on a machine that has never seen the tag: the release tarball comes
 * through the download layer and the profile's mirror (never the internet), is cached, and the
 * second plan needs no network at all.
 */
const KS = path.join(kubesprayDataDir, 'v2.31.0');
const ARCHIVE = '/github.com/kubernetes-sigs/kubespray/archive/refs/tags/v2.31.0.tar.gz';

describe.skipIf(lacksCondition(!fs.existsSync(KS), `the shared Kubespray data at ${KS}`))(
  'ferry plan --kubespray TAG',
  () => {
    let world: World;
    let tmp: string;

    beforeAll(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-plan-tag-'));
      world = await startWorld({ registry: false });
      const tgz = path.join(tmp, 'ks.tar.gz');
      execFileSync('tar', ['czf', tgz, '--transform', 's,^,kubespray-2.31.0/,', '-C', KS, 'roles']);
      world.files.add(ARCHIVE, fs.readFileSync(tgz));
    });
    afterAll(async () => {
      await world?.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    });

    async function plan(args: string[]) {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let out = '';
      let err = '';
      stdout.on('data', (d) => (out += d));
      stderr.on('data', (d) => (err += d));
      const code = await runCli(['plan', ...args], {
        stdout,
        stderr,
        env: { HOME: tmp, FERRY_CONFIG_DIR: path.join(tmp, 'cfg'), FERRY_DATA_DIR: path.join(tmp, 'data') },
        signal: new AbortController().signal,
      });
      return { code, out, err };
    }

    it('downloads the release tarball through the profile mirror once, then plans from the cache', async () => {
      const profile = path.join(tmp, 'ferry.yaml');
      fs.writeFileSync(
        profile,
        `kubespray: v2.31.0\nmirrors:\n  "https://github.com/": "${world.files.url('/github.com/')}"\n`,
      );
      const first = await plan(['--profile', profile, '--json']);
      expect(first.err).toBe('');
      expect(first.code).toBe(0);
      const p = JSON.parse(first.out);
      expect(p.kubespray).toBe('v2.31.0');
      expect(p.files.some((f: { key: string }) => f.key === 'kubeadm')).toBe(true);
      expect(world.files.count(ARCHIVE)).toBeGreaterThanOrEqual(1);
      const requests = world.files.count();
      const again = await plan(['--kubespray', 'v2.31.0', '--json']);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.out).files).toEqual(p.files);
      expect(world.files.count()).toBe(requests);
    });

    it('a tag nobody can fetch is a clear failure naming the URL', async () => {
      const profile = path.join(tmp, 'dead.yaml');
      fs.writeFileSync(
        profile,
        `kubespray: v2.99.0\nmirrors:\n  "https://github.com/": "${world.files.url('/github.com/')}"\n`,
      );
      const r = await plan(['--profile', profile]);
      expect(r.code).toBe(3);
      expect(r.err).toContain('v2.99.0');
    });
  },
);
