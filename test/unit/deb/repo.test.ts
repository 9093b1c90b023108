import { describe, expect, it } from 'vitest';
import type { DebArtifact, FileEntry, RepoArtifact } from '../../../src-main/core/bundle/manifest.js';
import { debSetsOf, poolPath, repoRelative, suiteOf } from '../../../src-main/core/kinds/deb/fetch.js';
import { KINDS } from '../../../src-main/core/kinds/index.js';
import { prestepShell } from '../../../src-main/core/kinds/deb/prestep.js';
import { stanzaFor } from '../../../src-main/core/kinds/deb/repo.js';
import { sharedDebUrls } from '../../../src-main/core/kinds/deb/serve.js';
import { aptVars } from '../../../src-main/core/kinds/deb/vars.js';

const CONTROL = `Package: conntrack
Version: 1:1.4.7-1+b2
Architecture: amd64
Maintainer: Debian Netfilter Packaging Team <pkg-netfilter-team@lists.alioth.debian.org>
Installed-Size: 131
Depends: libc6 (>= 2.34), libmnl0 (>= 1.0.3-4~)
Section: net
Priority: optional
Description: Program to modify the conntrack tables
 conntrack is a userspace command line program targeted at system
 .
 administrators.
`;

const sha = 'a'.repeat(64);

describe('Ferry’s apt repository pieces', () => {
  it('writes a stanza as dpkg-scanpackages does: the control file, then where and what the file is', () => {
    const s = stanzaFor({
      control: CONTROL + 'SHA256: ' + 'f'.repeat(64) + '\n',
      arch: 'amd64',
      filename: 'pool/main/c/conntrack-tools/conntrack_1.4.7-1+b2_amd64.deb',
      size: 37_000,
      md5: 'b'.repeat(32),
      sha256: sha,
      components: ['main'],
    });
    expect(s.startsWith('Package: conntrack\nVersion: 1:1.4.7-1+b2\n')).toBe(true);
    expect(s).toContain(' .\n administrators.\n');
    expect(
      s.endsWith(
        `Filename: pool/main/c/conntrack-tools/conntrack_1.4.7-1+b2_amd64.deb\nSize: 37000\nMD5sum: ${'b'.repeat(32)}\nSHA256: ${sha}\n`,
      ),
    ).toBe(true);
    // A control file's own hash fields never reach the index: Ferry's are the file's.
    expect(s).not.toContain('f'.repeat(64));
  });

  it('refuses a control file that does not start with Package', () => {
    expect(() =>
      stanzaFor({
        control: 'Version: 1\n',
        arch: 'all',
        filename: 'pool/x.deb',
        size: 1,
        md5: '',
        sha256: sha,
        components: ['main'],
      }),
    ).toThrow(/Package/);
  });

  it('keeps pool paths, puts any other Filename under pool/, and names the suite by codename', () => {
    expect(poolPath('debian-12', 'pool/main/s/socat/socat_1.7.4.4-2_amd64.deb')).toBe(
      'repos/debian-12/pool/main/s/socat/socat_1.7.4.4-2_amd64.deb',
    );
    expect(poolPath('debian-12', 'dists/bookworm/pool/stable/amd64/containerd.io_1.7.28-1_amd64.deb')).toBe(
      'repos/debian-12/pool/dists/bookworm/pool/stable/amd64/containerd.io_1.7.28-1_amd64.deb',
    );
    expect(repoRelative('repos/debian-12/pool/main/x.deb')).toBe('pool/main/x.deb');
    const set = {
      os: 'debian-12',
      arches: ['amd64'],
      sources: [
        { uri: 'https://deb.debian.org/debian-security', suite: 'bookworm-security', components: ['main'] },
      ],
      roots: [],
      packages: [],
    };
    expect(suiteOf(set)).toBe('bookworm');
  });

  it('reads plan.json debs through the contract schema and refuses an OS listed twice', () => {
    expect(debSetsOf({})).toEqual([]);
    const set = {
      os: 'debian-12',
      arches: ['amd64'],
      sources: [{ uri: 'u', suite: 's', components: ['main'] }],
      roots: [],
      packages: [],
    };
    expect(debSetsOf({ debs: [set] })).toHaveLength(1);
    expect(() => debSetsOf({ debs: [set, set] })).toThrow(/twice/);
    expect(() => debSetsOf({ debs: [{ ...set, packages: [{ package: 'x' }] }] })).toThrow(
      /debs\.0\.packages/,
    );
  });

  it('serves a .deb stored under another OS in each OS’s own pool', () => {
    const a = (os: string, p: string): DebArtifact => ({
      id: `deb:${os}/x_1_all`,
      kind: 'deb',
      os,
      package: 'x',
      version: '1',
      arch: 'all',
      sha256: sha,
      size: 1,
      paths: [p],
    });
    expect(
      sharedDebUrls([
        a('debian-12', 'repos/debian-12/pool/main/x/x_1_all.deb'),
        a('debian-13', 'repos/debian-12/pool/main/x/x_1_all.deb'),
      ]),
    ).toEqual([['repos/debian-13/pool/main/x/x_1_all.deb', 'repos/debian-12/pool/main/x/x_1_all.deb']]);
  });

  it('the deb kind reuses a held package only when it is the same pinned file', () => {
    const held: DebArtifact = {
      id: 'deb:debian-12/x_1_amd64',
      kind: 'deb',
      os: 'debian-12',
      package: 'x',
      version: '1',
      arch: 'amd64',
      sha256: sha,
      size: 5,
      paths: ['repos/debian-12/pool/x.deb'],
    };
    const holds = KINDS.deb.fetch!.holds;
    expect(holds(held, { ...held })).toBe(true);
    expect(holds(held, { ...held, sha256: 'c'.repeat(64) })).toBe(false);
    expect(holds(held, { ...held, os: 'debian-13' })).toBe(false);
  });

  it('the repo kind finds an apt repository record that does not name its signed files', () => {
    const repo: RepoArtifact = {
      id: 'repo:apt/debian-12',
      kind: 'repo',
      format: 'apt',
      os: 'debian-12',
      paths: [
        'repos/debian-12/dists/bookworm/InRelease',
        'repos/debian-12/dists/bookworm/Release',
        'repos/debian-12/dists/bookworm/main/binary-amd64/Packages',
        'repos/debian-12/ferry.gpg',
        'repos/debian-12/ferry.asc',
      ],
    };
    const listed = new Map<string, FileEntry>();
    expect(KINDS.repo.verify.record(repo, listed)).toEqual([]);
    const cut = { ...repo, paths: repo.paths.filter((p) => !p.endsWith('InRelease')) };
    expect(KINDS.repo.verify.record(cut, listed).map((p) => p.error)).toEqual([
      'the apt repository for debian-12 does not name dists/<suite>/InRelease',
    ]);
    expect(KINDS.repo.name(repo)).toBe('apt repository for debian-12');
  });

  it('vars point each OS at its repository, and Kubespray’s docker vars only when Docker’s packages are there', () => {
    const v = aptVars('http://10.0.0.5:8080/', [
      { os: 'debian-12', suite: 'bookworm', keyringSha256: sha, fingerprint: 'F'.repeat(40), docker: true },
      { os: 'ubuntu-24.04', suite: 'noble', keyringSha256: sha, docker: false },
    ]);
    expect(v.ferry_apt_repos).toMatchObject({
      'debian-12': {
        url: 'http://10.0.0.5:8080/repos/debian-12',
        source:
          'deb [signed-by=/etc/apt/keyrings/ferry.gpg] http://10.0.0.5:8080/repos/debian-12 bookworm main',
        keyring_sha256: sha,
      },
      'ubuntu-24.04': { suite: 'noble' },
    });
    expect(v.debian_repo).toBe('http://10.0.0.5:8080/repos/debian-12');
    expect(v.ubuntu_repo).toBe('http://10.0.0.5:8080/repos/ubuntu-24.04');
    expect(v.docker_debian_repo_base_url).toBe('http://10.0.0.5:8080/repos/debian-12');
    expect(v.docker_debian_repo_gpgkey).toBe('http://10.0.0.5:8080/repos/debian-12/ferry.asc');
    expect(v.docker_debian_repo_repokey).toBe('F'.repeat(40));
    expect(v.docker_ubuntu_repo_base_url).toBeUndefined();
    expect(v.ferry_apt_repo_url).toBeUndefined(); // two OSes: the playbook picks by facts
  });

  it('the shell pre-step disables every source file, inlines the keyring, and says how to undo', () => {
    const sh = prestepShell({
      repoUrl: 'http://h:8080/repos/debian-12',
      suite: 'bookworm',
      keyring: Buffer.from('KEY'),
    });
    expect(sh).toContain('/etc/apt/sources.list.d/*.sources');
    expect(sh).toContain(
      `echo '${Buffer.from('KEY').toString('base64')}' | base64 -d > /etc/apt/keyrings/ferry.gpg`,
    );
    expect(sh).toContain(
      "echo 'deb [signed-by=/etc/apt/keyrings/ferry.gpg] http://h:8080/repos/debian-12 bookworm main'",
    );
    expect(sh).toMatch(/# Undo:/);
  });
});
