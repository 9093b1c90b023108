/**
 * bench/serve/pipelining: what hostile-but-cheap clients cost a real `ferry serve` process
 * (issue 12 items 4-5). Descriptors (/proc/PID/fd) and RSS (/proc/PID/status) of the server:
 *
 *  1. before anything;
 *  2. while one connection has 500 GETs of a 64 MiB file pipelined and reads nothing, then 1 s and
 *     5 s after that client closed;
 *  3. while 200 connections each sent one GET and read nothing, then 1 s and 5 s after they closed.
 *
 * Run: npx tsx bench/serve/pipelining.ts [--tmp DIR]   (Linux: reads /proc)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTestBundle } from '../../test/helpers/oci-fixtures.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FILE_URL = 'https://github.com/etcd-io/etcd/releases/download/v3.5.25/etcd-v3.5.25-linux-amd64.tar.gz';
const FILE_PATH = '/github.com/etcd-io/etcd/releases/download/v3.5.25/etcd-v3.5.25-linux-amd64.tar.gz';
const FILE_MIB = 64;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sample(pid: number): Promise<{ fds: number; rssMiB: number }> {
  const fds = (await fs.readdir(`/proc/${pid}/fd`)).length;
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]);
  return { fds, rssMiB: Math.round(kb / 1024) };
}

async function connect(port: number): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  await new Promise((r) => s.once('connect', r));
  s.pause(); // read nothing
  return s;
}

async function main(): Promise<void> {
  const ti = process.argv.indexOf('--tmp');
  const base = ti > 0 ? process.argv[ti + 1] : os.tmpdir();
  await fs.mkdir(base, { recursive: true });
  const tmp = await fs.mkdtemp(path.join(base, 'ferry-bench-pipelining-'));
  const rows: Array<[string, { fds: number; rssMiB: number }]> = [];
  let proc: ReturnType<typeof spawn> | undefined;
  try {
    await writeTestBundle(path.join(tmp, 'b'), {
      files: [{ url: FILE_URL, content: Buffer.alloc(FILE_MIB * 1024 * 1024, 7) }],
    });
    proc = spawn(
      process.execPath,
      [
        path.join(root, 'bin/ferry.mjs'),
        'serve',
        '--bundle',
        path.join(tmp, 'b'),
        '--allow-unsigned',
        '--quiet',
        '--listen',
        '127.0.0.1',
        '--files-port',
        '0',
        '--registry-port',
        '0',
      ],
      { cwd: root, env: { ...process.env, FERRY_CONFIG_DIR: path.join(tmp, 'config') } },
    );
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr!.resume();
    for (let i = 0; !out.includes('Press Ctrl-C'); i++) {
      if (i > 600 || proc.exitCode !== null) throw new Error(`ferry serve did not start:\n${out}`);
      await sleep(100);
    }
    const port = Number(/^Files: +http:\/\/[^:]+:(\d+)\//m.exec(out)![1]);
    const pid = proc.pid!;
    await sleep(1000);
    rows.push(['before', await sample(pid)]);

    const get = `GET ${FILE_PATH} HTTP/1.1\r\nHost: bench\r\n\r\n`;
    const one = await connect(port);
    one.write(get.repeat(500));
    await sleep(2000);
    rows.push(['500 pipelined GETs, client reading nothing', await sample(pid)]);
    one.destroy();
    await sleep(1000);
    rows.push(['  1 s after that client closed', await sample(pid)]);
    await sleep(4000);
    rows.push(['  5 s after that client closed', await sample(pid)]);

    const many = await Promise.all(Array.from({ length: 200 }, () => connect(port)));
    for (const s of many) s.write(get);
    await sleep(3000);
    rows.push(['200 stalled clients (one GET each, reading nothing)', await sample(pid)]);
    for (const s of many) s.destroy();
    await sleep(1000);
    rows.push(['  1 s after they closed', await sample(pid)]);
    await sleep(4000);
    rows.push(['  5 s after they closed', await sample(pid)]);
  } finally {
    if (proc && proc.exitCode === null) {
      proc.kill('SIGTERM');
      await new Promise((r) => proc!.once('exit', r));
    }
    await fs.rm(tmp, { recursive: true, force: true });
  }
  console.log(`ferry serve, one ${FILE_MIB} MiB file, Node ${process.version}`);
  console.log(`${'moment'.padEnd(54)} ${'fds'.padStart(5)} ${'RSS MiB'.padStart(8)}`);
  for (const [what, s] of rows)
    console.log(`${what.padEnd(54)} ${String(s.fds).padStart(5)} ${String(s.rssMiB).padStart(8)}`);
}

await main();
