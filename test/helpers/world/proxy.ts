import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { closeServer } from '../close-server.js';

/**
 * An HTTP proxy on loopback: CONNECT tunnels (what undici uses for every target) and
 * absolute-form forwarding, optionally demanding Basic proxy credentials. It records what
 * passed through so a test can prove traffic went via the proxy.
 */
export class TestProxy {
  readonly connects: string[] = [];
  readonly forwards: string[] = [];
  refused = 0;
  private server!: http.Server;
  private readonly sockets = new Set<net.Socket>();
  url = '';

  static async start(opts: { username?: string; password?: string } = {}): Promise<TestProxy> {
    const p = new TestProxy();
    const expected = opts.username
      ? 'Basic ' + Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')
      : undefined;
    const authorised = (h: http.IncomingHttpHeaders) => !expected || h['proxy-authorization'] === expected;
    p.server = http.createServer((req, res) => {
      if (!authorised(req.headers)) {
        p.refused++;
        res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end();
        return;
      }
      p.forwards.push(req.url ?? '');
      const target = new URL(req.url ?? '');
      const headers = { ...req.headers };
      delete headers['proxy-authorization'];
      const up = http.request(target, { method: req.method, headers }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    p.server.on('connect', (req, socket: net.Socket, head) => {
      p.sockets.add(socket);
      socket.on('close', () => p.sockets.delete(socket));
      if (!authorised(req.headers)) {
        p.refused++;
        socket.end(
          'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n',
        );
        return;
      }
      p.connects.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const up = net.connect(Number(port), host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) up.write(head);
        up.pipe(socket);
        socket.pipe(up);
      });
      p.sockets.add(up);
      up.on('close', () => p.sockets.delete(up));
      up.on('error', () => socket.destroy());
      socket.on('error', () => up.destroy());
    });
    await new Promise<void>((r) => p.server.listen(0, '127.0.0.1', r));
    p.url = `http://127.0.0.1:${(p.server.address() as AddressInfo).port}`;
    return p;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await closeServer(this.server);
  }
}
