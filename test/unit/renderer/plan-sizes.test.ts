import { describe, expect, it } from 'vitest';
import type { Drive, PlanSummary as Plan, PlanSizesT } from '../../../src-main/ipc/contract.js';
import { sizesView } from '../../../src-main/ipc/handlers/plan.js';
import { withSizes } from '../../../src-renderer/src/views/connected/ClusterStep.js';
import { roomWarnings } from '../../../src-renderer/src/views/connected/DriveStep.js';

const GiB = 2 ** 30;
const plan: Plan = {
  kubesprayVersion: 'v2.31.0',
  kubeVersion: '1.35.4',
  arches: ['amd64'],
  counts: { files: 2, images: 1, total: 3 },
  bytes: null,
  groups: [
    // As core/plan/room groups them: calicoctl is calico's tool.
    { name: 'calico', kind: 'file', count: 1, bytes: null },
    { name: 'calico', kind: 'image', count: 1, bytes: null },
    { name: 'kubeadm', kind: 'file', count: 1, bytes: null },
  ],
  warnings: [],
};
const drive = (free: number, fsType: string): Drive =>
  ({
    id: 'd',
    label: 'USB',
    mount: '/media/usb',
    fsType,
    size: 64 * GiB,
    free,
    removable: true,
    warnings: [],
  }) as Drive;

describe('sizes before downloading, in the app', () => {
  it('groups sizes as the plan groups its downloads; one unknown member leaves its group unknown', () => {
    const core = {
      files: [
        { key: 'calicoctl', enabled: true },
        { key: 'kubeadm', enabled: true },
      ],
      images: [{ key: 'calico_node', enabled: true }],
    } as unknown as Parameters<typeof sizesView>[0];
    const sz = sizesView(core, {
      artifacts: [
        { kind: 'file', key: 'calicoctl', name: 'u1', bytes: 100 },
        { kind: 'file', key: 'kubeadm', name: 'u2', bytes: null, unknown: 'dl.k8s.io cannot be resolved' },
        { kind: 'image', key: 'calico_node', name: 'r', bytes: 300, imageBytes: 300, largestFile: 250 },
      ],
      knownBytes: 400,
      unsized: 1,
      sharedImageBytes: 0,
    });
    expect(sz).toMatchObject({ bytes: null, knownBytes: 400, unsized: 1, largestFile: 250 });
    expect(sz.notSized).toEqual([{ name: 'u2', reason: 'dl.k8s.io cannot be resolved' }]);
    const merged = withSizes(plan, sz);
    expect(merged.groups.map((g) => [g.kind, g.name, g.bytes])).toEqual([
      ['file', 'calico', 100],
      ['image', 'calico', 300],
      ['file', 'kubeadm', null],
    ]);
    expect(merged.bytes).toBeNull();
  });

  it('the drive list warns, before downloading, on a drive too small and on FAT32 with a file of 4 GiB or more', () => {
    const sized: PlanSizesT = {
      bytes: 10 * GiB,
      knownBytes: 10 * GiB,
      unsized: 0,
      largestFile: 5 * GiB,
      groups: [],
      notSized: [],
    };
    const need = withSizes(plan, sized);
    expect(roomWarnings(drive(32 * GiB, 'ext4'), need)).toEqual([]);
    expect(roomWarnings(drive(4 * GiB, 'ext4'), need)[0]).toMatch(
      /The bundle needs .+; this drive has .+ free/,
    );
    expect(roomWarnings(drive(32 * GiB, 'vfat'), need)[0]).toMatch(/FAT32/);
    // Sizes not known yet: no warning is made up.
    expect(roomWarnings(drive(1, 'vfat'), plan)).toEqual([]);
  });
});
