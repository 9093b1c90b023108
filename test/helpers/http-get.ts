import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A plain request that keeps the path exactly as given (no URL normalisation, unlike fetch). */
export function request(
  base: string,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; ca?: string } = {},
): Promise<Reply> {
  const u = new URL(base);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        ...(opts.ca ? { ca: opts.ca } : {}),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Send raw bytes to a server and return what comes back before it closes (or after a short wait). */
export function rawRequest(base: string, data: string): Promise<string> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: u.hostname, port: Number(u.port) }, () => sock.write(data));
    let out = '';
    sock.on('data', (c) => (out += c.toString('latin1')));
    sock.on('error', reject);
    sock.on('close', () => resolve(out));
    setTimeout(() => sock.destroy(), 1500).unref();
  });
}
