import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { create as tarCreate } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKeyStore, makeSampleBundle, tempDir } from '../../helpers/bundle-fixtures.js';
import { makeImage, writeTestBundle } from '../../helpers/oci-fixtures.js';
import { kubesprayDataDir, lacks, missingTools, repoRoot } from '../../helpers/tools.js';
import { freePort } from '../../helpers/world/net.js';
import { makePlan } from '../../helpers/world/plans.js';

/**
 * The standalone executable a technician carries to an offline server with no Node.js: built by
 * scripts/build-cli.mjs (esbuild bundle + Node's single-executable-application support), run
 * here as a real process, never through tsx — hash workers, the catalog and the servers included.
 */
const exe = path.join(repoRoot, 'out/cli/ferry-linux-x64');
const arm = path.join(repoRoot, 'out/cli/ferry-linux-arm64');

function ferry(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(exe, args, { env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe.skipIf(process.platform !== 'linux' || process.arch !== 'x64')(
  'the standalone ferry executable',
  () => {
    let tmp: string;
    beforeAll(async () => {
      tmp = await tempDir('ferry-standalone-');
      execFileSync(process.execPath, ['scripts/build-cli.mjs', '--targets', 'linux-x64,linux-arm64'], {
        cwd: repoRoot,
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: 300_000,
      });
    }, 320_000);
    afterAll(async () => {
      await fs.rm(tmp, { recursive: true, force: true });
    });

    it.skipIf(lacks('file'))(
      'is a self-contained ELF for each architecture, with no Node.js needed beside it',
      () => {
        const x64 = execFileSync('file', ['-b', exe], { encoding: 'utf8' });
        const a64 = execFileSync('file', ['-b', arm], { encoding: 'utf8' });
        expect(x64).toMatch(/ELF 64-bit.*x86-64/);
        expect(a64).toMatch(/ELF 64-bit.*aarch64/);
        // Run with an empty PATH: nothing outside the file is used to start.
        const help = ferry(['--help'], { PATH: '' });
        expect(help.err).toBe('');
        expect(help.code).toBe(0);
        expect(help.out).toContain('Exit codes');
        expect(ferry(['no-such-command']).code).toBe(2);
      },
    );

    it('package.json bin runs the built CLI in a package that carries no sources', async () => {
      // What `npm pack` ships (package.json "files"): bin/ and out/cli/ferry.cjs, no src-main.
      const pkg = path.join(tmp, 'pkg');
      await fs.mkdir(path.join(pkg, 'bin'), { recursive: true });
      await fs.mkdir(path.join(pkg, 'out/cli'), { recursive: true });
      await fs.copyFile(path.join(repoRoot, 'bin/ferry.mjs'), path.join(pkg, 'bin/ferry.mjs'));
      await fs.copyFile(path.join(repoRoot, 'out/cli/ferry.cjs'), path.join(pkg, 'out/cli/ferry.cjs'));
      const r = spawnSync(
        process.execPath,
        [
          path.join(pkg, 'bin/ferry.mjs'),
          'plan',
          '--offline',
          '--json',
          '--kubespray',
          path.join(kubesprayDataDir, 'v2.31.0'),
        ],
        {
          cwd: tmp,
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '', HOME: tmp },
        },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).files.length).toBeGreaterThan(10);
    });

    it.skipIf(lacks('/usr/bin/time'))('answers --help within 80 MB of peak memory', async () => {
      // Commands load their part of core only when they run (src-main/cli/commands/index.ts); a
      // command imported eagerly again would put undici, openpgp and zod back on every start.
      const stats = path.join(tmp, 'help.time');
      execFileSync('/usr/bin/time', ['-o', stats, '-f', '%M', exe, '--help'], { stdio: 'ignore' });
      const kb = Number((await fs.readFile(stats, 'utf8')).trim().split('\n').pop());
      expect(kb).toBeGreaterThan(10_000);
      expect(kb).toBeLessThan(80 * 1024);
    });

    it('carries itself: a fetch run by the executable puts it and its sibling into tools/', async () => {
      // Copied away from the checkout, so only the executable's own folder can supply them.
      const dir = path.join(tmp, 'carrier');
      await fs.mkdir(dir);
      for (const f of ['ferry-linux-x64', 'ferry-linux-arm64', 'ferry-tools.json'])
        await fs.copyFile(path.join(repoRoot, 'out/cli', f), path.join(dir, f));
      await fs.chmod(path.join(dir, 'ferry-linux-x64'), 0o755);
      const planFile = path.join(tmp, 'empty-plan.json');
      await fs.writeFile(planFile, JSON.stringify(makePlan({})));
      const out = path.join(tmp, 'carried');
      const env = { PATH: '', HOME: tmp, FERRY_CONFIG_DIR: path.join(tmp, 'cfg-carrier') };
      const r = spawnSync(path.join(dir, 'ferry-linux-x64'), ['fetch', '--plan', planFile, '--out', out], {
        env,
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('Carries Ferry 0.1.0 for linux-x64, linux-arm64');
      for (const f of ['ferry-linux-x64', 'ferry-linux-arm64']) {
        const [a, b] = await Promise.all([
          fs.readFile(path.join(dir, f)),
          fs.readFile(path.join(out, 'tools', f)),
        ]);
        expect(a.equals(b)).toBe(true);
      }
      const help = spawnSync(path.join(out, 'tools', 'ferry-linux-x64'), ['--help'], {
        env,
        encoding: 'utf8',
      });
      expect(help.status).toBe(0);
    });

    it('plans from a Kubespray folder like the tsx CLI does', () => {
      const dir = path.join(kubesprayDataDir, 'v2.31.0');
      const r = ferry(['plan', '--kubespray', dir, '--json']);
      expect(r.code).toBe(0);
      const plan = JSON.parse(r.out);
      const tsx = spawnSync(
        process.execPath,
        [
          path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs'),
          'src-main/cli/main.ts',
          'plan',
          '--kubespray',
          dir,
          '--json',
        ],
        { cwd: repoRoot, encoding: 'utf8' },
      );
      expect(plan).toEqual(JSON.parse(tsx.stdout));
      expect(plan.files.length).toBeGreaterThan(10);
    });

    it('verifies a signed bundle on its hash worker threads, and names a damaged file', async () => {
      const { store, env } = await makeKeyStore('standalone');
      const dir = path.join(tmp, 'b');
      const sample = await makeSampleBundle(dir, {
        signer: await store.signer(),
        fileSizes: [1000, 5 << 20, 9 << 20],
      });
      const ok = ferry(['verify', '--json', dir], { ...env, FERRY_HASH_THREADS: '2' });
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.out).verified).toBe(true);
      const victim = path.join(dir, sample.files[2].path);
      const fh = await fs.open(victim, 'r+');
      await fh.write(Buffer.from('x'), 0, 1, 4 << 20);
      await fh.close();
      const bad = ferry(['verify', dir], { ...env, FERRY_HASH_THREADS: '2' });
      expect(bad.code).toBe(1);
      expect(bad.out + bad.err).toContain('tool2');
    });

    it.skipIf(lacks('ansible-playbook', 'ansible-inventory'))(
      'serves, writes offline.yml and deploys a Kubespray-shaped release, all from the executable',
      async () => {
        // The offline side with nothing but the executable: its own serve, vars and deploy (the
        // callback plugin it carries, ansible-playbook of the deploy host), this machine the node.
        const src = path.join(tmp, 'ks-src', 'kubespray-2.31.0');
        await fs.mkdir(path.join(src, 'roles', 'probe', 'tasks'), { recursive: true });
        await fs.cp(path.join(kubesprayDataDir, 'v2.31.0', 'roles'), path.join(src, 'roles'), {
          recursive: true,
        });
        await fs.writeFile(
          path.join(src, 'ansible.cfg'),
          '[defaults]\nhost_key_checking=False\nroles_path = roles\n',
        );
        await fs.writeFile(
          path.join(src, 'cluster.yml'),
          '- hosts: k8s_cluster\n  gather_facts: false\n  roles: [probe]\n',
        );
        const got = path.join(tmp, 'kubeadm-from-files-repo');
        await fs.writeFile(
          path.join(src, 'roles', 'probe', 'tasks', 'main.yml'),
          `- name: Download kubeadm from files_repo\n  ansible.builtin.get_url:\n    url: "{{ files_repo }}/dl.k8s.io/release/v1.33.5/bin/linux/amd64/kubeadm"\n    dest: ${got}\n`,
        );
        const tarball = path.join(tmp, 'ks.tar.gz');
        await tarCreate({ gzip: true, file: tarball, cwd: path.dirname(src) }, ['kubespray-2.31.0']);
        const dir = path.join(tmp, 'deploy-bundle');
        await writeTestBundle(dir, {
          files: [
            {
              url: 'https://dl.k8s.io/release/v1.33.5/bin/linux/amd64/kubeadm',
              content: Buffer.from('kubeadm\n'),
            },
          ],
          kubespray: { version: 'v2.31.0', tarball: await fs.readFile(tarball) },
        });
        const s = await serveStandalone(dir);
        try {
          expect(s.output()).toContain('Press Ctrl-C');
          const env = {
            ...process.env,
            FERRY_CONFIG_DIR: path.join(tmp, 'cfg'),
            FERRY_DATA_DIR: path.join(tmp, 'data'),
          };
          const yml = path.join(tmp, 'offline.yml');
          const ports = ['--files-port', String(s.fp), '--registry-port', String(s.rp)];
          const v = ferry(
            [
              'vars',
              '--bundle',
              dir,
              '--allow-unsigned',
              '--hostname',
              '127.0.0.1',
              ...ports,
              '--skip-check',
              '-o',
              yml,
            ],
            env,
          );
          expect(v.code, v.err).toBe(0);
          const d = spawnSync(
            exe,
            [
              'deploy',
              '--bundle',
              dir,
              '--allow-unsigned',
              '--vars',
              yml,
              '--node',
              'node1=local',
              '--python',
              '/usr/bin/python3',
              '--dir',
              path.join(tmp, 'deploy-dir'),
            ],
            { env, encoding: 'utf8', timeout: 180_000 },
          );
          expect(d.status, d.stdout + d.stderr).toBe(0);
          expect(d.stdout + d.stderr).toMatch(/Deployed: cluster\.yml ran on 1 host/);
          expect(await fs.readFile(got, 'utf8')).toBe('kubeadm\n');
        } finally {
          expect(await s.stop()).toBe(0);
        }
      },
    );

    /** `ferry serve` from the executable, started and waited for until it listens (or exits). */
    async function serveStandalone(dir: string, extra: string[] = []) {
      const [fp, rp] = [await freePort(), await freePort()];
      // Two hash workers, whatever the core count: the start-up verification runs on the pool.
      const env = { ...process.env, FERRY_CONFIG_DIR: path.join(tmp, 'cfg'), FERRY_HASH_THREADS: '2' };
      const args = ['serve', '--bundle', dir, '--allow-unsigned', '--listen', '127.0.0.1', ...extra];
      const child = spawn(exe, [...args, '--files-port', String(fp), '--registry-port', String(rp)], { env });
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (out += c));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      const end = Date.now() + 60_000;
      while (!out.includes('Press Ctrl-C') && child.exitCode === null && Date.now() < end)
        await new Promise((r) => setTimeout(r, 50));
      const stop = async () => {
        if (child.exitCode === null) child.kill('SIGINT');
        return exited;
      };
      return { fp, rp, child, output: () => out, exited, stop };
    }

    it.skipIf(lacks('skopeo'))(
      'serves a verified bundle that skopeo pulls from, every layer byte for byte',
      async () => {
        missingTools('skopeo');
        const dir = path.join(tmp, 'img');
        // Layers of a few MB each, so the start-up verification is real work for the workers.
        const image = makeImage({ layers: 3, layerBytes: 3 << 20 });
        await writeTestBundle(dir, {
          images: [{ ref: 'registry.k8s.io/pause:3.10', image }],
          files: [],
        });
        const s = await serveStandalone(dir);
        try {
          expect(s.output()).toContain('Press Ctrl-C');
          const target = path.join(tmp, 'copy');
          execFileSync('skopeo', [
            'copy',
            '--src-tls-verify=false',
            '--override-arch',
            'arm64',
            `docker://127.0.0.1:${s.rp}/pause:3.10`,
            `oci:${target}:pause`,
          ]);
          const index = JSON.parse(await fs.readFile(path.join(target, 'index.json'), 'utf8'));
          expect(index.manifests).toHaveLength(1);
          const manifest = JSON.parse(
            await fs.readFile(
              path.join(target, 'blobs/sha256', index.manifests[0].digest.slice('sha256:'.length)),
              'utf8',
            ),
          );
          expect(manifest.layers).toHaveLength(3);
          for (const l of manifest.layers as Array<{ digest: string; size: number }>) {
            const hex = l.digest.slice('sha256:'.length);
            const bytes = await fs.readFile(path.join(target, 'blobs/sha256', hex));
            expect(bytes.length).toBe(l.size);
            expect(createHash('sha256').update(bytes).digest('hex')).toBe(hex);
            expect(image.blobs.get(l.digest)?.equals(bytes)).toBe(true);
          }
        } finally {
          expect(await s.stop()).toBe(0);
        }
      },
    );

    it('refuses to serve a bundle whose layer its hash workers find damaged', async () => {
      const dir = path.join(tmp, 'img-bad');
      const image = makeImage({ layers: 2, layerBytes: 2 << 20, single: true });
      const m = await writeTestBundle(dir, {
        images: [{ ref: 'registry.k8s.io/pause:3.10', image }],
        files: [],
      });
      const layer = [...m.files].sort((a, b) => b.size - a.size)[0];
      const fh = await fs.open(path.join(dir, layer.path), 'r+');
      await fh.write(Buffer.from('x'), 0, 1, 1 << 20);
      await fh.close();
      const s = await serveStandalone(dir);
      const code = await Promise.race([s.exited, s.stop()]);
      expect(code, s.output()).toBe(1);
      expect(s.output()).not.toContain('Press Ctrl-C');
      expect(s.output()).toContain('registry.k8s.io/pause:3.10');
    });
  },
);
