import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prestepPlaybook } from '../../../src-main/core/kinds/deb/prestep.js';
import { aptVars } from '../../../src-main/core/kinds/deb/vars.js';
import { rpmRepoFile } from '../../../src-main/core/kinds/rpm/prestep.js';
import { rpmVars } from '../../../src-main/core/kinds/rpm/vars.js';
import { serveDir, type StaticServer } from '../../helpers/static-server.js';
import { lacks } from '../../helpers/tools.js';

/**
 * The one pre-step playbook (apt play + dnf play) under the real ansible-playbook, against two
 * "nodes" in one inventory: a Debian one and a Rocky one, each a folder standing for its root
 * (ferry_apt_root / ferry_rpm_root), with `true` as apt-get and dnf so only the file work runs
 * here (test/integration/rpm/carry-dnf.test.ts has dnf read what the play writes). Each play must
 * touch only its own family's node, download the keys checked against the bundle's sha256, write
 * the repository file, be idempotent and reversible.
 */

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.on('error', (err) => resolve({ code: -1, out: String(err) }));
    c.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe.skipIf(lacks('ansible-playbook'))('the pre-step playbook on a Debian and a Rocky node', () => {
  let tmp: string;
  let served: StaticServer;
  let debRoot: string;
  let rpmRoot: string;
  let playbook: string;
  let inventory: string;
  let vars: Record<string, unknown>;
  const distroKey = Buffer.from(
    '-----BEGIN PGP PUBLIC KEY BLOCK-----\nrocky\n-----END PGP PUBLIC KEY BLOCK-----\n',
  );
  const ferryKey = Buffer.from(
    '-----BEGIN PGP PUBLIC KEY BLOCK-----\nferry\n-----END PGP PUBLIC KEY BLOCK-----\n',
  );
  const keyring = Buffer.from('binary keyring');

  const ansible = (extra: Record<string, unknown> = {}, varsOverride?: Record<string, unknown>) => {
    const file = path.join(tmp, `vars-${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(file, JSON.stringify({ ...(varsOverride ?? vars), ...extra }));
    return run('ansible-playbook', ['-i', inventory, '-e', `@${file}`, playbook], {
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_LOCAL_TEMP: path.join(tmp, 'ansible-tmp'),
      ANSIBLE_HOST_KEY_CHECKING: 'False',
    });
  };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-rpm-prestep-'));
    const www = path.join(tmp, 'www');
    fs.mkdirSync(path.join(www, 'repos/rocky-9'), { recursive: true });
    fs.mkdirSync(path.join(www, 'repos/debian-12'), { recursive: true });
    fs.writeFileSync(path.join(www, 'repos/rocky-9/RPM-GPG-KEY-Rocky-9'), distroKey);
    fs.writeFileSync(path.join(www, 'repos/rocky-9/RPM-GPG-KEY-ferry'), ferryKey);
    fs.writeFileSync(path.join(www, 'repos/debian-12/ferry.gpg'), keyring);
    served = await serveDir(www);

    debRoot = path.join(tmp, 'debian');
    fs.mkdirSync(path.join(debRoot, 'etc/apt/sources.list.d'), { recursive: true });
    fs.writeFileSync(
      path.join(debRoot, 'etc/apt/sources.list'),
      'deb http://deb.debian.org/debian bookworm main\n',
    );
    fs.writeFileSync(path.join(debRoot, 'etc/apt/sources.list.d/debian.sources'), 'Types: deb\n');
    rpmRoot = path.join(tmp, 'rocky');
    fs.mkdirSync(path.join(rpmRoot, 'etc/yum.repos.d'), { recursive: true });
    fs.writeFileSync(
      path.join(rpmRoot, 'etc/yum.repos.d/rocky.repo'),
      '[baseos]\nmirrorlist=https://mirrors.rockylinux.org/\n',
    );
    fs.writeFileSync(path.join(rpmRoot, 'etc/yum.repos.d/rocky-addons.repo'), '[extras]\n');

    playbook = path.join(tmp, 'ferry-apt-prestep.yml');
    fs.writeFileSync(playbook, prestepPlaybook());
    // Each node's root is its own: a play that ran on the wrong node would change the wrong folder.
    const host = (name: string, osId: string, root: string) =>
      `${name} ansible_connection=local ansible_python_interpreter=/usr/bin/python3 ferry_os=${osId} ferry_apt_root=${root} ferry_rpm_root=${root} ferry_apt_get=true ferry_dnf=true`;
    inventory = path.join(tmp, 'inventory.ini');
    fs.writeFileSync(
      inventory,
      `[k8s_cluster]\n${host('debnode', 'debian-12', debRoot)}\n${host('rpmnode', 'rocky-9', rpmRoot)}\n`,
    );
    vars = {
      ...aptVars(served.url, [
        { os: 'debian-12', suite: 'bookworm', keyringSha256: sha(keyring), docker: false },
      ]),
      ...rpmVars(served.url, [
        {
          os: 'rocky-9',
          arches: ['x86_64'],
          keys: [
            { file: 'RPM-GPG-KEY-Rocky-9', sha256: sha(distroKey) },
            { file: 'RPM-GPG-KEY-ferry', sha256: sha(ferryKey) },
          ],
          docker: false,
        },
      ]),
    };
  }, 60_000);

  afterAll(async () => {
    await served?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('points the Rocky node’s dnf at Ferry and the Debian node’s apt, each play on its own node only', async () => {
    const r = await ansible();
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/debnode\s*:\s*ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0/);
    expect(r.out).toMatch(/rpmnode\s*:\s*ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0/);
    const yum = path.join(rpmRoot, 'etc/yum.repos.d');
    expect(fs.readdirSync(yum).sort()).toEqual([
      'ferry.repo',
      'rocky-addons.repo.ferry.disabled',
      'rocky.repo.ferry.disabled',
    ]);
    // What a node gets (ferry_rpm_root prefixes the key paths: dnf --installroot reads them on the host).
    expect(fs.readFileSync(path.join(yum, 'ferry.repo'), 'utf8')).toBe(
      rpmRepoFile({
        os: 'rocky-9',
        url: `${served.url}/repos/rocky-9`,
        keys: ['RPM-GPG-KEY-Rocky-9', 'RPM-GPG-KEY-ferry'],
      }).replaceAll('file:///etc/pki/', `file://${rpmRoot}/etc/pki/`),
    );
    expect(fs.readFileSync(path.join(rpmRoot, 'etc/pki/rpm-gpg/ferry/RPM-GPG-KEY-Rocky-9'))).toEqual(
      distroKey,
    );
    expect(fs.readFileSync(path.join(rpmRoot, 'etc/pki/rpm-gpg/ferry/RPM-GPG-KEY-ferry'))).toEqual(ferryKey);
    // The apt play did its work on the Debian node, and nothing on the Rocky one (and vice versa).
    expect(fs.existsSync(path.join(debRoot, 'etc/apt/sources.list.ferry.disabled'))).toBe(true);
    expect(fs.existsSync(path.join(debRoot, 'etc/apt/sources.list.d/ferry.list'))).toBe(true);
    expect(fs.existsSync(path.join(debRoot, 'etc/yum.repos.d'))).toBe(false);
    expect(fs.existsSync(path.join(rpmRoot, 'etc/apt'))).toBe(false);
  });

  it('is idempotent: a second run changes nothing', async () => {
    const r = await ansible();
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/rpmnode\s*:\s*ok=\d+\s+changed=0\s+unreachable=0\s+failed=0/);
    expect(r.out).toMatch(/debnode\s*:\s*ok=\d+\s+changed=0\s+unreachable=0\s+failed=0/);
  });

  it('refuses a key that does not match the bundle’s sha256', async () => {
    const keys = (vars.ferry_rpm_keys as Array<{ file: string; url: string; sha256: string }>).map((k) =>
      k.file === 'RPM-GPG-KEY-ferry' ? { ...k, sha256: '0'.repeat(64) } : k,
    );
    fs.rmSync(path.join(rpmRoot, 'etc/pki/rpm-gpg/ferry/RPM-GPG-KEY-ferry'));
    const r = await ansible({
      ferry_rpm_keys: keys,
      ferry_rpm_repos: {
        'rocky-9': { ...(vars.ferry_rpm_repos as Record<string, object>)['rocky-9'], keys },
      },
    });
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/rpmnode[\s\S]*(checksum|sha256)/i);
    expect(fs.existsSync(path.join(rpmRoot, 'etc/pki/rpm-gpg/ferry/RPM-GPG-KEY-ferry'))).toBe(false);
    expect((await ansible()).code).toBe(0);
  });

  it('picks the node’s repository from its facts when no ferry_os is given (this Debian machine: the apt play only)', async () => {
    const noOs = path.join(tmp, 'inventory-facts.ini');
    const facts = path.join(tmp, 'facts-root');
    fs.mkdirSync(path.join(facts, 'etc/apt/sources.list.d'), { recursive: true });
    fs.mkdirSync(path.join(facts, 'etc/yum.repos.d'), { recursive: true });
    fs.writeFileSync(path.join(facts, 'etc/yum.repos.d/x.repo'), '[x]\n');
    fs.writeFileSync(
      noOs,
      `[k8s_cluster]\nlocal ansible_connection=local ansible_python_interpreter=/usr/bin/python3 ferry_apt_root=${facts} ferry_rpm_root=${facts} ferry_apt_get=true ferry_dnf=true\n`,
    );
    const keep = inventory;
    inventory = noOs;
    try {
      const r = await ansible();
      expect(r.code, r.out).toBe(0);
      expect(fs.existsSync(path.join(facts, 'etc/apt/sources.list.d/ferry.list'))).toBe(true);
      expect(fs.readdirSync(path.join(facts, 'etc/yum.repos.d'))).toEqual(['x.repo']);
    } finally {
      inventory = keep;
    }
  });

  it('with only apt variables (a Debian-only bundle) the apt play runs as before, without facts, and the dnf play does nothing', async () => {
    const only = path.join(tmp, 'inventory-apt-only.ini');
    const r0 = path.join(tmp, 'apt-only-root');
    fs.mkdirSync(path.join(r0, 'etc/apt/sources.list.d'), { recursive: true });
    fs.mkdirSync(path.join(r0, 'etc/yum.repos.d'), { recursive: true });
    fs.writeFileSync(
      path.join(r0, 'etc/apt/sources.list'),
      'deb http://deb.debian.org/debian bookworm main\n',
    );
    fs.writeFileSync(path.join(r0, 'etc/yum.repos.d/x.repo'), '[x]\n');
    fs.writeFileSync(
      only,
      `[k8s_cluster]\nnode ansible_connection=local ansible_python_interpreter=/usr/bin/python3 ferry_apt_root=${r0} ferry_rpm_root=${r0} ferry_apt_get=true ferry_dnf=true\n`,
    );
    const aptOnly = Object.fromEntries(
      Object.entries(vars).filter(([k]) => !k.startsWith('ferry_rpm_') && k !== 'yum_repo'),
    );
    expect(aptOnly.ferry_apt_repo_url).toBeDefined();
    const keep = inventory;
    inventory = only;
    try {
      const r = await ansible({}, aptOnly);
      expect(r.code, r.out).toBe(0);
      expect(r.out).not.toMatch(
        /TASK \[Facts to pick this node's repository from ferry_apt_repos\][^*]*\*+\s*ok:/,
      );
      expect(fs.existsSync(path.join(r0, 'etc/apt/sources.list.ferry.disabled'))).toBe(true);
      expect(fs.readdirSync(path.join(r0, 'etc/yum.repos.d'))).toEqual(['x.repo']);
    } finally {
      inventory = keep;
    }
  });

  it('is reversible: ferry_rpm_state=absent restores the distribution’s .repo files', async () => {
    const r = await ansible({ ferry_rpm_state: 'absent', ferry_apt_state: 'absent' });
    expect(r.code, r.out).toBe(0);
    expect(fs.readdirSync(path.join(rpmRoot, 'etc/yum.repos.d')).sort()).toEqual([
      'rocky-addons.repo',
      'rocky.repo',
    ]);
    expect(fs.existsSync(path.join(rpmRoot, 'etc/pki/rpm-gpg/ferry'))).toBe(false);
    expect(fs.existsSync(path.join(debRoot, 'etc/apt/sources.list'))).toBe(true);
  });
});
