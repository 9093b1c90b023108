import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/main.js';
import { openBundle } from '../../../src-main/core/bundle/index.js';
import { KeyStore } from '../../../src-main/core/bundle/keys/index.js';
import { repoRoot } from '../../helpers/tools.js';
import { makePlan, startWorld, type World } from '../../helpers/world/index.js';

/**
 * The bundle carries Ferry itself (the `tool` kind): `ferry fetch` copies the standalone
 * executables `npm run build:cli` built into tools/, the manifest lists and hashes them, verify
 * names a damaged one, and after export and import the carried executable runs on its own.
 */

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

const isExecutable = (p: string) => (fs.statSync(p).mode & 0o111) === 0o111;

describe.skipIf(process.platform !== 'linux' || process.arch !== 'x64')('Ferry carried in the bundle', () => {
  let world: World;
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  let tools: string;
  let planFile: string;
  const bundle = () => path.join(tmp, 'bundle');

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-carry-'));
    // Built into a folder of this test's own, so FERRY_TOOLS_DIR is exercised and nothing else
    // in out/cli is relied on.
    execFileSync(process.execPath, ['scripts/build-cli.mjs', '--targets', 'linux-x64,linux-arm64'], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 300_000,
    });
    tools = path.join(tmp, 'built');
    fs.mkdirSync(tools);
    for (const f of ['ferry-linux-x64', 'ferry-linux-arm64', 'ferry-tools.json'])
      fs.copyFileSync(path.join(repoRoot, 'out/cli', f), path.join(tools, f));
    world = await startWorld({ registry: false });
    env = {
      HOME: tmp,
      FERRY_CONFIG_DIR: path.join(tmp, 'config'),
      FERRY_DATA_DIR: path.join(tmp, 'data'),
      PATH: process.env.PATH,
    };
    await KeyStore.fromEnv(env).generate({ name: 'test' });
    const a = world.files.add('/k8s/kubeadm', randomBytes(50_000));
    planFile = path.join(tmp, 'plan.json');
    fs.writeFileSync(
      planFile,
      JSON.stringify(makePlan({ files: [{ key: 'kubeadm', url: a.url, checksum: a.checksum }] })),
    );
  }, 320_000);
  afterAll(async () => {
    await world?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('refuses to fetch without the executables, naming npm run build:cli and --no-tools', async () => {
    const empty = path.join(tmp, 'empty');
    fs.mkdirSync(empty);
    const r = await cli(['fetch', '--plan', planFile, '--out', path.join(tmp, 'nope')], {
      ...env,
      FERRY_TOOLS_DIR: empty,
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('ferry-linux-x64, ferry-linux-arm64 are not in ' + empty);
    expect(r.stderr).toContain('npm run build:cli');
    expect(r.stderr).toContain('--no-tools');
    expect(fs.existsSync(path.join(tmp, 'nope', 'manifest.json'))).toBe(false);
  });

  it('fetches the executables into tools/, hashed, listed, executable and verified', async () => {
    const r = await cli(['fetch', '--plan', planFile, '--out', bundle()], { ...env, FERRY_TOOLS_DIR: tools });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Carries Ferry 0\.1\.0 for linux-x64, linux-arm64/);
    const { manifest } = await openBundle(bundle());
    expect(manifest.version).toBe(2);
    const index = JSON.parse(fs.readFileSync(path.join(tools, 'ferry-tools.json'), 'utf8'));
    for (const platform of ['linux-x64', 'linux-arm64']) {
      expect(manifest.artifacts).toContainEqual({
        id: `tool:ferry-${platform}`,
        kind: 'tool',
        name: 'ferry',
        platform,
        version: '0.1.0',
        paths: [`tools/ferry-${platform}`],
      });
      const entry = manifest.files.find((f) => f.path === `tools/ferry-${platform}`)!;
      const built = index.tools.find((t: { platform: string }) => t.platform === platform);
      expect(entry).toMatchObject({ size: built.size, sha256: built.sha256 });
      expect(isExecutable(path.join(bundle(), 'tools', `ferry-${platform}`))).toBe(true);
    }
    const v = await cli(['verify', bundle(), '--json'], env);
    expect(v.code, v.stdout).toBe(0);
    // Nothing changed: the rerun downloads nothing and copies no executable.
    const again = await cli(['fetch', '--plan', planFile, '--out', bundle()], {
      ...env,
      FERRY_TOOLS_DIR: tools,
    });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('is up to date');
  });

  it('names a damaged executable in verify', async () => {
    const victim = path.join(bundle(), 'tools', 'ferry-linux-arm64');
    const fd = fs.openSync(victim, 'r+');
    const one = Buffer.alloc(1);
    fs.readSync(fd, one, 0, 1, 1 << 20);
    fs.writeSync(fd, Buffer.from([one[0] ^ 0xff]), 0, 1, 1 << 20);
    try {
      const v = await cli(['verify', bundle()], env);
      expect(v.code).toBe(1);
      expect(v.stdout + v.stderr).toContain('ferry 0.1.0 (linux-arm64)');
      expect(v.stdout + v.stderr).not.toContain('ferry 0.1.0 (linux-x64)');
    } finally {
      fs.writeSync(fd, one, 0, 1, 1 << 20);
      fs.closeSync(fd);
    }
    expect((await cli(['verify', bundle()], env)).code).toBe(0);
  });

  it('exports to a folder and imports into the store; the carried executable runs from both', async () => {
    const stick = path.join(tmp, 'stick');
    const ex = await cli(['export', bundle(), '--to', stick, '--force'], env);
    expect(ex.code, ex.stderr).toBe(0);
    const onStick = path.join(stick, 'tools', 'ferry-linux-x64');
    expect(isExecutable(onStick)).toBe(true);
    // No Node.js, no PATH: the file alone runs.
    const help = spawnSync(onStick, ['--help'], { env: { PATH: '' }, encoding: 'utf8', timeout: 60_000 });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('Exit codes');

    const imp = await cli(['import', stick, '--json'], env);
    expect(imp.code, imp.stderr).toBe(0);
    const report = JSON.parse(imp.stdout);
    expect(report.tools.map((t: { platform: string }) => t.platform).sort()).toEqual([
      'linux-arm64',
      'linux-x64',
    ]);
    const stored = report.tools.find((t: { platform: string }) => t.platform === 'linux-x64').path as string;
    expect(stored.startsWith(path.join(tmp, 'data'))).toBe(true);
    expect(isExecutable(stored)).toBe(true);
    // The stored executable verifies the stick it came from, with its hash workers.
    const v = spawnSync(stored, ['verify', '--json', stick], {
      env: { ...env, FERRY_HASH_THREADS: '2' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(v.status, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout).verified).toBe(true);
  });

  it('archive export keeps tools/ executable for a hand-run tar', async () => {
    const arch = path.join(tmp, 'arch');
    const ex = await cli(['export', bundle(), '--to', arch, '--archive', '--force'], env);
    expect(ex.code, ex.stderr).toBe(0);
    const listing = execFileSync('sh', ['-c', `cat "${arch}"/bundle.tar.* | tar -tvf -`], {
      encoding: 'utf8',
    });
    expect(listing).toMatch(/-rwxr-xr-x .* tools\/ferry-linux-x64/);
    expect(listing).toMatch(/-rw-r--r-- .* plan\.json/);
  });

  it('fetches without them only when told, and then drops the ones the bundle had', async () => {
    const r = await cli(['fetch', '--no-tools', '--plan', planFile, '--out', bundle()], env);
    expect(r.code, r.stderr).toBe(0);
    const { manifest } = await openBundle(bundle());
    expect(manifest.artifacts.filter((a) => a.kind === 'tool')).toEqual([]);
    expect(fs.existsSync(path.join(bundle(), 'tools', 'ferry-linux-x64'))).toBe(false);
    expect(manifest.version).toBe(1);
    expect((await cli(['verify', bundle()], env)).code).toBe(0);
  });
});
