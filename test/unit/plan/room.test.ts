import { describe, expect, it } from 'vitest';
import {
  componentOf,
  roomCount,
  roomGroups,
  roomOrder,
  roomSized,
} from '../../../src-main/core/plan/room.js';

describe('what takes the room', () => {
  it('names the component a Kubespray download key belongs to', () => {
    const cases: Record<string, string> = {
      calico_node: 'calico',
      calico_crds: 'calico',
      calicoctl: 'calico',
      ciliumcli: 'cilium',
      cilium_hubble_ui: 'cilium',
      cert_manager_webhook: 'cert_manager',
      metrics_server: 'metrics_server',
      local_path_provisioner: 'local_path_provisioner',
      'kube-vip': 'kube-vip',
      kube_ovn: 'kube_ovn',
      'kubeadm_kube-apiserver': 'kubeadm',
      kubeadm: 'kubeadm',
      kubelet: 'kubelet',
      csi_attacher: 'csi',
      aws_ebs_csi_plugin: 'csi',
      snapshot_controller: 'csi',
      gvisor_runsc: 'gvisor',
      pod_infra: 'pod_infra',
      argocd_install: 'argocd',
    };
    for (const [key, name] of Object.entries(cases)) expect([key, componentOf(key)]).toEqual([key, name]);
  });

  it('groups enabled downloads by component and kind; extras and the tarball have their own', () => {
    const groups = roomGroups({
      files: [
        { key: 'kubeadm', enabled: true },
        { key: 'calicoctl', enabled: true },
        { key: 'cilium', enabled: false },
        { key: 'extra_file_0', enabled: true, extra: true },
      ],
      images: [
        { key: 'calico_node', enabled: true },
        { key: 'calico_cni', enabled: true },
        { key: 'kubeadm_kube-proxy', enabled: true },
        { key: 'extra_image_0', enabled: true, extra: true },
      ],
      kubesprayTarball: { url: 'https://github.com/x', path: 'kubespray/x.tar.gz' },
    });
    expect(groups).toEqual([
      { name: 'kubeadm', kind: 'file', count: 1, bytes: null },
      { name: 'calico', kind: 'file', count: 1, bytes: null },
      { name: 'extra files', kind: 'file', count: 1, bytes: null },
      { name: 'calico', kind: 'image', count: 2, bytes: null },
      { name: 'kubeadm', kind: 'image', count: 1, bytes: null },
      { name: 'extra images', kind: 'image', count: 1, bytes: null },
      { name: 'kubespray', kind: 'kubespray', count: 1, bytes: null },
    ]);
    expect(roomCount(groups[3])).toBe('2 images');
    expect(roomCount(groups[0])).toBe('1 file');
    expect(roomCount(groups[6])).toBe('1 Kubespray release');
  });

  it('orders by size when every size is known, else by number of downloads, then by name', () => {
    const g = [
      { name: 'b', kind: 'file' as const, count: 1, bytes: 10 },
      { name: 'a', kind: 'image' as const, count: 3, bytes: 5 },
      { name: 'c', kind: 'file' as const, count: 1, bytes: 10 },
    ];
    expect(roomSized(g)).toBe(true);
    expect(roomOrder(g).map((x) => x.name)).toEqual(['b', 'c', 'a']);
    const unsized = g.map((x) => ({ ...x, bytes: x.name === 'a' ? 5 : null }));
    expect(roomSized(unsized)).toBe(false);
    expect(roomOrder(unsized).map((x) => x.name)).toEqual(['a', 'b', 'c']);
    expect(roomSized([])).toBe(false);
  });
});
