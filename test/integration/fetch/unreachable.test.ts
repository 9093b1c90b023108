import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/main.js';
import { FileHost, freePort, makePlan } from '../../helpers/world/index.js';

/**
 * With no network, every artifact used to spend six attempts with backoff on a name that does
 * not resolve (~47 s for Kubespray's 31 files, again on every rerun) and printed the same
 * connection error 31 times, twice. A host that does not resolve, or a proxy that refuses the
 * connection, is tried once more and then known to be unreachable for the run: the fetch ends
 * in seconds with one message that names the fixes. The CLI runs with its default retry policy.
 */

/** RFC 2606: `.invalid` never resolves. */
const DEAD_HOST = 'upstream.ferry-test.invalid';

async function cli(args: string[], env: NodeJS.ProcessEnv) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const t0 = Date.now();
  const code = await runCli(args, { stdout, stderr, env, signal: new AbortController().signal });
  return { code, stdout: out, stderr: err, seconds: (Date.now() - t0) / 1000 };
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

describe('fetch when the upstream or the proxy cannot be reached', () => {
  let tmp: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fetch-net-unreachable-'));
    // No proxy from the environment that runs the tests: the direct path is what is tested.
    env = {
      HOME: tmp,
      FERRY_CONFIG_DIR: path.join(tmp, 'config'),
      FERRY_DATA_DIR: path.join(tmp, 'data'),
      PATH: process.env.PATH,
    };
  });
  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a host that does not resolve fails every artifact in seconds, with one message naming --proxy and --mirror', async () => {
    const files = Array.from({ length: 28 }, (_, i) => ({
      key: `file${i}`,
      url: `https://${DEAD_HOST}/release/v1/file${i}.tar.gz`,
      checksum: `sha256:${randomBytes(32).toString('hex')}`,
    }));
    const images = ['pause:3.10', 'coredns:v1.12.0', 'etcd:3.5.21'].map((r, i) => ({
      key: `image${i}`,
      ref: `${DEAD_HOST}/k8s/${r}`,
    }));
    const planFile = path.join(tmp, 'plan-dns.json');
    fs.writeFileSync(planFile, JSON.stringify(makePlan({ files, images })));
    for (const run of [1, 2]) {
      // The second run is the rerun that used to spend the same time again.
      const r = await cli(
        ['fetch', '--no-tools', '--plan', planFile, '--out', path.join(tmp, 'bundle-dns')],
        env,
      );
      const what = `run ${run} (${r.seconds} s)\n${r.stderr}`;
      expect(r.code, what).not.toBe(0);
      expect(r.seconds, what).toBeLessThan(10);
      expect(count(r.stderr, `${DEAD_HOST} cannot be resolved`), what).toBe(1);
      expect(r.stderr, what).toMatch(/upstream is unreachable/);
      expect(count(r.stderr, '--proxy'), what).toBe(1);
      expect(count(r.stderr, '--mirror'), what).toBe(1);
      expect(r.stderr, what).toContain('31 artifacts from upstream.ferry-test.invalid');
      // No line per artifact.
      for (const f of files) expect(r.stderr, what).not.toContain(f.url);
      expect(r.stderr, what).not.toContain('ENOTFOUND upstream');
    }
  });

  it('--json ends with one error for the host, and each failed item still names its artifact', async () => {
    const files = Array.from({ length: 10 }, (_, i) => ({
      key: `file${i}`,
      url: `https://${DEAD_HOST}/json/file${i}`,
      checksum: `sha256:${randomBytes(32).toString('hex')}`,
    }));
    const planFile = path.join(tmp, 'plan-json.json');
    fs.writeFileSync(planFile, JSON.stringify(makePlan({ files })));
    const r = await cli(
      ['fetch', '--no-tools', '--plan', planFile, '--out', path.join(tmp, 'bundle-json'), '--json'],
      env,
    );
    expect(r.code).not.toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const failed = lines.filter((l) => l.type === 'item' && l.item.status === 'failed');
    expect(failed.map((l) => l.item.error.artifact).sort()).toEqual(files.map((f) => f.url).sort());
    const last = lines.at(-1);
    expect(last).toMatchObject({ type: 'failed', ok: false, error: { code: 'NETWORK' } });
    expect(count(last.error.message, 'cannot be resolved')).toBe(1);
    expect(last.error.details.unreachable).toEqual([
      expect.objectContaining({ kind: 'host', name: DEAD_HOST, count: 10 }),
    ]);
  });

  it('a proxy on a closed port: one message that names the proxy, and nothing reaches the upstream', async () => {
    const host = await FileHost.start();
    try {
      const files = Array.from({ length: 20 }, (_, i) => host.add(`/p/f${i}`, randomBytes(2000)));
      const planFile = path.join(tmp, 'plan-proxy.json');
      fs.writeFileSync(
        planFile,
        JSON.stringify(
          makePlan({ files: files.map((f, i) => ({ key: `f${i}`, url: f.url, checksum: f.checksum })) }),
        ),
      );
      const proxy = `http://ferry:s3cret@127.0.0.1:${await freePort()}`;
      const shown = proxy.replace('s3cret', '***') + '/';
      const r = await cli(
        [
          'fetch',
          '--no-tools',
          '--plan',
          planFile,
          '--out',
          path.join(tmp, 'bundle-proxy'),
          '--proxy',
          proxy,
        ],
        env,
      );
      const what = `(${r.seconds} s)\n${r.stderr}`;
      expect(r.code, what).not.toBe(0);
      expect(r.seconds, what).toBeLessThan(10);
      expect(count(r.stderr, `The proxy ${shown} cannot be reached`), what).toBe(1);
      expect(r.stderr, what).toContain('20 artifacts through the proxy');
      expect(r.stderr, what).not.toContain('s3cret');
      for (const f of files) expect(r.stderr, what).not.toContain(f.url);
      expect(host.count()).toBe(0);
    } finally {
      await host.close();
    }
  });
});
