import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle } from '../../../src-main/core/bundle/index.js';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import { lacks } from '../../helpers/tools.js';
import {
  makePlan,
  makeTestCa,
  startRegistry,
  startWorld,
  TestProxy,
  TokenAuthRegistry,
  type TestRegistry,
  type World,
} from '../../helpers/world/index.js';
import { runFetch } from './helpers.js';

describe.skipIf(lacks('docker-registry', 'skopeo', 'openssl'))(
  'registry auth, proxies, mirrors and TLS',
  () => {
    let world: World;
    let tmp: string;
    let n = 0;
    const out = () => path.join(tmp, `b${n++}`);

    beforeAll(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-fetch-auth-'));
      world = await startWorld({ images: { 'team/app:1': { platforms: ['linux/amd64', 'linux/arm64'] } } });
    });
    afterAll(async () => {
      await world?.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    });

    it('does the Bearer token dance with credentials from the profile, and never sends them to the blob storage it is redirected to', async () => {
      const realm = await TokenAuthRegistry.start({
        upstream: world.registry.host,
        users: { alice: 's3cret' },
        blobStorage: true,
      });
      try {
        const ref = `${realm.host}/team/app:1`;
        const plan = makePlan({ images: [{ key: 'app', ref, platforms: ['linux/amd64'] }] });
        // Without credentials: an AUTH failure that says what to add.
        const err = (await runFetch(plan, { out: out(), insecureRegistries: [realm.host] }).catch(
          (e) => e,
        )) as FerryError;
        expect(err).toBeInstanceOf(FerryError);
        expect(err.code).toBe('AUTH');
        expect(err.hint).toMatch(/registries|auth/i);

        const dir = out();
        const r = await runFetch(plan, {
          out: dir,
          insecureRegistries: [realm.host],
          registries: { [realm.host]: { username: 'alice', passwordEnv: 'REG_PASS' } },
          env: { HOME: '/nonexistent', REG_PASS: 's3cret' },
        });
        expect(r.counts.fetched).toBe(1);
        expect(realm.tokenRequests).toBeGreaterThan(0);
        expect(realm.storageRequests).toBeGreaterThan(0);
        expect(realm.storageAuthHeaders).toEqual([]);
        const { manifest } = await openBundle(dir);
        expect(manifest.artifacts.find((a) => a.kind === 'image')).toMatchObject({
          ref,
          digest: world.images['team/app:1'].digest,
        });
      } finally {
        await realm.close();
      }
    });

    it('reads credentials from a Docker-style auth.json', async () => {
      const realm = await TokenAuthRegistry.start({
        upstream: world.registry.host,
        users: { bob: 'pw:with:colons' },
      });
      try {
        const authFile = path.join(tmp, 'auth.json');
        fs.writeFileSync(
          authFile,
          JSON.stringify({
            auths: {
              [`http://${realm.host}`]: { auth: Buffer.from('bob:pw:with:colons').toString('base64') },
            },
          }),
        );
        const r = await runFetch(
          makePlan({ images: [{ key: 'app', ref: `${realm.host}/team/app:1`, platforms: ['linux/arm64'] }] }),
          {
            out: out(),
            insecureRegistries: [realm.host],
            authFile,
          },
        );
        expect(r.counts.fetched).toBe(1);
      } finally {
        await realm.close();
      }
    });

    it('fetches anonymously where the realm allows it', async () => {
      const realm = await TokenAuthRegistry.start({ upstream: world.registry.host, anonymous: true });
      try {
        const r = await runFetch(makePlan({ images: [{ key: 'app', ref: `${realm.host}/team/app:1` }] }), {
          out: out(),
          insecureRegistries: [realm.host],
        });
        expect(r.counts.fetched).toBe(1);
      } finally {
        await realm.close();
      }
    });

    it('pulls through a registry mirror but records the original reference', async () => {
      const ref = 'registry.example.com/team/app:1';
      const dir = out();
      const r = await runFetch(
        makePlan({ images: [{ key: 'app', ref, platforms: ['linux/amd64', 'linux/arm64'] }] }),
        {
          out: dir,
          registryMirrors: { 'registry.example.com': `http://${world.registry.host}` },
          insecureRegistries: [world.registry.host],
        },
      );
      expect(r.counts.fetched).toBe(1);
      const { manifest } = await openBundle(dir);
      expect(manifest.artifacts.find((a) => a.kind === 'image')).toMatchObject({
        ref,
        digest: world.images['team/app:1'].digest,
      });
      const index = JSON.parse(fs.readFileSync(path.join(dir, 'images/index.json'), 'utf8'));
      expect(index.manifests[0].annotations['org.opencontainers.image.ref.name']).toBe(ref);
    });

    it('reaches the registry through an HTTP CONNECT proxy', async () => {
      const proxy = await TestProxy.start();
      try {
        const r = await runFetch(makePlan({ images: [{ key: 'app', ref: world.ref('team/app:1') }] }), {
          out: out(),
          insecureRegistries: [world.registry.host],
          proxy: { http: proxy.url, https: proxy.url },
        });
        expect(r.counts.fetched).toBe(1);
        expect(proxy.connects.length + proxy.forwards.length).toBeGreaterThan(0);
      } finally {
        await proxy.close();
      }
    });

    describe('a registry with a private CA', () => {
      let tls: TestRegistry;
      beforeAll(async () => {
        const ca = makeTestCa(path.join(tmp, 'ca'));
        tls = await startRegistry(tmp, { tls: { cert: ca.cert, key: ca.key } });
        const { execFile } = await import('node:child_process');
        const { promisify } = await import('node:util');
        await promisify(execFile)('skopeo', [
          'copy',
          '--all',
          '--preserve-digests',
          '--src-tls-verify=false',
          '--dest-tls-verify=false',
          `docker://${world.ref('team/app:1')}`,
          `docker://${tls.host}/team/app:1`,
        ]);
      });
      afterAll(async () => tls?.stop());

      it('refuses an unknown certificate with a TLS error that names the fix, and accepts it with the profile caFile', async () => {
        const plan = makePlan({ images: [{ key: 'app', ref: `${tls.host}/team/app:1` }] });
        const err = (await runFetch(plan, { out: out() }).catch((e) => e)) as FerryError;
        expect(err.code).toBe('NETWORK');
        expect(err.hint).toMatch(/caFile|insecure/);
        const r = await runFetch(plan, {
          out: out(),
          registries: { [tls.host]: { caFile: path.join(tmp, 'ca', 'ca.crt') } },
        });
        expect(r.counts.fetched).toBe(1);
      });
    });
  },
);
