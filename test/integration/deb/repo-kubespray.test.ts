import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRepoKey, repoSigner } from '../../../src-main/core/bundle/keys/repo-key.js';
import type { Plan } from '../../../src-main/core/plan/plan.js';
import type { ResolvedDebSet } from '../../../src-main/core/kinds/deb/set.js';
import { OfflineServer } from '../../../src-main/core/serve/server.js';
import { openVerifiedBundle } from '../../../src-main/core/serve/verified-source.js';
import { DEBIAN_KEYRING, kubesprayDebian12Roots } from '../../helpers/apt-oracle.js';
import { aptGet, aptRootWith } from '../../helpers/apt-root.js';
import { archiveDir, bookwormArchive, bookwormUnavailable } from '../../helpers/deb-archive.js';
import { bookwormSet, ensureDeb, poolUnavailable } from '../../helpers/deb-pool.js';
import { startStaticServer, type StaticServer } from '../../helpers/static-server.js';
import { kubesprayDataDir, lacks, lacksCondition } from '../../helpers/tools.js';
import { runFetch } from '../fetch/helpers.js';

/**
 * The acceptance case at full size: Kubespray v2.31.0's Debian 12 package set (its 22 default
 * roots, and the variant with kube_proxy_mode iptables and ntp_enabled), resolved with the
 * baseline over the real bookworm indexes, fetched from the loopback mirror, served, and
 * installed (download-only) by apt-get from a bare root trusting Ferry's keyring only.
 */

const unavailable = (() => {
  try {
    return bookwormUnavailable();
  } catch (err) {
    return String(err);
  }
})();

describe.skipIf(
  lacks('apt-get', 'lz4', 'dose-debcheck', 'curl') ||
    lacksCondition(!!unavailable, unavailable ?? '') ||
    lacksCondition(!fs.existsSync(DEBIAN_KEYRING), DEBIAN_KEYRING) ||
    lacksCondition(!fs.existsSync(kubesprayDataDir), kubesprayDataDir),
)('Kubespray v2.31.0’s Debian 12 set through Ferry’s repository', () => {
  let tmp: string;
  let upstream: StaticServer;
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-deb-kubespray-'));
    bookwormArchive();
    upstream = await startStaticServer(archiveDir);
    await generateRepoKey(path.join(tmp, 'keys'));
  }, 120_000);
  afterAll(async () => {
    await upstream?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const [label, vars] of [
    ['defaults', {}],
    ['kube_proxy_mode iptables, ntp_enabled', { kube_proxy_mode: 'iptables', ntp_enabled: true }],
  ] as const) {
    it(`${label}: apt-get installs the roots and downloads the whole set with upstream hashes`, async () => {
      const roots = await kubesprayDebian12Roots('v2.31.0', vars);
      expect(roots).toContain('conntrack');
      const { set, records } = await bookwormSet(roots);
      const why = poolUnavailable(records);
      if (lacksCondition(!!why, why ?? '')) throw new Error(why);
      for (const r of records) ensureDeb(r);
      const bundle = path.join(tmp, `bundle-${label.replace(/\W+/g, '-')}`);
      await runFetch(
        {
          kubespray: 'v2.31.0',
          kubeVersion: '1.34.0',
          arches: ['amd64'],
          files: [],
          images: [],
          vars: {},
          debs: [set satisfies ResolvedDebSet],
        } as Plan,
        {
          out: bundle,
          mirrors: { 'https://deb.debian.org/': `${upstream.url}/` },
          repoSigner: (await repoSigner(path.join(tmp, 'keys')))!,
        },
      );
      const v = await openVerifiedBundle(bundle, { allowUnsigned: true });
      const server = await OfflineServer.start({
        sources: [v.source],
        listen: '127.0.0.1',
        filesPort: 0,
        registryPort: 0,
      });
      try {
        const root = path.join(bundle + '-apt');
        const opts = aptRootWith(root, [
          `deb [signed-by=${path.join(bundle, 'repos/debian-12/ferry.gpg')}] ${server.filesUrl.replace(/\/+$/, '')}/repos/debian-12 bookworm main`,
        ]);
        expect((await aptGet(opts, ['-q', 'update'])).code).toBe(0);
        const sim = await aptGet(opts, ['-s', '-q', 'install', ...roots]);
        expect(sim.code, sim.out.slice(-2000)).toBe(0);
        expect(sim.out.match(/^Inst /gm)!.length).toBeGreaterThan(200);
        const names = [...new Set(set.packages.map((p) => p.package))];
        const dl = await aptGet(opts, ['-q', '-y', '--download-only', 'install', ...names]);
        expect(dl.code, dl.out.slice(-2000)).toBe(0);
        const dir = path.join(root, 'cache/archives');
        const got = new Set(
          fs
            .readdirSync(dir)
            .filter((f) => f.endsWith('.deb'))
            .map((f) =>
              createHash('sha256')
                .update(fs.readFileSync(path.join(dir, f)))
                .digest('hex'),
            ),
        );
        expect(set.packages.filter((p) => !got.has(p.sha256)).map((p) => p.package)).toEqual([]);
        expect(got.size).toBe(set.packages.length);
        const dose = spawnSync(
          'dose-debcheck',
          [
            '--failures',
            '--explain',
            '--deb-native-arch=amd64',
            path.join(bundle, 'repos/debian-12/dists/bookworm/main/binary-amd64/Packages'),
          ],
          { encoding: 'utf8' },
        );
        expect(dose.status, dose.stdout).toBe(0);
      } finally {
        await server.stop();
      }
    }, 600_000);
  }
});
