import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRepoKey, repoSigner } from '../../../src-main/core/bundle/keys/repo-key.js';
import { HttpClient } from '../../../src-main/core/fetch/download/http-client.js';
import { osModel } from '../../../src-main/core/kinds/os.js';
import { planRpmSet } from '../../../src-main/core/kinds/rpm/plan.js';
import type { ResolvedRpmSet } from '../../../src-main/core/kinds/rpm/set.js';
import { parsePlan, type Plan } from '../../../src-main/core/plan/plan.js';
import { OfflineServer } from '../../../src-main/core/serve/server.js';
import { openVerifiedBundle } from '../../../src-main/core/serve/verified-source.js';
import {
  dnfDownload,
  lacksRpmTools,
  rpmUpstream,
  UPSTREAM_ARCHES,
  type DnfRepo,
  type RpmUpstream,
} from '../../helpers/rpm-upstream.js';
import { runFetch } from '../fetch/helpers.js';

/**
 * The whole chain on the synthetic signed Rocky 9 mirror: Ferry's plan (not a set built from
 * dnf's answer) → plan.json → fetch → bundle → served → dnf on a bare installroot with
 * gpgcheck=1 and repo_gpgcheck=1 resolves from Ferry's repository exactly what it resolves
 * from the upstream. The distribution key the plan verified is the one the node is given.
 */
describe.skipIf(lacksRpmTools())('Ferry’s RPM plan, fetched, served, and installed by dnf', () => {
  let up: RpmUpstream;
  let tmp: string;
  let client: HttpClient;
  let set: ResolvedRpmSet;
  let server: OfflineServer;
  let served: string;

  beforeAll(async () => {
    up = await rpmUpstream();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpm-plan-fetch-'));
    client = new HttpClient({ retry: { attempts: 1 } });
    set = (
      await planRpmSet(
        {
          os: osModel('rocky-9'),
          arches: ['amd64', 'arm64'],
          roots: up.roots.map((name) => ({ name, why: 'test root' })),
          repos: { root: `${up.url}/9` },
        },
        { client, cacheDir: path.join(tmp, 'cache'), keys: { 'rocky-9': [fs.readFileSync(up.keyFile)] } },
      )
    ).set;
    const plan = parsePlan({
      kubespray: 'v2.31.0',
      kubeVersion: '1.34.0',
      arches: ['amd64', 'arm64'],
      files: [],
      images: [],
      vars: {},
      rpms: [set],
    }) as Plan;
    await generateRepoKey(path.join(tmp, 'keys'));
    const signer = (await repoSigner(path.join(tmp, 'keys')))!;
    const bundle = path.join(tmp, 'bundle');
    await runFetch(plan, { out: bundle, repoSigner: signer });
    const v = await openVerifiedBundle(bundle, { allowUnsigned: true });
    server = await OfflineServer.start({
      sources: [v.source],
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
    });
    served = `${server.filesUrl.replace(/\/+$/, '')}/repos/rocky-9`;
  }, 600_000);

  afterAll(async () => {
    await server?.stop();
    await client?.close();
    await up?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const arch of UPSTREAM_ARCHES) {
    it(`dnf gets from Ferry’s repository what it gets from the upstream (${arch})`, async () => {
      const key = set.keys![0].file;
      const ferry: DnfRepo = {
        id: 'ferry',
        baseurl: `${served}/${arch}`,
        gpgkey: `${served}/${key} ${served}/RPM-GPG-KEY-ferry`,
        gpgcheck: true,
        repo_gpgcheck: true,
        module_hotfixes: true,
      };
      const fromFerry = await dnfDownload({ repos: [ferry], packages: up.roots, arch });
      const fromUpstream = await dnfDownload({ repos: up.dnfRepos(arch), packages: up.roots, arch });
      expect(fromFerry.files).toEqual(fromUpstream.files);
      expect(fromFerry.files.length).toBeGreaterThan(5);
    }, 120_000);
  }
});
