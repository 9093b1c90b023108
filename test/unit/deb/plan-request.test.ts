import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pruneIndexCache } from '../../../src-main/core/kinds/deb/plan.js';
import { osPackagesSettings, osPackagesSummary } from '../../../src-main/core/kinds/deb/plan-request.js';
import type { ResolvedDebSet } from '../../../src-main/core/kinds/deb/set.js';
import { parsePlan } from '../../../src-main/core/plan/plan.js';
import type { Profile } from '../../../src-main/core/plan/profile/schema.js';

const set: ResolvedDebSet = {
  os: 'debian-12',
  arches: ['amd64'],
  sources: [
    {
      uri: 'https://deb.debian.org/debian',
      suite: 'bookworm',
      components: ['main'],
      date: '2026-07-11T10:16:37.000Z',
    },
  ],
  roots: [{ name: 'conntrack', why: 'Kubespray system_packages pkgs (always)' }],
  packages: [
    {
      package: 'conntrack',
      version: '1:1.4.7-1+b2',
      arch: 'amd64',
      uri: 'https://deb.debian.org/debian',
      filename: 'pool/main/c/conntrack-tools/conntrack_1.4.7-1+b2_amd64.deb',
      sha256: 'a'.repeat(64),
      size: 2_500_000,
      why: 'Kubespray system_packages pkgs (always)',
    },
  ],
};

describe('OS packages in the plan request', () => {
  it('flags win over the profile; the deploy host OS joins the targets', () => {
    const profile = {
      os: ['ubuntu-24.04'],
      osPackages: { extra: ['htop'], recommends: false, keyrings: { 'ubuntu-24.04': '/k/ubuntu.gpg' } },
    } as Profile;
    expect(osPackagesSettings({ profile })).toEqual({
      os: ['ubuntu-24.04'],
      extra: ['htop'],
      recommends: false,
      keyrings: { 'ubuntu-24.04': ['/k/ubuntu.gpg'] },
      rpmRepos: {},
      rpmKeys: {},
    });
    const s = osPackagesSettings({
      profile,
      os: ['debian-12'],
      extra: ['jq'],
      keyrings: ['docker=/k/docker.gpg'],
      deployOs: 'ubuntu-22.04',
    });
    expect(s.os).toEqual(['debian-12', 'ubuntu-22.04']);
    expect(s.extra).toEqual(['htop', 'jq']);
    expect(s.keyrings.docker).toEqual(['/k/docker.gpg']);
    expect(osPackagesSettings({ os: ['debian-12'], noRecommends: true }).recommends).toBe(false);
    expect(osPackagesSettings({}).os).toEqual([]);
  });

  it('accepts the RPM OSes; refuses an unknown OS and a malformed --keyring with USAGE-class errors', () => {
    expect(osPackagesSettings({ os: ['rhel-9', 'debian-12'] }).os).toEqual(['rhel-9', 'debian-12']);
    expect(() => osPackagesSettings({ os: ['windows-11'] })).toThrow(/Unknown target OS/);
    expect(() => osPackagesSettings({ os: ['debian-12'], keyrings: ['nofile'] })).toThrow(/OS=FILE/);
  });

  it('RPM flags over the profile: repository roots, exact repositories, keys, client certificate', () => {
    const profile = {
      osPackages: {
        rpmRepos: { 'rhel-9': 'https://satellite.example/rhel9/$repoid/$basearch/os' },
        rpmKeys: { 'rhel-9': 'keys/mirror.asc' },
      },
    } as Profile;
    const s = osPackagesSettings({
      os: ['rhel-9', 'rocky-9'],
      profile,
      profileDir: '/p',
      rpmRepos: ['rocky-9=http://127.0.0.1:8/9', 'rocky-9:crb=http://127.0.0.1:8/crb/$basearch'],
      rpmKeys: ['epel=/k/epel.asc'],
      clientCert: '/c/cert.pem',
      clientKey: '/c/key.pem',
    });
    expect(s.rpmRepos).toEqual({
      'rhel-9': { root: 'https://satellite.example/rhel9/$repoid/$basearch/os' },
      'rocky-9': { root: 'http://127.0.0.1:8/9', repos: { crb: 'http://127.0.0.1:8/crb/$basearch' } },
    });
    expect(s.rpmKeys).toEqual({ 'rhel-9': ['/p/keys/mirror.asc'], epel: ['/k/epel.asc'] });
    expect(s).toMatchObject({ clientCert: '/c/cert.pem', clientKey: '/c/key.pem' });
    expect(() => osPackagesSettings({ rpmRepos: ['debian-12=http://x/'] })).toThrow(/not an RPM OS/);
    expect(() => osPackagesSettings({ rpmRepos: ['rocky-9'] })).toThrow(/OS=URL/);
    expect(() => osPackagesSettings({ rpmRepos: ['rocky-9=ftp://x/'] })).toThrow(/http/);
    expect(() => osPackagesSettings({ clientCert: '/c.pem' })).toThrow(/certificate needs its key/);
  });

  it('plan.json keeps the sets (the contract fetch reads) and refuses a malformed one', () => {
    const base = { kubespray: 'v2.31.0', kubeVersion: '1.35.4', arches: ['amd64'], files: [], images: [] };
    expect(parsePlan({ ...base, debs: [set] }).debs).toEqual([set]);
    expect(() =>
      parsePlan({ ...base, debs: [{ ...set, packages: [{ ...set.packages[0], sha256: 'short' }] }] }),
    ).toThrow(/debs\.0\.packages\.0\.sha256/);
  });

  it('summarises each OS: roots and why, counts and total size', () => {
    const lines = osPackagesSummary([set]);
    expect(lines).toContain('OS packages for debian-12 (amd64): 1 roots → 1 packages, 2.5 MB');
    expect(lines).toContain('  conntrack  Kubespray system_packages pkgs (always)');
  });

  it('prunes cached indexes no plan read for 30 days, and keeps the others', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deb-cache-'));
    try {
      fs.mkdirSync(path.join(dir, 'indexes'));
      const old = path.join(dir, 'indexes', 'a'.repeat(64));
      const recent = path.join(dir, 'indexes', 'b'.repeat(64));
      fs.writeFileSync(old, 'x');
      fs.writeFileSync(recent, 'y');
      const now = new Date('2026-06-01T00:00:00Z');
      fs.utimesSync(old, new Date('2026-04-01T00:00:00Z'), new Date('2026-04-01T00:00:00Z'));
      fs.utimesSync(recent, new Date('2026-05-20T00:00:00Z'), new Date('2026-05-20T00:00:00Z'));
      expect(await pruneIndexCache(dir, 30, now)).toEqual(['a'.repeat(64)]);
      expect(fs.existsSync(recent)).toBe(true);
      expect(await pruneIndexCache(path.join(dir, 'missing'))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
