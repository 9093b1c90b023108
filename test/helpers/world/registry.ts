import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, waitFor } from './net.js';

export interface TestRegistry {
  /** host:port, e.g. 127.0.0.1:41234 */
  host: string;
  /** http(s)://host:port */
  url: string;
  root: string;
  stop(): Promise<void>;
}

/**
 * Debian's docker-registry (distribution 2.8) on a free loopback port with its own storage
 * root. With `tls` it serves HTTPS with that certificate.
 */
export async function startRegistry(
  workDir: string,
  opts: { tls?: { cert: string; key: string } } = {},
): Promise<TestRegistry> {
  const root = path.join(
    workDir,
    `registry-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
  );
  fs.mkdirSync(path.join(root, 'data'), { recursive: true });
  const port = await freePort();
  const tls = opts.tls ? `\n  tls:\n    certificate: ${opts.tls.cert}\n    key: ${opts.tls.key}` : '';
  const cfg = `version: 0.1
log:
  level: error
  accesslog: { disabled: true }
storage:
  filesystem: { rootdirectory: ${path.join(root, 'data')} }
  delete: { enabled: true }
http:
  addr: 127.0.0.1:${port}${tls}
`;
  const cfgPath = path.join(root, 'config.yml');
  fs.writeFileSync(cfgPath, cfg);
  const child: ChildProcess = spawn('docker-registry', ['serve', cfgPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d.toString()).slice(-4000));
  const scheme = opts.tls ? 'https' : 'http';
  const url = `${scheme}://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
      const { request } = await import('undici');
      const { Agent } = await import('undici');
      const res = await request(`${url}/v2/`, {
        dispatcher: new Agent({ connect: { rejectUnauthorized: false } }),
      });
      await res.body.dump();
      return res.statusCode === 200;
    }, 'docker-registry');
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    root,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
