import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const pexec = promisify(execFile);

/** Run a program, returning stdout; the error carries stderr so failures say why. */
export async function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeout?: number } = {},
): Promise<string> {
  try {
    const { stdout } = await pexec(cmd, args, {
      env: opts.env ?? process.env,
      timeout: opts.timeout ?? 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

async function waitFor(check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A private containerd (CRI off), as on a Kubespray node, bound to a socket in `dir`. */
export class Containerd {
  private proc?: ChildProcess;
  readonly socket: string;
  /** `wrap` runs containerd and ctr under a prefix, e.g. ['ip', 'netns', 'exec', NS]. */
  constructor(
    readonly dir: string,
    readonly wrap: string[] = [],
  ) {
    this.socket = path.join(dir, 'containerd.sock');
  }
  async start(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    const cfg = path.join(this.dir, 'config.toml');
    await fs.writeFile(
      cfg,
      [
        'version = 2',
        `root = "${this.dir}/root"`,
        `state = "${this.dir}/state"`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
        '[grpc]',
        `  address = "${this.socket}"`,
        '[ttrpc]',
        `  address = "${this.socket}.ttrpc"`,
        '[debug]',
        '  address = ""',
        '[metrics]',
        '  address = ""',
        '',
      ].join('\n'),
    );
    const [cmd, ...pre] = [...this.wrap, 'containerd'];
    this.proc = spawn(cmd, [...pre, '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr?.resume();
    await waitFor(async () => {
      await this.ctr(['version'], 5000);
      return true;
    }, 'containerd');
  }
  ctr(args: string[], timeout = 120_000): Promise<string> {
    const [cmd, ...pre] = [...this.wrap, 'ctr'];
    return run(cmd, [...pre, '--address', this.socket, ...args], { timeout });
  }
  async stop(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null) return;
    const p = this.proc;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
      setTimeout(() => p.kill('SIGKILL'), 10_000).unref();
    });
    // containerd leaves mounts under its root with the native snapshotter only as plain dirs.
    await fs.rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** A Debian docker-registry (distribution 2.8) on a free loopback port. */
export class DockerRegistry {
  private proc?: ChildProcess;
  port = 0;
  constructor(
    readonly dir: string,
    private readonly tls?: { cert: string; key: string },
    private readonly auth?: { htpasswd: string },
  ) {}
  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    this.port = await freePort();
    const cfg = path.join(this.dir, 'config.yml');
    const lines = [
      'version: 0.1',
      'log: { level: error }',
      `storage: { filesystem: { rootdirectory: ${this.dir}/data }, delete: { enabled: true } }`,
      'http:',
      `  addr: 127.0.0.1:${this.port}`,
      ...(this.tls ? ['  tls:', `    certificate: ${this.tls.cert}`, `    key: ${this.tls.key}`] : []),
      ...(this.auth
        ? ['auth:', '  htpasswd:', '    realm: ferry-test', `    path: ${this.auth.htpasswd}`]
        : []),
      '',
    ];
    await fs.writeFile(cfg, lines.join('\n'));
    this.proc = spawn('docker-registry', ['serve', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr?.resume();
    await waitFor(async () => {
      const net = await import('node:net');
      return new Promise<boolean>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port: this.port }, () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
    }, 'docker-registry');
  }
  async stop(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null) return;
    const p = this.proc;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
      setTimeout(() => p.kill('SIGKILL'), 5000).unref();
    });
  }
}

export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}
