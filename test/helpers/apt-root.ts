import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * apt-get in a throw-away root with the given sources.list lines: an empty dpkg status (a bare
 * node), its own lists and cache, no host keyrings (only what `signed-by=` names), so nothing on
 * the host is read or changed. Valid-Until and Date checks stay on: Ferry's Release must pass them.
 */
export function aptRootWith(dir: string, sources: string[]): string[] {
  for (const d of [
    'etc/apt/preferences.d',
    'etc/apt/apt.conf.d',
    'state/lists/partial',
    'cache/archives/partial',
  ])
    fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.writeFileSync(path.join(dir, 'status'), '');
  fs.writeFileSync(path.join(dir, 'etc/apt/sources.list'), sources.map((s) => s + '\n').join(''));
  const o = (k: string, v: string): string[] => ['-o', `${k}=${v}`];
  return [
    ...o('Dir', dir),
    ...o('Dir::Etc', path.join(dir, 'etc/apt')),
    ...o('Dir::State', path.join(dir, 'state')),
    ...o('Dir::State::status', path.join(dir, 'status')),
    ...o('Dir::Cache', path.join(dir, 'cache')),
    ...o('Dir::Etc::sourceparts', '-'),
    ...o('Dir::Etc::Trusted', '/dev/null'),
    ...o('Dir::Etc::TrustedParts', path.join(dir, 'none')),
    ...o('APT::Architecture', 'amd64'),
    ...o('APT::Architectures', 'amd64'),
    ...o('Acquire::Languages', 'none'),
    ...o('Debug::NoLocking', '1'),
    // The root sits in a private temp folder that apt's _apt download user cannot enter.
    ...o('APT::Sandbox::User', 'root'),
  ];
}

/**
 * Run apt-get; resolves with the exit code and both outputs (never rejects). Asynchronous on
 * purpose: the servers apt talks to in a test run in the test's own event loop.
 */
export function aptGet(opts: string[], args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const c = spawn('apt-get', [...opts, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.on('error', (err) => resolve({ code: -1, out: String(err) }));
    c.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}
