import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import { wantedArtifacts } from '../../../src-main/core/fetch/fetch-bundle.js';
import { parsePlan } from '../../../src-main/core/plan/plan.js';

const sum = (c: string) => `sha256:${c.repeat(64)}`;
const base = { kubespray: 'v2.29.1', kubeVersion: 'v1.33.4', arches: ['amd64', 'arm64'], vars: {} };

describe('what a plan asks the bundle for', () => {
  it('one artifact per URL and per image, disabled entries left out, platforms of duplicate images merged', () => {
    const plan = parsePlan({
      ...base,
      files: [
        {
          key: 'kubeadm',
          arch: 'amd64',
          url: 'https://dl.k8s.io/v1/amd64/kubeadm',
          checksum: sum('a'),
          path: 'files/dl.k8s.io/v1/amd64/kubeadm',
          enabled: true,
        },
        {
          key: 'kubeadm_again',
          arch: 'amd64',
          url: 'https://dl.k8s.io/v1/amd64/kubeadm',
          checksum: sum('a'),
          path: 'files/dl.k8s.io/v1/amd64/kubeadm',
          enabled: true,
        },
        {
          key: 'off',
          url: 'https://x.example/off',
          checksum: '',
          path: 'files/x.example/off',
          enabled: false,
        },
        {
          key: 'gvisor',
          url: 'https://storage.example/runsc',
          checksum: `sha512:${'d'.repeat(128)}`,
          path: 'files/storage.example/runsc',
          enabled: true,
        },
      ],
      images: [
        { key: 'pause', ref: 'registry.k8s.io/pause:3.10', platforms: ['linux/amd64'], enabled: true },
        { key: 'pause2', ref: 'registry.k8s.io/pause:3.10', platforms: ['linux/arm64'], enabled: true },
        { key: 'nginx', ref: 'nginx:1.27', platforms: ['linux/amd64'], enabled: true },
        { key: 'off', ref: 'quay.io/x/y:1', platforms: ['linux/amd64'], enabled: false },
      ],
      kubesprayTarball: {
        url: 'https://github.com/kubernetes-sigs/kubespray/archive/refs/tags/v2.29.1.tar.gz',
        path: 'kubespray/kubespray-v2.29.1.tar.gz',
      },
    });
    const w = wantedArtifacts(plan, [
      { url: 'https://tools.example/t.tgz', sha256: 'E'.repeat(64).toLowerCase(), path: 'tools/t.tgz' },
    ]);
    expect(w.map((x) => x.id)).toEqual([
      'kubespray:v2.29.1',
      'file:https://dl.k8s.io/v1/amd64/kubeadm',
      'file:https://storage.example/runsc',
      'file:https://tools.example/t.tgz',
      'image:registry.k8s.io/pause:3.10',
      'image:docker.io/library/nginx:1.27',
    ]);
    expect(w.find((x) => x.id === 'image:registry.k8s.io/pause:3.10')).toMatchObject({
      platforms: ['linux/amd64', 'linux/arm64'],
    });
    expect(w.find((x) => x.id === 'file:https://tools.example/t.tgz')).toMatchObject({
      key: 'extra',
      path: 'files/tools/t.tgz',
      checksum: `sha256:${'e'.repeat(64)}`,
    });
  });

  it('refuses an enabled file without a checksum, and a path that would leave the bundle', () => {
    const noSum = parsePlan({
      ...base,
      images: [],
      files: [
        { key: 'k', url: 'https://x.example/k', checksum: '', path: 'files/x.example/k', enabled: true },
      ],
    });
    expect(() => wantedArtifacts(noSum)).toThrow(/no published checksum/);
    const escape = parsePlan({
      ...base,
      images: [],
      files: [
        { key: 'k', url: 'https://x.example/k', checksum: sum('a'), path: '../../etc/passwd', enabled: true },
      ],
    });
    try {
      wantedArtifacts(escape);
      expect.unreachable();
    } catch (e) {
      expect((e as FerryError).code).toBe('HOSTILE');
    }
  });

  it('refuses something that is not a plan, naming the field', () => {
    expect(() =>
      parsePlan({ ...base, files: [{ key: 'k', url: 'not a url' }], images: [] }, 'p.json'),
    ).toThrow(/p.json is not a Ferry plan: files.0/);
  });
});
