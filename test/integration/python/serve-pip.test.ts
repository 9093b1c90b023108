import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle } from '../../../src-main/core/bundle/verify/index.js';
import { OfflineServer } from '../../../src-main/core/serve/server.js';
import { openServeSources } from '../../../src-main/core/serve/sources.js';
import { debianWheels, lacksDebianWheels, type BuiltWheel } from '../../helpers/debian-wheels.js';
import { makeKeyStore, tempDir } from '../../helpers/bundle-fixtures.js';
import { request } from '../../helpers/http-get.js';
import { freshVenv, isolatedPipEnv, makeWheelBundle, newerPipWheel } from '../../helpers/wheel-bundle.js';
import type { KeyStore } from '../../../src-main/core/bundle/keys/index.js';

const run = promisify(execFile);

const NEWER_PIP = newerPipWheel();
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** pip's output of a failed run, for the assertion message. */
async function pip(bin: string, args: string[], env: NodeJS.ProcessEnv) {
  return run(path.join(bin, 'pip'), args, { env, maxBuffer: 1 << 24 }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: e.code ?? 1,
      out: `${e.stdout ?? ''}${e.stderr ?? ''}`,
    }),
  );
}

/** Ansible with no network at all when the kernel lets us make an empty network namespace. */
function offline(cmd: string, args: string[]): [string, string[]] {
  try {
    fs.accessSync('/usr/bin/unshare');
    execFileSync('/usr/bin/unshare', ['-n', 'true'], { stdio: 'ignore' });
    return ['/usr/bin/unshare', ['-n', cmd, ...args]];
  } catch {
    return [cmd, args];
  }
}

describe.skipIf(lacksDebianWheels())('the bundle’s Python index, installed from by real pip', () => {
  let tmp: string;
  let wheels: BuiltWheel[];
  let keys: KeyStore;
  let signer: Awaited<ReturnType<KeyStore['signer']>>;
  let server: OfflineServer;
  let bin: string;
  let requirements: string;
  const served: string[] = [];

  beforeAll(async () => {
    tmp = await tempDir('ferry-py-serve-');
    wheels = await debianWheels();
    keys = (await makeKeyStore('connected')).store;
    signer = await keys.signer();
    // Jinja2's metadata file is left out: its page must not announce one.
    await makeWheelBundle(path.join(tmp, 'bundle'), wheels, { signer, withoutMetadata: ['jinja2'] });
    const opened = await openServeSources({ bundle: path.join(tmp, 'bundle'), keyStore: keys });
    server = await OfflineServer.start({
      sources: opened.sources,
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
      advertise: '127.0.0.1',
      onRequest: (r) => served.push(`${r.status} ${r.path}`),
    });
    bin = await freshVenv(path.join(tmp, 'venv'));
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('lists every project at /simple/ and links each file with its sha256, Requires-Python and metadata hash', async () => {
    expect(server.pythonIndexUrl).toBe(`${server.filesUrl}/simple/`);
    expect(server.status().python).toEqual({ projects: wheels.length, wheels: wheels.length });
    const root = await request(server.filesUrl, '/simple/');
    expect(root.status).toBe(200);
    expect(root.headers['content-type']).toMatch(/^text\/html/);
    for (const w of wheels)
      expect(root.body.toString()).toContain(`<a href="${w.project}/">${w.project}</a>`);

    const core = wheels.find((w) => w.project === 'ansible-core')!;
    const page = (await request(server.filesUrl, '/simple/ansible-core/')).body.toString();
    expect(page).toContain('<meta name="pypi:repository-version" content="1.1">');
    expect(page).toContain(
      `<a href="../../python/files/${core.filename}#sha256=${core.sha256}" data-requires-python="&gt;=3.9" ` +
        `data-core-metadata="sha256=${sha(core.metadata)}">${core.filename}</a>`,
    );
    const meta = await request(server.filesUrl, `/python/files/${core.filename}.metadata`);
    expect(meta.body.equals(core.metadata)).toBe(true);
    const file = await request(server.filesUrl, `/python/files/${core.filename}`);
    expect(sha(file.body)).toBe(core.sha256);

    const jinja = (await request(server.filesUrl, '/simple/jinja2/')).body.toString();
    expect(jinja).toContain('#sha256=');
    expect(jinja).not.toContain('metadata=');
    // PEP 503: names are normalized, and pages are reached at the normalized name.
    const odd = await request(server.filesUrl, '/simple/Ansible_Core/');
    expect(odd.status).toBe(301);
    expect(odd.headers.location).toBe('/simple/ansible-core/');
    expect((await request(server.filesUrl, '/simple/ansible-core')).headers.location).toBe(
      '/simple/ansible-core/',
    );
    expect((await request(server.filesUrl, '/simple/no-such-project/')).status).toBe(404);
  });

  it('answers PEP 691 JSON when asked, with metadata under core-metadata only', async () => {
    const accept =
      'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
    const r = await request(server.filesUrl, '/simple/cryptography/', { headers: { Accept: accept } });
    expect(r.headers['content-type']).toBe('application/vnd.pypi.simple.v1+json');
    expect(r.headers.vary).toBe('Accept');
    const doc = JSON.parse(r.body.toString());
    const w = wheels.find((x) => x.project === 'cryptography')!;
    expect(doc).toEqual({
      meta: { 'api-version': '1.1' },
      name: 'cryptography',
      versions: [w.version],
      files: [
        {
          filename: w.filename,
          url: `../../python/files/${w.filename}`,
          hashes: { sha256: w.sha256 },
          'requires-python': '>=3.6',
          'core-metadata': { sha256: sha(w.metadata) },
          size: w.size,
          yanked: false,
        },
      ],
    });
    const root = JSON.parse(
      (await request(server.filesUrl, '/simple/', { headers: { Accept: accept } })).body.toString(),
    );
    expect(root.projects.map((p: { name: string }) => p.name).sort()).toEqual(
      wheels.map((x) => x.project).sort(),
    );
    expect(
      (
        await request(server.filesUrl, '/simple/', {
          headers: { Accept: 'text/html;q=0, application/vnd.pypi.simple.v1+json;q=0' },
        })
      ).status,
    ).toBe(406);
  });

  it('Debian’s pip 23.0.1 installs the whole set from the index with --require-hashes, and Ansible runs offline', async () => {
    const version = (await run(path.join(bin, 'pip'), ['--version'])).stdout;
    expect(version).toMatch(/^pip 23\.0\.1 /);
    const req = await request(server.filesUrl, '/python/requirements.txt');
    requirements = req.body.toString();
    for (const w of wheels)
      expect(requirements).toContain(`${w.project}==${w.version} \\\n    --hash=sha256:${w.sha256}`);
    const reqFile = path.join(tmp, 'requirements.txt');
    await fsp.writeFile(reqFile, requirements);
    const r = await pip(
      bin,
      [
        'install',
        '--index-url',
        `${server.filesUrl}/simple/`,
        '--require-hashes',
        '--only-binary=:all:',
        '-r',
        reqFile,
      ],
      isolatedPipEnv(),
    );
    expect(r.out, r.out).not.toMatch(/Traceback|TypeError/);
    expect(r.code, r.out).toBe(0);
    const core = wheels.find((w) => w.project === 'ansible-core')!;
    const v = (await run(path.join(bin, 'ansible-playbook'), ['--version'])).stdout;
    expect(v.split('\n')[0]).toBe(`ansible-playbook [core ${core.version}]`);
    expect(v).toContain(`ansible python module location = ${path.join(tmp, 'venv')}`);

    const env = {
      ...isolatedPipEnv(),
      ANSIBLE_LOCALHOST_WARNING: 'false',
      ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false',
    };
    const [c1, a1] = offline(path.join(bin, 'ansible'), ['-m', 'ping', 'localhost', '-c', 'local']);
    const ping = await run(c1, a1, { env });
    expect(ping.stdout).toMatch(/localhost \| SUCCESS/);
    expect(ping.stdout).toContain('"ping": "pong"');

    // A small real playbook: Jinja filters and a templated file (jinja2, markupsafe), netaddr
    // and jmespath imported by the venv's Python, and an assert on what they computed.
    const out = path.join(tmp, 'play-out.txt');
    const play = path.join(tmp, 'play.yml');
    await fsp.writeFile(
      play,
      [
        '- hosts: localhost',
        '  connection: local',
        '  gather_facts: false',
        '  vars:',
        '    nodes: [{name: cp1, ip: 10.0.0.11}, {name: w1, ip: 10.0.0.21}]',
        '  tasks:',
        '    - name: names through a Jinja filter chain',
        '      set_fact:',
        '        names: "{{ nodes | map(attribute=\'name\') | list }}"',
        '    - name: write a file from a template',
        '      copy:',
        `        dest: ${out}`,
        '        content: "{% for n in names %}{{ n | upper }}\\n{% endfor %}"',
        // json_query lives in community.general, not in ansible-core: jmespath is checked directly.
        '    - name: netaddr and jmespath import in the venv',
        `      command: ${path.join(bin, 'python')} -c "import jmespath, netaddr; print(jmespath.search('[0]', [netaddr.IPNetwork('10.0.0.0/24').size]))"`,
        '      register: size',
        '    - assert:',
        '        that: size.stdout == "256"',
      ].join('\n') + '\n',
    );
    const [c2, a2] = offline(path.join(bin, 'ansible-playbook'), ['-i', 'localhost,', play]);
    const pb = await run(c2, a2, { env });
    expect(pb.stdout).toMatch(/localhost\s+: ok=4\s+changed=2\s+unreachable=0\s+failed=0/);
    expect(await fsp.readFile(out, 'utf8')).toBe('CP1\nW1\n');
  }, 240_000);

  // In CI a missing newer pip fails (.ci/run fetches one: scripts/ci-newer-pip.sh).
  it.skipIf(!NEWER_PIP && !process.env.CI)(
    `a newer pip (${NEWER_PIP ? path.basename(NEWER_PIP) : 'none on this machine'}) installs the same set`,
    async () => {
      expect(
        NEWER_PIP,
        'no pip newer than 23.0.1 here: set FERRY_TEST_PIP_WHEEL (bash scripts/ci-newer-pip.sh)',
      ).toBeDefined();
      const venv = await freshVenv(path.join(tmp, 'venv-newer'));
      const up = await pip(venv, ['install', '--no-index', NEWER_PIP!], isolatedPipEnv());
      expect(up.code, up.out).toBe(0);
      const version = (await run(path.join(venv, 'pip'), ['--version'])).stdout;
      expect(version).toContain(`pip ${/pip-([\d.]+)-/.exec(path.basename(NEWER_PIP!))![1]} `);
      // pip 23.3 and later read PEP 691's core-metadata: resolving takes the .metadata files before
      // any wheel (hash-checking mode does not use metadata-only fetches, so this runs without hashes).
      const [maj = 0, min = 0] = /pip-(\d+)\.(\d+)/.exec(path.basename(NEWER_PIP!))!.slice(1).map(Number);
      const core = wheels.find((w) => w.project === 'ansible-core')!;
      if (maj > 23 || (maj === 23 && min >= 3)) {
        served.length = 0;
        const dry = await pip(
          venv,
          ['install', '--dry-run', '--index-url', `${server.filesUrl}/simple/`, 'ansible==7.3.0'],
          isolatedPipEnv(),
        );
        expect(dry.code, dry.out).toBe(0);
        expect(dry.out).toMatch(new RegExp(`Would install .*ansible-7\\.3\\.0 ansible-core-${core.version}`));
        // Jinja2's page announces no metadata (left out of this bundle): that wheel is fetched whole.
        const jinja = wheels.find((w) => w.project === 'jinja2')!;
        expect(served).toContain(`200 /python/files/${jinja.filename}`);
        expect(served).toContain(`200 /python/files/${core.filename}.metadata`);
        // Resolved from metadata first; pip fetches the wheels only once the whole set is known.
        const metaAt = served.indexOf(`200 /python/files/${core.filename}.metadata`);
        expect(metaAt).toBeLessThan(served.indexOf(`200 /python/files/${core.filename}`));
        expect(served.slice(0, served.indexOf('200 /simple/ply/'))).not.toContain(
          `200 /python/files/${core.filename}`,
        );
      }
      const reqFile = path.join(tmp, 'requirements-newer.txt');
      await fsp.writeFile(reqFile, (await request(server.filesUrl, '/python/requirements.txt')).body);
      served.length = 0;
      const r = await pip(
        venv,
        [
          'install',
          '--index-url',
          `${server.filesUrl}/simple/`,
          '--require-hashes',
          '--only-binary=:all:',
          '-r',
          reqFile,
        ],
        isolatedPipEnv(),
      );
      expect(r.code, r.out).toBe(0);
      expect(r.out).not.toMatch(/Traceback|TypeError/);
      // Every wheel came from Ferry, verified and whole.
      for (const w of wheels) expect(served).toContain(`200 /python/files/${w.filename}`);
      expect((await run(path.join(venv, 'ansible-playbook'), ['--version'])).stdout.split('\n')[0]).toBe(
        `ansible-playbook [core ${core.version}]`,
      );
    },
    240_000,
  );

  it('pip refuses a wheel whose bytes differ from the pinned hash (another bundle’s build of the same file)', async () => {
    // A second, well-signed bundle whose jmespath wheel was built differently: same filename,
    // other bytes. The hashes pinned from the first bundle must stop pip.
    const jm = wheels.find((w) => w.project === 'jmespath')!;
    const altDir = path.join(tmp, 'alt-wheels');
    await fsp.mkdir(altDir, { recursive: true });
    const altFile = path.join(altDir, jm.filename);
    // A zip comment changes the bytes but not the content: a real, installable, different file.
    await fsp.writeFile(
      altFile,
      Buffer.concat([
        (await fsp.readFile(jm.file)).subarray(0, -2),
        Buffer.from([6, 0]),
        Buffer.from('rebuilt'),
      ]),
    );
    const alt: BuiltWheel = {
      ...jm,
      file: altFile,
      sha256: sha(await fsp.readFile(altFile)),
      size: (await fsp.stat(altFile)).size,
    };
    await makeWheelBundle(path.join(tmp, 'alt'), [alt], { signer });
    const opened = await openServeSources({ bundle: path.join(tmp, 'alt'), keyStore: keys });
    const other = await OfflineServer.start({
      sources: opened.sources,
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
    });
    try {
      const reqFile = path.join(tmp, 'pin-jmespath.txt');
      await fsp.writeFile(reqFile, `jmespath==${jm.version} --hash=sha256:${jm.sha256}\n`);
      const venv2 = await freshVenv(path.join(tmp, 'venv-alt'));
      const r = await pip(
        venv2,
        ['install', '--index-url', `${other.filesUrl}/simple/`, '--require-hashes', '-r', reqFile],
        isolatedPipEnv(),
      );
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).toContain('THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE');
      expect(r.out).toContain(`Expected sha256 ${jm.sha256}`);
      expect(r.out).toContain(`Got        ${alt.sha256}`);
      // The same file pinned by its own hash installs: the refusal was the hash, nothing else.
      await fsp.writeFile(reqFile, `jmespath==${jm.version} --hash=sha256:${alt.sha256}\n`);
      const ok = await pip(
        venv2,
        ['install', '--index-url', `${other.filesUrl}/simple/`, '--require-hashes', '-r', reqFile],
        isolatedPipEnv(),
      );
      expect(ok.code, ok.out).toBe(0);
    } finally {
      await other.stop();
    }
  }, 120_000);

  it('a damaged wheel is named by verify, refused by serve, and left off the index with --allow-damaged', async () => {
    const dir = path.join(tmp, 'damaged');
    await makeWheelBundle(dir, wheels, { signer });
    const nx = wheels.find((w) => w.project === 'netaddr')!;
    const f = path.join(dir, 'python', 'files', nx.filename);
    const bytes = await fsp.readFile(f);
    bytes[bytes.length >> 1] ^= 0xff;
    await fsp.writeFile(f, bytes);
    const report = await verifyBundle(dir, { keyStore: keys });
    const bad = report.artifacts.filter((a) => a.status !== 'ok');
    expect(bad.map((a) => [a.id, a.kind, a.name, a.status])).toEqual([
      [`wheel:${nx.filename}`, 'wheel', nx.filename, 'damaged'],
    ]);
    await expect(openServeSources({ bundle: dir, keyStore: keys })).rejects.toThrow(/damaged or missing/);
    const opened = await openServeSources({ bundle: dir, keyStore: keys, allowDamaged: true });
    const s = await OfflineServer.start({
      sources: opened.sources,
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
    });
    try {
      expect((await request(s.filesUrl, '/simple/netaddr/')).status).toBe(404);
      expect((await request(s.filesUrl, `/python/files/${nx.filename}`)).status).toBe(404);
      expect((await request(s.filesUrl, '/simple/')).body.toString()).not.toContain('netaddr');
      expect((await request(s.filesUrl, '/python/requirements.txt')).body.toString()).not.toContain(
        'netaddr',
      );
      expect((await request(s.filesUrl, '/simple/jmespath/')).status).toBe(200);
    } finally {
      await s.stop();
    }
  }, 120_000);
});
