import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Drive } from '../../src-main/core/media/drives/index.js';
import type { World } from '../helpers/world/index.js';

/**
 * A small Kubespray source tree whose `downloads` point at the loopback world: same role layout
 * and templating as the real thing (entries enabled by the cluster choices), but files and
 * checksums the world actually serves, so a plan made from it can really be fetched.
 */
export const KUBE_VERSIONS = ['1.35.4', '1.34.2'];

export function writeTestKubespray(dir: string, world: World, opts: { fileSize?: number } = {}): void {
  const size = opts.fileSize ?? 1 << 20;
  const sums: Record<string, Record<string, Record<string, string>>> = {};
  const binaries = ['kubeadm', 'kubelet', 'kubectl'];
  for (const bin of [...binaries, 'containerd', 'helm']) {
    sums[bin] = { amd64: {}, arm64: {} };
    for (const arch of ['amd64', 'arm64']) {
      for (const v of bin === 'containerd' || bin === 'helm' ? ['any'] : KUBE_VERSIONS) {
        const urlPath =
          bin === 'containerd'
            ? `/containerd/v2.1.4/containerd-${arch}.tar.gz`
            : bin === 'helm'
              ? `/helm/v3.18.4/helm-linux-${arch}.tar.gz`
              : `/dl.k8s.io/release/v${v}/bin/linux/${arch}/${bin}`;
        // The kubelet is the big one, as in real life: it dominates the room picture.
        const f = world.files.add(urlPath, randomBytes(bin === 'kubelet' ? size * 3 : size));
        sums[bin][arch][v] = f.checksum;
      }
    }
  }
  const origin = world.files.origin;
  const reg = world.registry.host;
  // cilium's Helm chart as helm.cilium.io publishes it (Kubespray v2.29+ runs `cilium install`
  // from it): the walk maps https://helm.cilium.io/ to this host with a mirror setting.
  const chart = randomBytes(64 * 1024);
  world.files.add('/helm.cilium.io/cilium-1.18.1.tgz', chart);
  world.files.add(
    '/helm.cilium.io/index.yaml',
    Buffer.from(
      `apiVersion: v1\nentries:\n  cilium:\n  - name: cilium\n    version: 1.18.1\n    digest: ${createHash('sha256').update(chart).digest('hex')}\n    urls:\n    - https://helm.cilium.io/cilium-1.18.1.tgz\n`,
    ),
  );
  const yaml = `---
kube_version: "${KUBE_VERSIONS[0]}"
architecture_groups:
  x86_64: amd64
  aarch64: arm64
image_arch: "{{ architecture_groups[ansible_architecture] }}"
kube_network_plugin: calico
cilium_version: "1.18.1"
cilium_operator_image_repo: "{{ test_registry }}/cilium/operator"
cilium_operator_image_tag: "v1.18.1"
container_manager: containerd
helm_enabled: false
metrics_server_enabled: false
download_container: true
skip_kubeadm_images: true
files_origin: "${origin}"
test_registry: "${reg}"
kube_image_repo: "{{ test_registry }}"
kubelet_checksums:
${['amd64', 'arm64'].map((a) => `  ${a}:\n${KUBE_VERSIONS.map((v) => `    ${v}: "${sums.kubelet[a][v]}"`).join('\n')}`).join('\n')}
${binaries
  .map(
    (b) =>
      `${b}_checksums:\n${['amd64', 'arm64'].map((a) => `  ${a}:\n${KUBE_VERSIONS.map((v) => `    ${v}: "${sums[b][a][v]}"`).join('\n')}`).join('\n')}`,
  )
  .join('\n')}
containerd_checksums:
  amd64: "${sums.containerd.amd64.any}"
  arm64: "${sums.containerd.arm64.any}"
helm_checksums:
  amd64: "${sums.helm.amd64.any}"
  arm64: "${sums.helm.arm64.any}"
downloads:
${binaries
  .map(
    (b) => `  ${b}:
    enabled: true
    file: true
    container: false
    url: "{{ files_origin }}/dl.k8s.io/release/v{{ kube_version }}/bin/linux/{{ image_arch }}/${b}"
    checksum: "{{ ${b}_checksums[image_arch][kube_version] }}"`,
  )
  .join('\n')}
  containerd:
    enabled: "{{ container_manager == 'containerd' }}"
    file: true
    container: false
    url: "{{ files_origin }}/containerd/v2.1.4/containerd-{{ image_arch }}.tar.gz"
    checksum: "{{ containerd_checksums[image_arch] }}"
  helm:
    enabled: "{{ helm_enabled }}"
    file: true
    container: false
    url: "{{ files_origin }}/helm/v3.18.4/helm-linux-{{ image_arch }}.tar.gz"
    checksum: "{{ helm_checksums[image_arch] }}"
  pause:
    enabled: true
    container: true
    repo: "{{ test_registry }}/library/pause"
    tag: "3.10"
  coredns:
    enabled: true
    container: true
    repo: "{{ test_registry }}/coredns/coredns"
    tag: "v1.12.1"
  calico_node:
    enabled: "{{ kube_network_plugin == 'calico' }}"
    container: true
    repo: "{{ test_registry }}/calico/node"
    tag: "v3.30.3"
  cilium:
    enabled: "{{ kube_network_plugin == 'cilium' }}"
    container: true
    repo: "{{ test_registry }}/cilium/cilium"
    tag: "v1.18.1"
  metrics_server:
    enabled: "{{ metrics_server_enabled }}"
    container: true
    repo: "{{ test_registry }}/metrics-server/metrics-server"
    tag: "v0.8.0"
`;
  const role = path.join(dir, 'roles', 'kubespray_defaults', 'defaults', 'main');
  fs.mkdirSync(role, { recursive: true });
  fs.writeFileSync(path.join(role, 'main.yml'), yaml);
  fs.mkdirSync(path.join(dir, 'roles', 'kubespray_defaults', 'vars', 'main'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'roles', 'kubespray_defaults', 'vars', 'main', 'main.yml'), '---\n{}\n');
  fs.writeFileSync(
    path.join(dir, 'galaxy.yml'),
    'namespace: kubernetes_sigs\nname: kubespray\nversion: 2.31.0\n',
  );
}

export const TEST_IMAGES = {
  'library/pause:3.10': { platforms: ['linux/amd64', 'linux/arm64'], layerSize: 256 * 1024 },
  'coredns/coredns:v1.12.1': { platforms: ['linux/amd64', 'linux/arm64'], layerSize: 512 * 1024 },
  'calico/node:v3.30.3': { platforms: ['linux/amd64', 'linux/arm64'], layers: 2, layerSize: 1 << 20 },
  'cilium/cilium:v1.18.1': { platforms: ['linux/amd64', 'linux/arm64'], layerSize: 512 * 1024 },
  // What cilium's chart names the operator (<repository>-generic), carried beside the chart.
  'cilium/operator-generic:v1.18.1': { platforms: ['linux/amd64', 'linux/arm64'], layerSize: 128 * 1024 },
};

/** A folder standing in for a USB stick (no drive here is ever reported as removable). */
export function fakeUsb(mountPoint: string, label = 'FERRY-USB', fsType = 'exfat'): Drive {
  fs.mkdirSync(mountPoint, { recursive: true });
  const st = fs.statfsSync(mountPoint);
  return {
    id: `/dev/sdz1@${mountPoint}`,
    device: '/dev/sdz1',
    label,
    mountPoint,
    size: st.blocks * st.bsize,
    free: st.bavail * st.bsize,
    fsType,
    removable: true,
    system: false,
  };
}
