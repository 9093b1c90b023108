import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeKeyStore, makeSampleBundle, tempDir } from '../../helpers/bundle-fixtures.js';
import { kubesprayDataDir, repoRoot } from '../../helpers/tools.js';

/** The CLI as a user runs it: a real process, its stdout, stderr and exit code. */
function ferry(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(
    process.execPath,
    [path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), 'src-main/cli/main.ts', ...args],
    {
      cwd: repoRoot,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('the ferry process', () => {
  it('verifies a bundle and prints its report before exiting', async () => {
    const { store, env } = await makeKeyStore('proc');
    const dir = path.join(await tempDir(), 'b');
    await makeSampleBundle(dir, { signer: await store.signer() });
    const r = ferry(['verify', dir], env);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('VERIFIED');
    const j = ferry(['verify', '--json', dir], env);
    expect(JSON.parse(j.out).verified).toBe(true);
    await fs.rm(path.dirname(dir), { recursive: true, force: true });
  });

  it('answers usage errors with exit 2 and help with exit 0', () => {
    expect(ferry(['no-such-command'], process.env).code).toBe(2);
    expect(ferry(['verify', '--bogus'], process.env).code).toBe(2);
    const help = ferry(['--help'], process.env);
    expect(help.code).toBe(0);
    expect(help.out).toContain('Exit codes');
    const sub = ferry(['verify', '--help'], process.env);
    expect(sub.out).toContain('--allow-untrusted');
  });

  it('a missing bundle is a clear failure naming the path', () => {
    const r = ferry(['verify', '/nonexistent/bundle'], process.env);
    // Exit 2 (usage), the same as a path that is a file, and the path named once.
    expect(r.code).toBe(2);
    expect(r.err.split('/nonexistent/bundle').length - 1).toBe(1);
    expect(ferry(['verify', '/etc/hostname'], process.env).code).toBe(2);
  });
});

describe('the ferry process without a terminal', () => {
  const kubespray = path.join(kubesprayDataDir, 'v2.31.0');

  it('ends quietly when the reader of its output goes away (| head -2)', () => {
    const r = spawnSync(
      'sh',
      [
        '-c',
        `"${process.execPath}" node_modules/tsx/dist/cli.mjs src-main/cli/main.ts plan --kubespray "${kubespray}" | head -2`,
      ],
      { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(2);
    expect(r.stderr).not.toContain('EPIPE');
  });

  it('a malformed --set value is a usage error, its prefix printed once', () => {
    const r = ferry(['plan', '--kubespray', kubespray, '--set', 'x=[a, b'], process.env);
    expect(r.code).toBe(2);
    expect(r.err.split('--set x').length - 1).toBe(1);
  });

  it('prints plain progress lines to a pipe during a long job', async () => {
    const { store, env } = await makeKeyStore('progress');
    const dir = path.join(await tempDir(), 'b');
    await makeSampleBundle(dir, { signer: await store.signer() });
    const r = ferry(['verify', dir], { ...env, FERRY_PROGRESS_SECONDS: '0.000001' });
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^verify.* · ETA /m);
    expect(r.err).not.toContain('\x1b[');
    await fs.rm(path.dirname(dir), { recursive: true, force: true });
  });
});

describe('the ferry command', () => {
  it('bin/ferry.mjs and npm run ferry resolve relative paths against the user folder', async () => {
    const cwd = await tempDir();
    const bin = spawnSync(path.join(repoRoot, 'bin/ferry.mjs'), ['verify', './nope'], {
      cwd,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(bin.status).toBe(2);
    expect(bin.stderr).toContain(`No bundle at ${path.join(cwd, 'nope')}.`);
    const npm = spawnSync('npm', ['--prefix', repoRoot, 'run', '-s', 'ferry', '--', 'verify', './nope'], {
      cwd,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(npm.status).toBe(2);
    expect(npm.stderr).toContain(`No bundle at ${path.join(cwd, 'nope')}.`);
    await fs.rm(cwd, { recursive: true, force: true });
  });
});
