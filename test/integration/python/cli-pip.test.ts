import fsp from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/main.js';
import { debianWheels, lacksDebianWheels } from '../../helpers/debian-wheels.js';
import { makeKeyStore, tempDir } from '../../helpers/bundle-fixtures.js';
import { kubesprayTarball } from '../../helpers/kubespray-bundle.js';
import { kubesprayDataDir, lacksCondition } from '../../helpers/tools.js';
import { makeWheelBundle } from '../../helpers/wheel-bundle.js';
import { freePort } from '../serve/tools.js';

function capture() {
  const s = new PassThrough();
  let text = '';
  s.on('data', (c) => (text += c.toString()));
  return { stream: s, text: () => text };
}

const missing =
  lacksDebianWheels() ||
  lacksCondition(
    !existsSync(path.join(kubesprayDataDir, 'v2.31.0')),
    `Kubespray data in ${kubesprayDataDir}`,
  );

describe.skipIf(missing)('ferry serve and ferry vars tell the deploy host’s pip where the index is', () => {
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  let bundle: string;
  beforeAll(async () => {
    tmp = await tempDir('ferry-cli-pip-');
    const keys = await makeKeyStore('connected');
    env = keys.env;
    bundle = path.join(tmp, 'bundle');
    await makeWheelBundle(bundle, await debianWheels(), {
      signer: await keys.store.signer(),
      kubespray: 'v2.31.0',
      kubesprayTarball: await fsp.readFile(await kubesprayTarball('v2.31.0', path.join(tmp, 'ks.tar.gz'))),
    });
  }, 120_000);
  afterAll(async () => {
    if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('serve prints the index URL and the PIP_* lines, and serves what they name', async () => {
    const [fp, rp] = [await freePort(), await freePort()];
    const out = capture();
    const ac = new AbortController();
    const serving = runCli(
      [
        'serve',
        '--bundle',
        bundle,
        '--listen',
        '127.0.0.1',
        '--hostname',
        '127.0.0.1',
        '--files-port',
        String(fp),
        '--registry-port',
        String(rp),
      ],
      { stdout: out.stream, stderr: capture().stream, env, signal: ac.signal },
    );
    for (let i = 0; i < 400 && !out.text().includes('Press Ctrl-C'); i++)
      await new Promise((r) => setTimeout(r, 50));
    try {
      const text = out.text();
      expect(text).toContain(
        `Python:   http://127.0.0.1:${fp}/simple/   (13 wheels, 13 projects; hashes: http://127.0.0.1:${fp}/python/requirements.txt)`,
      );
      expect(text).toContain(
        `  export PIP_INDEX_URL=http://127.0.0.1:${fp}/simple/\n  export PIP_TRUSTED_HOST=127.0.0.1\n`,
      );
      const req = await fetch(`http://127.0.0.1:${fp}/python/requirements.txt`);
      expect(await req.text()).toContain('ansible-core==2.14.18');
    } finally {
      ac.abort();
      expect(await serving).toBe(0);
    }
  }, 60_000);

  it('vars --pip-conf writes pip.conf for Ferry’s file server, and --json carries it', async () => {
    const conf = path.join(tmp, 'pip.conf');
    const err = capture();
    const code = await runCli(
      [
        'vars',
        '--bundle',
        bundle,
        '--hostname',
        '10.0.0.5',
        '--skip-check',
        '-o',
        path.join(tmp, 'offline.yml'),
        '--pip-conf',
        conf,
      ],
      { stdout: capture().stream, stderr: err.stream, env, signal: new AbortController().signal },
    );
    expect(code, err.text()).toBe(0);
    expect(await fsp.readFile(conf, 'utf8')).toBe(
      '[global]\nindex-url = http://10.0.0.5:8080/simple/\ntrusted-host = 10.0.0.5\n',
    );
    const out = capture();
    expect(
      await runCli(
        ['vars', '--bundle', bundle, '--hostname', '10.0.0.5', '--tls', '--skip-check', '--json'],
        {
          stdout: out.stream,
          stderr: capture().stream,
          env,
          signal: new AbortController().signal,
        },
      ),
    ).toBe(0);
    expect(JSON.parse(out.text()).pip).toEqual({
      pipConf:
        '[global]\nindex-url = https://10.0.0.5:8080/simple/\ncert = /usr/local/share/ca-certificates/ferry-ca.crt\n',
      env: {
        PIP_INDEX_URL: 'https://10.0.0.5:8080/simple/',
        PIP_CERT: '/usr/local/share/ca-certificates/ferry-ca.crt',
      },
      requirementsUrl: 'https://10.0.0.5:8080/python/requirements.txt',
    });
  }, 60_000);
});
