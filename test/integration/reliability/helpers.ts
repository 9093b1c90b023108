import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { lacks, lacksCondition, repoRoot } from '../../helpers/tools.js';

/**
 * Real processes and real file systems for the reliability suite: `ferry` spawned as a user runs
 * it (so SIGKILL and a drained event loop behave as they do for users), and small ext4 images
 * on loop devices for full disks.
 */

export interface FerryRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  seconds: number;
}

/**
 * Start `ferry ARGS` as bin/ferry.mjs does for users: one process running the sources through
 * tsx's in-process loader (tsx's own CLI runs the script in a child, and a SIGKILL would then
 * reach only the parent).
 */
export function spawnFerry(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [path.join(repoRoot, 'bin/ferry.mjs'), ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Collect a spawned ferry's output until it exits (killed after `timeoutMs` so a hang fails, not stalls). */
export function waitFerry(child: ChildProcess, timeoutMs = 90_000): Promise<FerryRun> {
  const started = Date.now();
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (err += d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // 'exit' can come before the pipes are drained; 'close' is after both.
      child.once('close', () => resolve({ code, signal, out, err, seconds: (Date.now() - started) / 1000 }));
    });
  });
}

export function runFerry(args: string[], env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<FerryRun> {
  return waitFerry(spawnFerry(args, env), timeoutMs);
}

function loopProblem(): string | null {
  if (process.platform !== 'linux') return 'loop devices are Linux-only';
  if (process.getuid?.() !== 0) return 'needs root for losetup and mount';
  if (!existsSync('/dev/loop-control')) return 'no /dev/loop-control (container without loop devices)';
  return null;
}

/** describe.skipIf helper: no loop-mounted ext4 here (outside CI; in CI it throws). */
export function lacksLoopExt4(): boolean {
  const why = loopProblem();
  return (
    lacksCondition(why !== null, `loop devices and mount (${why})`) || lacks('mkfs.ext4', 'losetup', 'mount')
  );
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export interface SmallDisk {
  mnt: string;
  /** Unmount and detach; safe to call twice. */
  release(): void;
}

/** A fresh ext4 file system of `mib` MiB (no reserved blocks) mounted at `dir`/mnt. */
export async function smallExt4(dir: string, mib: number): Promise<SmallDisk> {
  const img = path.join(dir, 'disk.img');
  await fs.writeFile(img, '');
  await fs.truncate(img, mib << 20);
  sh('mkfs.ext4', ['-q', '-F', '-m', '0', img]);
  const mnt = path.join(dir, 'mnt');
  await fs.mkdir(mnt, { recursive: true });
  const dev = sh('losetup', ['-f', '--show', img]);
  try {
    sh('mount', [dev, mnt]);
  } catch (err) {
    sh('losetup', ['-d', dev]);
    throw err;
  }
  let released = false;
  return {
    mnt,
    release() {
      if (released) return;
      released = true;
      if (spawnSync('mountpoint', ['-q', mnt]).status === 0) spawnSync('umount', ['-l', mnt]);
      spawnSync('losetup', ['-d', dev]);
    },
  };
}

/** Sizes of the regular files under `dir` (recursively), by path relative to it. */
export async function fileSizes(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const walk = async (rel: string) => {
    let entries;
    try {
      entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) out.set(r, (await fs.stat(path.join(dir, r))).size);
    }
  };
  await walk('');
  return out;
}
