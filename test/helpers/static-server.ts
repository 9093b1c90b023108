import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { closeServer } from './close-server.js';

/**
 * A loopback HTTP server over a folder (an archive mirror in tests) on 127.0.0.1, ephemeral port,
 * with per-path overrides so a test can serve tampered bytes for one file (or a 404: null), and a
 * log of the paths asked for. GET and HEAD; paths are never allowed out of the folder.
 */
export interface StaticServer {
  url: string;
  overrides: Map<string, Buffer | string | null>;
  requests: string[];
  close: () => Promise<void>;
}

export async function serveDir(root: string): Promise<StaticServer> {
  const overrides = new Map<string, Buffer | string | null>();
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(p);
    const head = req.method === 'HEAD';
    const o = overrides.get(p);
    if (o === null) {
      res.writeHead(404, { 'Content-Length': 0 }).end();
      return;
    }
    if (o !== undefined) {
      res.writeHead(200, { 'Content-Length': Buffer.byteLength(o) }).end(head ? undefined : o);
      return;
    }
    const file = path.join(root, ...p.split('/').filter((s) => s && s !== '..'));
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) {
        res.writeHead(404, { 'Content-Length': 0 }).end();
        return;
      }
      res.writeHead(200, { 'Content-Length': st.size });
      if (head) res.end();
      else fs.createReadStream(file).pipe(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    overrides,
    requests,
    close: () => closeServer(server),
  };
}

/** The name the repository tests use. */
export const startStaticServer = serveDir;

/**
 * The same directory served by another process (python3 -m http.server), for oracles that run
 * synchronously (execFileSync apt-get update would block this process's own server).
 */
export async function serveDirInChild(root: string): Promise<{ url: string; close: () => void }> {
  const { spawn } = await import('node:child_process');
  const child = spawn(
    'python3',
    ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', root],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`python3 http.server exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, close: () => child.kill() };
}
