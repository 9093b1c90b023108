import { execFile } from 'node:child_process';
import fsp from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OfflineServer } from '../../../src-main/core/serve/server.js';
import { openServeSources } from '../../../src-main/core/serve/sources.js';
import { debianWheels, lacksDebianWheels, type BuiltWheel } from '../../helpers/debian-wheels.js';
import { makeKeyStore, tempDir } from '../../helpers/bundle-fixtures.js';
import { freshVenv, isolatedPipEnv, makeWheelBundle, newerPipWheel } from '../../helpers/wheel-bundle.js';

const run = promisify(execFile);
const NEWER_PIP = newerPipWheel();

/**
 * A front that asks Ferry for HTML only, as a plain web server, a caching proxy or an HTML-only
 * mirror in front of it would: pip 23.0.1 asks for PEP 691 JSON first, and Ferry's JSON never
 * names `dist-info-metadata`, so only the HTML pages can show how that pip treats their metadata
 * attributes.
 */
async function htmlOnlyFront(
  upstream: string,
): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const up = new URL(upstream);
  const server = http.createServer((req, res) => {
    const fwd = http.request(
      {
        host: up.hostname,
        port: up.port,
        path: req.url,
        method: req.method,
        headers: { accept: 'text/html' },
      },
      (r) => {
        seen.push(`${r.statusCode} ${req.url} ${r.headers['content-type'] ?? ''}`);
        res.writeHead(r.statusCode ?? 502, {
          ...(r.headers['content-type'] ? { 'content-type': r.headers['content-type'] } : {}),
          ...(r.headers.location ? { location: r.headers.location } : {}),
        });
        r.pipe(res);
      },
    );
    fwd.on('error', () => res.writeHead(502).end());
    req.pipe(fwd);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe.skipIf(lacksDebianWheels())('Ferry’s HTML pages and Debian 12’s pip 23.0.1', () => {
  let tmp: string;
  let wheels: BuiltWheel[];
  let server: OfflineServer;
  let front: Awaited<ReturnType<typeof htmlOnlyFront>>;
  let bin: string;

  beforeAll(async () => {
    tmp = await tempDir('ferry-py-html-');
    wheels = await debianWheels();
    const keys = (await makeKeyStore('connected')).store;
    // Every wheel with its .metadata file, so every page announces metadata.
    await makeWheelBundle(path.join(tmp, 'bundle'), wheels, { signer: await keys.signer() });
    const opened = await openServeSources({ bundle: path.join(tmp, 'bundle'), keyStore: keys });
    server = await OfflineServer.start({
      sources: opened.sources,
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
    });
    front = await htmlOnlyFront(server.filesUrl);
    bin = await freshVenv(path.join(tmp, 'venv'));
  }, 120_000);
  afterAll(async () => {
    await front?.close();
    await server?.stop();
    if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('installs Jinja2, MarkupSafe and PyYAML (metadata Name capitalised as on PyPI) required in lowercase', async () => {
    // The wheels' METADATA spell the names as PyPI publishes them.
    for (const [project, name] of [
      ['jinja2', 'Jinja2'],
      ['markupsafe', 'MarkupSafe'],
      ['pyyaml', 'PyYAML'],
    ])
      expect(wheels.find((w) => w.project === project)!.metadata.toString()).toContain(`\nName: ${name}\n`);
    expect((await run(path.join(bin, 'pip'), ['--version'])).stdout).toMatch(/^pip 23\.0\.1 /);

    // No --require-hashes: with hashes pip 23.0.1 never fetches metadata alone, so this is the
    // path a technician's plain `pip install -i … ansible` takes.
    const r = await run(
      path.join(bin, 'pip'),
      [
        'install',
        '--index-url',
        `${front.url}/simple/`,
        '--only-binary=:all:',
        'jinja2',
        'markupsafe',
        'pyyaml',
        'ansible-core',
      ],
      { env: isolatedPipEnv(), maxBuffer: 1 << 24 },
    ).then(
      (x) => ({ code: 0, out: x.stdout + x.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({
        code: e.code ?? 1,
        out: `${e.stdout ?? ''}${e.stderr ?? ''}`,
      }),
    );
    expect(r.out, r.out).not.toMatch(/inconsistent Name/);
    expect(r.code, r.out).toBe(0);
    // The pages pip read were HTML (the front asked for nothing else).
    expect(
      front.seen.filter((s) => s.includes(' /simple/jinja2/ ')).every((s) => s.includes('text/html')),
    ).toBe(true);
    expect(front.seen.some((s) => s.includes(' /simple/jinja2/ '))).toBe(true);
    const page = await (await fetch(`${front.url}/simple/jinja2/`)).text();
    expect(page).toContain('data-core-metadata="sha256=');
    expect(page).not.toContain('data-dist-info-metadata');

    const core = wheels.find((w) => w.project === 'ansible-core')!;
    const v = await run(path.join(bin, 'python'), [
      '-c',
      'import jinja2, markupsafe, yaml; print(jinja2.__version__, markupsafe.__version__, yaml.__version__)',
    ]);
    const ver = (p: string) => wheels.find((w) => w.project === p)!.version;
    expect(v.stdout.trim()).toBe(`${ver('jinja2')} ${ver('markupsafe')} ${ver('pyyaml')}`);
    expect((await run(path.join(bin, 'ansible-playbook'), ['--version'])).stdout.split('\n')[0]).toBe(
      `ansible-playbook [core ${core.version}]`,
    );
  }, 240_000);

  // In CI a missing newer pip fails (.ci/run fetches one: scripts/ci-newer-pip.sh).
  it.skipIf(!NEWER_PIP && !process.env.CI)(
    `a newer pip (${NEWER_PIP ? path.basename(NEWER_PIP) : 'none on this machine'}) still takes the metadata the same pages announce`,
    async () => {
      expect(
        NEWER_PIP,
        'no pip newer than 23.0.1 here: set FERRY_TEST_PIP_WHEEL (bash scripts/ci-newer-pip.sh)',
      ).toBeDefined();
      const [maj = 0, min = 0] = /pip-(\d+)\.(\d+)/.exec(path.basename(NEWER_PIP!))!.slice(1).map(Number);
      const venv = await freshVenv(path.join(tmp, 'venv-newer'));
      await run(path.join(venv, 'pip'), ['install', '--no-index', NEWER_PIP!], { env: isolatedPipEnv() });
      front.seen.length = 0;
      const r = await run(
        path.join(venv, 'pip'),
        ['install', '--dry-run', '--index-url', `${front.url}/simple/`, 'jinja2', 'markupsafe', 'pyyaml'],
        { env: isolatedPipEnv(), maxBuffer: 1 << 24 },
      );
      expect(r.stdout).toMatch(/Would install /);
      // PEP 714: pip 23.3 and later read data-core-metadata from HTML, and resolve from the
      // .metadata files (whose Name they compare normalized) before any wheel.
      if (maj > 23 || (maj === 23 && min >= 3)) {
        const jinja = wheels.find((w) => w.project === 'jinja2')!;
        const at = (suffix: string) =>
          front.seen.findIndex((x) => x.startsWith(`200 /python/files/${jinja.filename}${suffix} `));
        expect(at('.metadata')).toBeGreaterThanOrEqual(0);
        const wheelAt = at('');
        if (wheelAt >= 0) expect(at('.metadata')).toBeLessThan(wheelAt);
      }
    },
    240_000,
  );
});
