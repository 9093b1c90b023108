import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateVars } from '../../../src-main/core/serve/vars/generate.js';
import { containerdHostsFiles } from '../../../src-main/core/serve/vars/hosts-toml.js';
import { makeImage, writeTestBundle, type TestImage } from '../../helpers/oci-fixtures.js';
import { PassThrough } from 'node:stream';
import { runCli } from '../../../src-main/cli/main.js';
import { kubesprayDataDir, lacks } from '../../helpers/tools.js';
import { Containerd, run } from './tools.js';

/**
 * What a node does with `ferry vars`: containerd on a NON-loopback address (containerd treats
 * 127.0.0.0/8 as loopback and falls back to plain HTTP there, which hid the missing mirror
 * entry). Two network namespaces made here, joined by a veth pair with addresses that exist only
 * inside them; Ferry serves in one, containerd + ctr pull in the other through the hosts.toml
 * rendered from the generated variables as Kubespray's containerd role renders it.
 */

const isRoot = process.getuid?.() === 0;
const SRV = `ferry-vars-srv-${process.pid}`;
const NODE = `ferry-vars-node-${process.pid}`;
const SRV_IP = '10.251.0.1';
const NODE_IP = '10.251.0.2';
const TAG = 'v2.31.0';
const inSrv = ['ip', 'netns', 'exec', SRV];
const inNode = ['ip', 'netns', 'exec', NODE];

// In CI a missing tool or no root fails the suite instead of skipping it.
const missing = lacks('containerd', 'ctr', 'ip') || !isRoot;
describe.skipIf(missing && process.env.CI !== 'true')(
  'containerd on a node pulls with the generated variables',
  () => {
    let tmp: string;
    let image: TestImage;
    const servers: ChildProcess[] = [];
    let ctrd: Containerd;

    const serve = async (port: number, tls: boolean) => {
      const args = [
        path.resolve('node_modules/.bin/tsx'),
        path.resolve('src-main/cli/main.ts'),
        'serve',
        '--bundle',
        path.join(tmp, 'bundle'),
        '--allow-unsigned',
        '--listen',
        SRV_IP,
        '--hostname',
        SRV_IP,
        '--files-port',
        String(port + 1),
        '--registry-port',
        String(port),
        ...(tls ? ['--tls', '--tls-dir', path.join(tmp, 'tls')] : []),
      ];
      const p = spawn(inSrv[0], [...inSrv.slice(1), ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, XDG_CONFIG_HOME: path.join(tmp, 'cfg') },
      });
      let err = '';
      p.stderr?.on('data', (d) => (err += String(d)));
      servers.push(p);
      const scheme = tls ? 'https' : 'http';
      for (let i = 0; i < 300; i++) {
        try {
          await run(
            inNode[0],
            [...inNode.slice(1), 'curl', '-sk', '-o', '/dev/null', `${scheme}://${SRV_IP}:${port}/v2/`],
            {
              timeout: 3000,
            },
          );
          return;
        } catch {
          if (p.exitCode !== null) throw new Error(`ferry serve exited: ${err}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      throw new Error(`ferry serve did not answer on ${SRV_IP}:${port}: ${err}`);
    };

    const hostsDir = async (name: string, registry: string, tls: boolean, caPath?: string) => {
      const g = generateVars({
        kubesprayVersion: TAG,
        defaults: new Map<string, unknown>([['quay_image_repo', 'quay.io']]),
        registry,
        registryTls: tls,
        style: 'kubespray',
        upstreams: [],
        madeBy: 'test',
        ...(caPath ? { caPem: await fs.readFile(caPath, 'utf8'), caPathOnNode: caPath } : {}),
      });
      const dir = path.join(tmp, name);
      for (const f of containerdHostsFiles(g.variables, TAG)) {
        await fs.mkdir(path.dirname(path.join(dir, f.path)), { recursive: true });
        await fs.writeFile(path.join(dir, f.path), f.text);
      }
      return dir;
    };

    beforeAll(async () => {
      if (missing) throw new Error('needs root and containerd, ctr, ip (iproute2)');
      tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-vars-netns-'));
      image = makeImage({ platforms: ['linux/amd64', 'linux/arm64'], layers: 2, layerBytes: 32 * 1024 });
      await writeTestBundle(path.join(tmp, 'bundle'), {
        images: [{ ref: 'quay.io/calico/node:v3.30.3', image }],
      });
      await run('ip', ['netns', 'add', SRV]);
      await run('ip', ['netns', 'add', NODE]);
      const v = `fv${process.pid % 100000}`;
      await run('ip', [
        'link',
        'add',
        `${v}a`,
        'netns',
        SRV,
        'type',
        'veth',
        'peer',
        'name',
        `${v}b`,
        'netns',
        NODE,
      ]);
      await run(inSrv[0], [...inSrv.slice(1), 'ip', 'addr', 'add', `${SRV_IP}/30`, 'dev', `${v}a`]);
      await run(inNode[0], [...inNode.slice(1), 'ip', 'addr', 'add', `${NODE_IP}/30`, 'dev', `${v}b`]);
      for (const ns of [inSrv, inNode]) {
        await run(ns[0], [...ns.slice(1), 'ip', 'link', 'set', 'lo', 'up']);
        await run(ns[0], [...ns.slice(1), 'ip', 'link', 'set', `${v}${ns === inSrv ? 'a' : 'b'}`, 'up']);
      }
      await serve(15000, false);
      await serve(15443, true);
      ctrd = new Containerd(path.join(tmp, 'ctrd'), inNode);
      await ctrd.start();
    }, 180_000);

    afterAll(async () => {
      await ctrd?.stop();
      for (const p of servers) if (p.exitCode === null) p.kill('SIGTERM');
      await run('ip', ['netns', 'del', SRV]).catch(() => undefined);
      await run('ip', ['netns', 'del', NODE]).catch(() => undefined);
      if (tmp) await fs.rm(tmp, { recursive: true, force: true });
    });

    const pull = (ref: string, hosts?: string) =>
      ctrd.ctr(['images', 'pull', ...(hosts ? ['--hosts-dir', hosts] : []), '--snapshotter', 'native', ref]);
    const digestOf = async (ref: string) =>
      (await ctrd.ctr(['images', 'ls']))
        .split('\n')
        .find((l) => l.startsWith(ref + ' '))
        ?.match(/sha256:[0-9a-f]{64}/)?.[0];

    it('plain HTTP: without the mirror entry containerd fails as nodes did; with it the upstream digest is pulled', async () => {
      const ref = `${SRV_IP}:15000/calico/node:v3.30.3`;
      await fs.mkdir(path.join(tmp, 'empty-hosts'), { recursive: true });
      await expect(pull(ref, path.join(tmp, 'empty-hosts'))).rejects.toThrow(
        /server gave HTTP response to HTTPS client/,
      );
      await pull(ref, await hostsDir('hosts-http', `${SRV_IP}:15000`, false));
      expect(await digestOf(ref)).toBe(image.digest);
    }, 180_000);

    it("TLS with Ferry's CA: the ca in hosts.toml makes the pull verify; without it it fails", async () => {
      const ref = `${SRV_IP}:15443/calico/node:v3.30.3`;
      const ca = path.join(tmp, 'tls', 'ca.crt');
      await expect(pull(ref, await hostsDir('hosts-tls-noca', `${SRV_IP}:15443`, true))).rejects.toThrow(
        /certificate|x509/,
      );
      await pull(ref, await hostsDir('hosts-tls', `${SRV_IP}:15443`, true, ca));
      expect(await digestOf(ref)).toBe(image.digest);
    }, 180_000);

    it('mirror style, as `ferry vars --containerd DIR` writes it: the original name is pulled from Ferry', async () => {
      const dir = path.join(tmp, 'hosts-cli');
      const err = new PassThrough();
      let errText = '';
      err.on('data', (d) => (errText += String(d)));
      const code = await runCli(
        [
          'vars',
          '--bundle',
          path.join(tmp, 'bundle'),
          '--allow-unsigned',
          '--kubespray',
          path.join(kubesprayDataDir, TAG),
          '--style',
          'mirror',
          '--hostname',
          SRV_IP,
          '--registry-port',
          '15000',
          '--skip-check',
          '-o',
          path.join(tmp, 'offline-mirror.yml'),
          '--containerd',
          dir,
        ],
        {
          stdout: new PassThrough(),
          stderr: err,
          env: { ...process.env, FERRY_CONFIG_DIR: path.join(tmp, 'cfg') },
          signal: new AbortController().signal,
        },
      );
      expect(code, errText).toBe(0);
      // No hosts.toml: containerd goes to quay.io itself, which this namespace cannot reach.
      await fs.mkdir(path.join(tmp, 'empty-hosts'), { recursive: true });
      await expect(pull('quay.io/calico/node:v3.30.3', path.join(tmp, 'empty-hosts'))).rejects.toThrow();
      await pull('quay.io/calico/node:v3.30.3', dir);
      expect(await digestOf('quay.io/calico/node:v3.30.3')).toBe(image.digest);
    }, 180_000);
  },
);
