import { describe, expect, it } from 'vitest';
import type {
  Artifact,
  FileEntry,
  Manifest,
  RepoArtifact,
  RpmArtifact,
} from '../../../src-main/core/bundle/manifest.js';
import type { BundleSource } from '../../../src-main/core/bundle/source.js';
import { KINDS, kindVars } from '../../../src-main/core/kinds/index.js';
import { prestepPlaybook } from '../../../src-main/core/kinds/deb/prestep.js';
import { sharedRpmUrls } from '../../../src-main/core/kinds/rpm/kind.js';
import { rpmPrestepShell, rpmRepoFile } from '../../../src-main/core/kinds/rpm/prestep.js';
import { rpmReposOf, rpmVars } from '../../../src-main/core/kinds/rpm/vars.js';

const sha = 'a'.repeat(64);
const sha2 = 'b'.repeat(64);

const rpm = (o: Partial<RpmArtifact> & { path: string }): RpmArtifact => ({
  id: `rpm:rocky-9/${o.repoArch ?? 'x86_64'}/${o.package ?? 'conntrack-tools'}`,
  kind: 'rpm',
  os: 'rocky-9',
  package: 'conntrack-tools',
  version: '1.4.7',
  release: '2.el9',
  arch: 'x86_64',
  repoArch: 'x86_64',
  sha256: sha,
  size: 10,
  paths: [o.path],
  ...o,
});

const repo: RepoArtifact = {
  id: 'repo:rpm/rocky-9',
  kind: 'repo',
  format: 'rpm',
  os: 'rocky-9',
  paths: [
    'repos/rocky-9/x86_64/repodata/repomd.xml',
    'repos/rocky-9/x86_64/repodata/repomd.xml.asc',
    `repos/rocky-9/x86_64/repodata/${sha}-primary.xml.gz`,
    'repos/rocky-9/aarch64/repodata/repomd.xml',
    'repos/rocky-9/aarch64/repodata/repomd.xml.asc',
    `repos/rocky-9/aarch64/repodata/${sha}-primary.xml.gz`,
    'repos/rocky-9/RPM-GPG-KEY-Rocky-9',
    'repos/rocky-9/RPM-GPG-KEY-docker-ce',
    'repos/rocky-9/RPM-GPG-KEY-ferry',
    'repos/ferry-apt-prestep.yml',
  ],
};

function source(artifacts: Artifact[], files: Record<string, string>): BundleSource {
  const entries = new Map<string, FileEntry>(
    Object.entries(files).map(([p, s]) => [p, { path: p, size: 1, sha256: s } as FileEntry]),
  );
  return {
    id: 'b',
    manifest: { artifacts, files: [...entries.values()] } as unknown as Manifest,
    entry: (p) => entries.get(p),
    filePath: () => undefined,
  };
}

describe('the rpm kind and Ferry’s RPM repositories', () => {
  it('the rpm kind names a package by its NEVRA and OS and holds it to the file list', () => {
    const a = rpm({ path: 'repos/rocky-9/x86_64/Packages/c/conntrack-tools-1.4.7-2.el9.x86_64.rpm' });
    expect(KINDS.rpm.name(a)).toBe('conntrack-tools-1.4.7-2.el9.x86_64 (rocky-9)');
    expect(KINDS.rpm.name({ ...a, epoch: 2 })).toBe('conntrack-tools-2:1.4.7-2.el9.x86_64 (rocky-9)');
    const listed = new Map<string, FileEntry>([
      [a.paths[0], { path: a.paths[0], size: 10, sha256: sha2 } as FileEntry],
    ]);
    const problems = KINDS.rpm.verify.record(a, listed);
    expect(problems).toHaveLength(1);
    expect(problems[0].status).toBe('wrong-digest');
    expect(KINDS.rpm.verify.repairHint(a)).toMatch(/ferry export --only/);
    expect(KINDS.rpm.summarize(a).group).toBe('rocky-9 packages');
  });

  it('reuses a held package only when it is the same pinned file in the same repository', () => {
    const a = rpm({ path: 'repos/rocky-9/x86_64/Packages/c/c.rpm' });
    const holds = KINDS.rpm.fetch!.holds;
    expect(holds(a, { ...a })).toBe(true);
    expect(holds(a, { ...a, sha256: sha2 })).toBe(false);
    expect(holds(a, { ...a, repoArch: 'aarch64' })).toBe(false);
    expect(holds(a, { ...a, release: '3.el9' })).toBe(false);
    expect(holds(a, { ...a, epoch: 1 })).toBe(false);
  });

  it('serves a noarch package stored under one architecture in the other architecture’s folder too', () => {
    const p = 'repos/rocky-9/x86_64/Packages/p/python3-x-1-1.el9.noarch.rpm';
    expect(
      sharedRpmUrls([
        rpm({ path: p, arch: 'noarch', repoArch: 'x86_64' }),
        rpm({ path: p, arch: 'noarch', repoArch: 'aarch64' }),
      ]),
    ).toEqual([['repos/rocky-9/aarch64/Packages/p/python3-x-1-1.el9.noarch.rpm', p]]);
    expect(KINDS.rpm.serve.aliases).toBe(sharedRpmUrls);
  });

  it('the repo kind finds an RPM repository record that does not name its signed repomd, signature, primary or key', () => {
    const listed = new Map<string, FileEntry>();
    expect(KINDS.repo.verify.record(repo, listed)).toEqual([]);
    expect(KINDS.repo.name(repo)).toBe('RPM repository for rocky-9');
    const cut = (re: RegExp) => ({ ...repo, paths: repo.paths.filter((p) => !re.test(p)) });
    expect(
      KINDS.repo.verify.record(cut(/aarch64\/repodata\/repomd\.xml\.asc$/), listed).map((p) => p.error),
    ).toEqual(['the RPM repository for rocky-9 does not name aarch64/repodata/repomd.xml.asc']);
    expect(KINDS.repo.verify.record(cut(/x86_64.*primary/), listed).map((p) => p.path)).toEqual([
      'repos/rocky-9/x86_64/repodata/<sha>-primary.xml.gz',
    ]);
    expect(KINDS.repo.verify.record(cut(/RPM-GPG-KEY-ferry$/), listed).map((p) => p.error)).toEqual([
      'the RPM repository for rocky-9 does not name RPM-GPG-KEY-ferry',
    ]);
    expect(KINDS.repo.verify.record(cut(/repodata/), listed).map((p) => p.path)).toEqual([
      'repos/rocky-9/<arch>/repodata/repomd.xml',
    ]);
  });

  it('vars: the repository, its keys with their sha256, yum_repo and Kubespray’s docker-ce variables', async () => {
    const files: Record<string, string> = {
      'repos/rocky-9/RPM-GPG-KEY-Rocky-9': sha,
      'repos/rocky-9/RPM-GPG-KEY-docker-ce': sha2,
      'repos/rocky-9/RPM-GPG-KEY-ferry': 'c'.repeat(64),
    };
    const docker = rpm({
      path: 'repos/rocky-9/x86_64/Packages/d/docker-ce-28.0.4-1.el9.x86_64.rpm',
      package: 'docker-ce',
      url: 'https://download.docker.com/linux/rhel/9/x86_64/stable/Packages/docker-ce-28.0.4-1.el9.x86_64.rpm',
    });
    const src = source([repo, docker], files);
    const repos = rpmReposOf(src);
    expect(repos).toEqual([
      {
        os: 'rocky-9',
        arches: ['aarch64', 'x86_64'],
        keys: [
          { file: 'RPM-GPG-KEY-Rocky-9', sha256: sha },
          { file: 'RPM-GPG-KEY-docker-ce', sha256: sha2 },
          { file: 'RPM-GPG-KEY-ferry', sha256: 'c'.repeat(64) },
        ],
        docker: true,
      },
    ]);
    const v = rpmVars('http://10.0.0.5:8080/', repos);
    const base = 'http://10.0.0.5:8080/repos/rocky-9';
    expect(v.yum_repo).toBe(base);
    expect(v.ferry_rpm_repo_url).toBe(base);
    expect(v.ferry_rpm_os).toBe('rocky-9');
    expect(v.ferry_rpm_keys).toEqual([
      { file: 'RPM-GPG-KEY-Rocky-9', url: `${base}/RPM-GPG-KEY-Rocky-9`, sha256: sha },
      { file: 'RPM-GPG-KEY-docker-ce', url: `${base}/RPM-GPG-KEY-docker-ce`, sha256: sha2 },
      { file: 'RPM-GPG-KEY-ferry', url: `${base}/RPM-GPG-KEY-ferry`, sha256: 'c'.repeat(64) },
    ]);
    expect(v.docker_rh_repo_base_url).toBe(`${base}/$basearch`);
    expect(v.docker_rh_repo_gpgkey).toBe(
      `${base}/RPM-GPG-KEY-Rocky-9 ${base}/RPM-GPG-KEY-docker-ce ${base}/RPM-GPG-KEY-ferry`,
    );
    expect(v.ferry_apt_prestep_url).toBe('http://10.0.0.5:8080/repos/ferry-apt-prestep.yml');
    // Rocky is not RHEL: its bootstrap enables nothing through subscription-manager.
    expect(v.rhel_enable_repos).toBeUndefined();
    // And through the registry, as `ferry vars` collects every kind's.
    expect(await kindVars(src, 'http://10.0.0.5:8080/')).toMatchObject({ yum_repo: base });
  });

  it('vars for RHEL say rhel_enable_repos: false; no docker variables without Docker’s packages; two OSes pick by facts', () => {
    const files = { 'repos/rhel-9/RPM-GPG-KEY-ferry': sha, 'repos/rocky-9/RPM-GPG-KEY-ferry': sha };
    const rhel: RepoArtifact = {
      ...repo,
      id: 'repo:rpm/rhel-9',
      os: 'rhel-9',
      paths: repo.paths.map((p) => p.replace('rocky-9', 'rhel-9')),
    };
    const v = rpmVars('http://h:8080', rpmReposOf(source([rhel, repo], files)));
    expect(v.rhel_enable_repos).toBe(false);
    expect(v.docker_rh_repo_base_url).toBeUndefined();
    expect(v.ferry_rpm_repo_url).toBeUndefined();
    expect(Object.keys(v.ferry_rpm_repos as object)).toEqual(['rhel-9', 'rocky-9']);
    expect(v.yum_repo).toBe('http://h:8080/repos/rhel-9');
    // A bundle without RPM repositories adds nothing.
    expect(rpmVars('http://h:8080', [])).toEqual({});
  });

  it('ferry.repo checks package signatures and repository metadata, with every carried key', () => {
    expect(
      rpmRepoFile({
        os: 'rocky-9',
        url: 'http://h:8080/repos/rocky-9/',
        keys: ['RPM-GPG-KEY-Rocky-9', 'RPM-GPG-KEY-ferry'],
      }),
    ).toBe(
      [
        '[ferry]',
        'name=Ferry rocky-9',
        'baseurl=http://h:8080/repos/rocky-9/$basearch',
        'enabled=1',
        'gpgcheck=1',
        'repo_gpgcheck=1',
        'gpgkey=file:///etc/pki/rpm-gpg/ferry/RPM-GPG-KEY-Rocky-9 file:///etc/pki/rpm-gpg/ferry/RPM-GPG-KEY-ferry',
        'module_hotfixes=1',
        'skip_if_unavailable=0',
        '',
      ].join('\n'),
    );
  });

  it('the shell pre-step disables every .repo file, inlines the keys, and says how to undo', () => {
    const sh = rpmPrestepShell({
      os: 'rocky-9',
      repoUrl: 'http://h:8080/repos/rocky-9',
      keys: [{ file: 'RPM-GPG-KEY-ferry', data: Buffer.from('KEY') }],
    });
    expect(sh).toContain('for f in /etc/yum.repos.d/*.repo; do');
    expect(sh).toContain(
      `echo '${Buffer.from('KEY').toString('base64')}' | base64 -d > /etc/pki/rpm-gpg/ferry/RPM-GPG-KEY-ferry`,
    );
    expect(sh).toContain('repo_gpgcheck=1');
    expect(sh).toMatch(/# Undo:/);
  });

  it('one playbook holds the apt play and the dnf play, each guarded to its own family', () => {
    const pb = prestepPlaybook();
    expect(pb).toContain('- name: Ferry apt repository');
    expect(pb).toContain('- name: Ferry dnf repository');
    expect(pb).toMatch(/ferry_apt_here: >-/);
    expect(pb).toMatch(/ferry_rpm_here: >-/);
  });
});
