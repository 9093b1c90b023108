import { describe, expect, it } from 'vitest';
import { indexedSizes } from '../../../src-main/core/fetch/sizes.js';
import { rpmPackagesSummary } from '../../../src-main/core/kinds/deb/plan-request.js';
import type { ResolvedRpm, ResolvedRpmSet } from '../../../src-main/core/kinds/rpm/set.js';
import { parsePlan } from '../../../src-main/core/plan/plan.js';

const pkg = (
  name: string,
  arch: string,
  repoArch: string,
  size: number,
  extra: Partial<ResolvedRpm> = {},
): ResolvedRpm => ({
  name,
  epoch: 0,
  version: '1.0',
  release: '1.el9',
  arch,
  source: 'baseos',
  repoArch,
  location: `Packages/${name[0]}/${name}-1.0-1.el9.${arch}.rpm`,
  sha256: 'b'.repeat(64),
  size,
  why: 'test',
  ...extra,
});

const set: ResolvedRpmSet = {
  os: 'rocky-9',
  arches: ['x86_64', 'aarch64'],
  sources: [
    {
      id: 'baseos',
      uri: 'https://dl.rockylinux.org/pub/rocky/9/BaseOS/x86_64/os',
      arch: 'x86_64',
      repomdSigned: true,
    },
    {
      id: 'baseos',
      uri: 'https://dl.rockylinux.org/pub/rocky/9/BaseOS/aarch64/os',
      arch: 'aarch64',
      repomdSigned: false,
    },
  ],
  roots: [{ name: 'conntrack', why: 'Kubespray system_packages pkgs (always)' }],
  packages: [
    pkg('conntrack-tools', 'x86_64', 'x86_64', 2_000_000),
    pkg('conntrack-tools', 'aarch64', 'aarch64', 1_900_000),
    pkg('tzdata', 'noarch', 'x86_64', 500_000),
    pkg('tzdata', 'noarch', 'aarch64', 500_000),
    pkg('docker-ce', 'x86_64', 'x86_64', 30_000_000, { epoch: 3, source: 'docker-ce-stable', modular: true }),
  ],
};

describe('RPM sets in ferry plan’s output and sizes', () => {
  it('lists the repositories, the roots and every package with its size, per architecture', () => {
    const lines = rpmPackagesSummary([set]);
    expect(lines).toContain('OS packages for rocky-9 (x86_64, aarch64): 1 roots → 5 packages, 34.9 MB');
    expect(lines).toContain(
      '  from baseos x86_64 https://dl.rockylinux.org/pub/rocky/9/BaseOS/x86_64/os (repomd signed)',
    );
    expect(lines).toContain(
      '  from baseos aarch64 https://dl.rockylinux.org/pub/rocky/9/BaseOS/aarch64/os (repomd unsigned)',
    );
    expect(lines).toContain('  x86_64: 3 packages, 32.5 MB');
    expect(lines).toContain('  aarch64: 2 packages, 2.4 MB');
    expect(
      lines.some((l) =>
        /^ {4}docker-ce-3:1\.0-1\.el9\.x86_64 +30\.0 MB {2}docker-ce-stable \(modular\)$/.test(l),
      ),
    ).toBe(true);
  });

  it('sizes one repository per architecture: a noarch package counts once per arch', () => {
    const [a] = indexedSizes({ rpms: [set] });
    expect(a).toMatchObject({
      kind: 'rpms',
      key: 'rpms:rocky-9',
      bytes: 34_900_000,
      largestFile: 30_000_000,
    });
    expect(a.name).toBe('OS packages for rocky-9 (5)');
  });

  it('plan.json refuses a malformed set by path', () => {
    const base = { kubespray: 'v2.31.0', kubeVersion: '1.35.4', arches: ['amd64'], files: [], images: [] };
    expect(parsePlan({ ...base, rpms: [set] }).rpms).toEqual([set]);
    expect(() =>
      parsePlan({ ...base, rpms: [{ ...set, packages: [{ ...set.packages[0], sha256: 'x' }] }] }),
    ).toThrow(/rpms\.0\.packages\.0\.sha256/);
  });
});
