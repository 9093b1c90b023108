import { describe, expect, it } from 'vitest';
import {
  osModel,
  requireDebFamily,
  requireFamily,
  rpmArch,
  rpmPinnedKey,
  rpmRepos,
  RPM_OS_IDS,
} from '../../../src-main/core/kinds/os.js';

describe('RHEL-family OS models', () => {
  it('has Rocky, Alma and RHEL 9 and 10 with their Python and facts', () => {
    expect(RPM_OS_IDS).toEqual(['rocky-9', 'alma-9', 'rhel-9', 'rocky-10', 'alma-10', 'rhel-10']);
    expect(osModel('rocky-9').python).toBe('3.9');
    expect(osModel('alma-10').python).toBe('3.12');
    expect(osModel('rhel-10').facts).toMatchObject({
      ansible_os_family: 'RedHat',
      ansible_distribution: 'RedHat',
      ansible_distribution_major_version: '10',
    });
    expect(osModel('alma-9').facts.ansible_distribution).toBe('AlmaLinux');
  });

  it('maps Ferry arches to RPM arches and refuses others by name', () => {
    expect(rpmArch('amd64')).toBe('x86_64');
    expect(rpmArch('arm64')).toBe('aarch64');
    expect(() => rpmArch('ppc64el')).toThrow(/ppc64el/);
  });

  it('Rocky/Alma: BaseOS and AppStream from the public root; EPEL and Docker only when asked', () => {
    expect(rpmRepos(osModel('rocky-9'), 'arm64')).toEqual([
      { id: 'baseos', baseurl: 'https://dl.rockylinux.org/pub/rocky/9/BaseOS/aarch64/os', key: 'distro' },
      {
        id: 'appstream',
        baseurl: 'https://dl.rockylinux.org/pub/rocky/9/AppStream/aarch64/os',
        key: 'distro',
      },
    ]);
    const all = rpmRepos(osModel('alma-10'), 'amd64', { epel: true, docker: true });
    expect(all.map((r) => r.baseurl)).toEqual([
      'https://repo.almalinux.org/almalinux/10/BaseOS/x86_64/os',
      'https://repo.almalinux.org/almalinux/10/AppStream/x86_64/os',
      'https://dl.fedoraproject.org/pub/epel/10/Everything/x86_64',
      'https://download.docker.com/linux/rhel/10/x86_64/stable',
    ]);
    expect(all.map((r) => r.key)).toEqual(['distro', 'distro', 'epel', 'docker']);
  });

  it('a given root replaces the public one; $basearch/$repoid fit other layouts; exact repos win', () => {
    expect(rpmRepos(osModel('rocky-9'), 'amd64', { root: 'http://127.0.0.1:9/9/' })[0].baseurl).toBe(
      'http://127.0.0.1:9/9/BaseOS/x86_64/os',
    );
    const cdn = rpmRepos(osModel('rhel-9'), 'amd64', {
      root: 'https://cdn.redhat.com/content/dist/rhel9/9/$basearch/$repoid/os',
    });
    expect(cdn.map((r) => r.baseurl)).toEqual([
      'https://cdn.redhat.com/content/dist/rhel9/9/x86_64/baseos/os',
      'https://cdn.redhat.com/content/dist/rhel9/9/x86_64/appstream/os',
    ]);
    const exact = rpmRepos(osModel('rocky-9'), 'arm64', {
      repos: { crb: 'http://m/crb/$basearch', extra: 'http://m/x/$basearch/' },
    });
    expect(exact.map((r) => `${r.id} ${r.baseurl}`)).toEqual([
      'baseos https://dl.rockylinux.org/pub/rocky/9/BaseOS/aarch64/os',
      'appstream https://dl.rockylinux.org/pub/rocky/9/AppStream/aarch64/os',
      'crb http://m/crb/aarch64',
      'extra http://m/x/aarch64',
    ]);
  });

  it('RHEL without a base URL: a CONFIG error naming --rpm-repo, never another distribution', () => {
    for (const id of ['rhel-9', 'rhel-10']) {
      expect(() => rpmRepos(osModel(id), 'amd64')).toThrow(
        expect.objectContaining({
          code: 'CONFIG',
          hint: expect.stringMatching(new RegExp(`--rpm-repo ${id}=URL`)),
        }),
      );
    }
  });

  it('pins each distribution key by URL on the distribution’s site and a 40-digit fingerprint', () => {
    const hosts: Record<string, string> = {
      rocky: 'dl.rockylinux.org',
      alma: 'repo.almalinux.org',
      rhel: 'www.redhat.com',
    };
    for (const id of RPM_OS_IDS) {
      const os = osModel(id);
      for (const k of ['distro', 'epel', 'docker'] as const) {
        const key = rpmPinnedKey(os, k);
        expect(key.url).toMatch(/^https:\/\//);
        for (const f of key.fingerprints) expect(f).toMatch(/^[0-9A-F]{40}$/);
      }
      expect(new URL(rpmPinnedKey(os, 'distro').url).host).toBe(hosts[id.split('-')[0]]);
    }
    // The two majors have different keys.
    expect(rpmPinnedKey(osModel('rocky-9'), 'distro').fingerprints).not.toEqual(
      rpmPinnedKey(osModel('rocky-10'), 'distro').fingerprints,
    );
  });

  it('the family guards name the kind that handles the OS', () => {
    expect(() => requireDebFamily('alma-9')).toThrow(/RPM \(dnf\)/);
    expect(() => requireFamily('debian-12', 'rpm')).toThrow(/Debian \(apt\)/);
    expect(requireFamily('rhel-10', 'rpm').rpm?.major).toBe('10');
  });
});

describe('the app’s cluster choices for RPM OSes', () => {
  it('take a base URL per OS (RHEL’s), refusing one that is not http(s)', async () => {
    const { ClusterChoicesSchema } = await import('../../../src-main/ipc/contract.js');
    const base = {
      kubespray: { source: 'release', version: 'v2.31.0' },
      arches: ['amd64'],
      runtime: 'containerd',
      network: 'calico',
      addons: [],
      extraImages: [],
      extraFiles: [],
    };
    const ok = ClusterChoicesSchema.parse({
      ...base,
      os: ['rhel-9'],
      rpmRepos: { 'rhel-9': 'https://sat.example/rhel9' },
    });
    expect(ok.rpmRepos).toEqual({ 'rhel-9': 'https://sat.example/rhel9' });
    expect(() =>
      ClusterChoicesSchema.parse({ ...base, os: ['rhel-9'], rpmRepos: { 'rhel-9': 'file:///x' } }),
    ).toThrow(/http/);
    expect(() => ClusterChoicesSchema.parse({ ...base, rpmRepos: { 'windows-11': 'https://x/' } })).toThrow();
  });
});
