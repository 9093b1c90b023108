import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRepoKey, repoSigner } from '../../../src-main/core/bundle/keys/repo-key.js';
import type { Plan } from '../../../src-main/core/plan/plan.js';
import { aptReposOf, aptVars } from '../../../src-main/core/kinds/deb/vars.js';
import { prestepShell } from '../../../src-main/core/kinds/deb/prestep.js';
import { OfflineServer } from '../../../src-main/core/serve/server.js';
import { ensureServerCert } from '../../../src-main/core/serve/tls/ca.js';
import { openVerifiedBundle } from '../../../src-main/core/serve/verified-source.js';
import { DEBIAN_KEYRING } from '../../helpers/apt-oracle.js';
import { archiveDir, bookwormArchive, bookwormUnavailable } from '../../helpers/deb-archive.js';
import { bookwormSet, ensureDeb, poolUnavailable, SMALL_ROOTS } from '../../helpers/deb-pool.js';
import { startStaticServer, type StaticServer } from '../../helpers/static-server.js';
import { lacks, lacksCondition } from '../../helpers/tools.js';
import { runFetch } from '../fetch/helpers.js';

/**
 * The node pre-step for real: a Debian 12 system made by mmdebstrap (a chroot, no container)
 * from the loopback copy of Debian's archive, so its sources.list points at that "distribution";
 * then the archive goes away (offline), Debian's ansible-playbook runs the playbook the bundle
 * carries with the variables `ferry vars` generates, and apt-get inside the chroot installs the
 * roots from Ferry's served repository only. The playbook runs with a local connection and
 * ferry_apt_root/ferry_apt_get aimed at the chroot (ansible-core has no chroot connection plugin).
 */

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  // Asynchronous: the servers these commands talk to live in this process.
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.on('error', (err) => resolve({ code: -1, out: String(err) }));
    c.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

const unavailable = (() => {
  try {
    return bookwormUnavailable();
  } catch (err) {
    return String(err);
  }
})();

describe.skipIf(
  lacks('mmdebstrap', 'ansible-playbook', 'chroot', 'curl', 'lz4') ||
    lacksCondition(process.getuid?.() !== 0, 'root (mmdebstrap and chroot)') ||
    lacksCondition(!!unavailable, unavailable ?? '') ||
    lacksCondition(!fs.existsSync(DEBIAN_KEYRING), DEBIAN_KEYRING),
)('the pre-step playbook under ansible-playbook, in an mmdebstrap chroot', () => {
  let tmp: string;
  let root: string;
  let bundle: string;
  let server: OfflineServer;
  let upstream: StaticServer | undefined;
  let varsFile: string;
  let playbook: string;

  const ansible = (extra: Record<string, string> = {}) =>
    run(
      'ansible-playbook',
      [
        '-i',
        'localhost,',
        '-c',
        'local',
        '-e',
        `@${varsFile}`,
        '-e',
        JSON.stringify({
          ferry_apt_hosts: 'all',
          ferry_apt_root: root,
          ferry_apt_get: `chroot ${root} apt-get`,
          ansible_python_interpreter: '/usr/bin/python3',
          ...extra,
        }),
        playbook,
      ],
      {
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_LOCAL_TEMP: path.join(tmp, 'ansible-tmp'),
        ANSIBLE_HOST_KEY_CHECKING: 'False',
      },
    );

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-deb-prestep-'));
    fs.chmodSync(tmp, 0o755);
    bookwormArchive();
    const { set, records } = await bookwormSet();
    const why = poolUnavailable(records);
    if (lacksCondition(!!why, why ?? '')) throw new Error(why);
    for (const r of records) ensureDeb(r);
    upstream = await startStaticServer(archiveDir);
    await generateRepoKey(path.join(tmp, 'keys'));
    bundle = path.join(tmp, 'bundle');
    await runFetch(
      {
        kubespray: 'v2.31.0',
        kubeVersion: '1.34.0',
        arches: ['amd64'],
        files: [],
        images: [],
        vars: {},
        debs: [set],
      } as Plan,
      {
        out: bundle,
        mirrors: { 'https://deb.debian.org/': `${upstream.url}/` },
        repoSigner: (await repoSigner(path.join(tmp, 'keys')))!,
      },
    );
    const v = await openVerifiedBundle(bundle, { allowUnsigned: true });
    server = await OfflineServer.start({
      sources: [v.source],
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
    });
    varsFile = path.join(tmp, 'vars.json');
    fs.writeFileSync(varsFile, JSON.stringify(aptVars(server.filesUrl, await aptReposOf(v.source))));
    playbook = path.join(bundle, 'repos', 'ferry-apt-prestep.yml');

    // A bare Debian 12 from the loopback "distribution" archive, as a node would be installed.
    root = path.join(tmp, 'root');
    const mm = await run('mmdebstrap', [
      '--variant=apt',
      '--mode=root',
      `--keyring=${DEBIAN_KEYRING}`,
      '--aptopt=Acquire::Check-Valid-Until "false"',
      'bookworm',
      root,
      `deb ${upstream.url}/debian bookworm main`,
      `deb ${upstream.url}/debian bookworm-updates main`,
      `deb ${upstream.url}/debian-security bookworm-security main`,
    ]);
    if (mm.code !== 0) throw new Error(`mmdebstrap failed:\n${mm.out.slice(-3000)}`);
    // Offline from here on: the distribution's archive is gone.
    await upstream.close();
    upstream = undefined;
  }, 900_000);

  afterAll(async () => {
    await server?.stop();
    await upstream?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the chroot starts out pointing at the distribution, which is now unreachable', async () => {
    expect(fs.readFileSync(path.join(root, 'etc/apt/sources.list'), 'utf8')).toMatch(/bookworm-security/);
    const r = await run('chroot', [root, 'apt-get', 'update']);
    expect(r.out).toMatch(/Could not connect|Connection failed|Failed to fetch|Err:/);
  });

  it('disables the distribution sources, installs the keyring and Ferry’s source, and apt-get update succeeds', async () => {
    const r = await ansible();
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/failed=0/);
    expect(fs.existsSync(path.join(root, 'etc/apt/sources.list'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'etc/apt/sources.list.ferry.disabled'))).toBe(true);
    const url = `${server.filesUrl.replace(/\/+$/, '')}/repos/debian-12`;
    expect(fs.readFileSync(path.join(root, 'etc/apt/sources.list.d/ferry.list'), 'utf8')).toBe(
      `deb [signed-by=/etc/apt/keyrings/ferry.gpg] ${url} bookworm main\n`,
    );
    expect(
      createHash('sha256')
        .update(fs.readFileSync(path.join(root, 'etc/apt/keyrings/ferry.gpg')))
        .digest('hex'),
    ).toBe(
      createHash('sha256')
        .update(fs.readFileSync(path.join(bundle, 'repos/debian-12/ferry.gpg')))
        .digest('hex'),
    );
  });

  it('is idempotent: a second run changes nothing', async () => {
    const r = await ansible();
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/ok=\d+\s+changed=0\s+unreachable=0\s+failed=0/);
  });

  it('apt-get install of the roots inside the chroot succeeds from Ferry’s repository', async () => {
    const r = await run('chroot', [root, 'apt-get', 'install', '-y', '-q', ...SMALL_ROOTS], {
      DEBIAN_FRONTEND: 'noninteractive',
    });
    expect(r.code, r.out.slice(-3000)).toBe(0);
    const q = await run('chroot', [
      root,
      'dpkg-query',
      '-W',
      '-f',
      '${Package} ${Status}\\n',
      ...SMALL_ROOTS,
    ]);
    for (const p of SMALL_ROOTS) expect(q.out).toContain(`${p} install ok installed`);
  });

  it('refuses a keyring that does not match the bundle’s sha256', async () => {
    const vars = JSON.parse(fs.readFileSync(varsFile, 'utf8'));
    const bad = path.join(tmp, 'vars-bad.json');
    fs.writeFileSync(bad, JSON.stringify({ ...vars, ferry_apt_keyring_sha256: '0'.repeat(64) }));
    fs.rmSync(path.join(root, 'etc/apt/keyrings/ferry.gpg'));
    const keep = varsFile;
    varsFile = bad;
    try {
      const r = await ansible();
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/checksum|sha256/i);
    } finally {
      varsFile = keep;
    }
  });

  it('is reversible: ferry_apt_state=absent restores the distribution sources', async () => {
    const r = await ansible({ ferry_apt_state: 'absent' });
    // (Its final apt-get update runs against the distribution again, unreachable here.)
    expect(r.out).toMatch(/Restore the distribution's apt sources/);
    expect(fs.readFileSync(path.join(root, 'etc/apt/sources.list'), 'utf8')).toMatch(/bookworm-security/);
    expect(fs.existsSync(path.join(root, 'etc/apt/sources.list.d/ferry.list'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'etc/apt/keyrings/ferry.gpg'))).toBe(false);
  });

  it('the shell snippet does the same by hand: apt installs from Ferry again', async () => {
    const v = await openVerifiedBundle(bundle, { allowUnsigned: true });
    expect((await aptReposOf(v.source)).map((r) => r.os)).toEqual(['debian-12']);
    const snippet = prestepShell({
      repoUrl: `${server.filesUrl.replace(/\/+$/, '')}/repos/debian-12`,
      suite: 'bookworm',
      keyring: fs.readFileSync(path.join(bundle, 'repos/debian-12/ferry.gpg')),
    });
    const sh = await run('chroot', [root, 'sh', '-c', snippet]);
    expect(sh.code, sh.out).toBe(0);
    expect(fs.existsSync(path.join(root, 'etc/apt/sources.list.ferry.disabled'))).toBe(true);
    const r = await run('chroot', [root, 'apt-get', 'install', '-y', '-q', '--reinstall', 'conntrack'], {
      DEBIAN_FRONTEND: 'noninteractive',
    });
    expect(r.code, r.out.slice(-2000)).toBe(0);
  });

  it('over TLS: the playbook gives apt Ferry’s CA for Ferry’s host only, and apt installs over https', async () => {
    const tls = await ensureServerCert(path.join(tmp, 'tls'), ['127.0.0.1']);
    const v = await openVerifiedBundle(bundle, { allowUnsigned: true });
    const https = await OfflineServer.start({
      sources: [v.source],
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
      tls,
    });
    const keep = varsFile;
    try {
      expect(https.filesUrl).toMatch(/^https:/);
      varsFile = path.join(tmp, 'vars-tls.json');
      fs.writeFileSync(
        varsFile,
        JSON.stringify({
          ...aptVars(https.filesUrl, await aptReposOf(v.source)),
          ferry_ca_certificate: tls.ca,
        }),
      );
      const r = await ansible();
      expect(r.code, r.out).toBe(0);
      expect(fs.readFileSync(path.join(root, 'etc/apt/apt.conf.d/60ferry-ca'), 'utf8')).toBe(
        'Acquire::https::127.0.0.1::CaInfo "/etc/apt/ferry-ca.crt";\n',
      );
      expect(fs.readFileSync(path.join(root, 'etc/apt/sources.list.d/ferry.list'), 'utf8')).toContain(
        'https://127.0.0.1:',
      );
      // Nothing cached: the reinstall must download over https from Ferry.
      expect((await run('chroot', [root, 'apt-get', 'clean'])).code).toBe(0);
      const inst = await run('chroot', [root, 'apt-get', 'install', '-y', '-q', '--reinstall', 'socat'], {
        DEBIAN_FRONTEND: 'noninteractive',
      });
      expect(inst.code, inst.out.slice(-2000)).toBe(0);
      expect(inst.out).toMatch(/https:\/\/127\.0\.0\.1/);
    } finally {
      varsFile = keep;
      await https.stop();
    }
  });
});
