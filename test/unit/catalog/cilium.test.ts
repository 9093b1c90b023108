import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ciliumChart,
  ciliumInstallMode,
  computePlan,
  loadKubespray,
} from '../../../src-main/core/plan/catalog/index.js';
import { kubesprayDataDir } from '../../helpers/tools.js';

const load = (tag: string) => loadKubespray({ dir: path.join(kubesprayDataDir, tag) });

describe("cilium's Helm chart in the plan", () => {
  it('knows how each supported tag installs cilium (checked against roles/network_plugin/cilium)', () => {
    // v2.26/v2.27 apply manifests; v2.28 runs `cilium install` with no way to pass --repository;
    // v2.29+ run `cilium install … {{ cilium_install_extra_flags }}`.
    expect(ciliumInstallMode('v2.26.1')).toBe('manifests');
    expect(ciliumInstallMode('v2.27.1')).toBe('manifests');
    expect(ciliumInstallMode('v2.28.1')).toBe('cli-without-repository');
    expect(ciliumInstallMode('v2.29.0')).toBe('chart');
    expect(ciliumInstallMode('v2.31.0')).toBe('chart');
    expect(ciliumInstallMode('v3.0.0')).toBe('chart');
    expect(ciliumInstallMode('master')).toBe('unknown');
  });

  it('names the chart and index under files/helm.cilium.io/, and refuses a version that is no chart version', () => {
    expect(ciliumChart('v1.19.3')).toEqual({
      key: 'cilium_chart',
      name: 'cilium',
      version: '1.19.3',
      repo: 'https://helm.cilium.io/',
      url: 'https://helm.cilium.io/cilium-1.19.3.tgz',
      path: 'files/helm.cilium.io/cilium-1.19.3.tgz',
      indexUrl: 'https://helm.cilium.io/index.yaml',
      indexPath: 'files/helm.cilium.io/index.yaml',
    });
    expect(() => ciliumChart('1.19.3/../../x')).toThrow(/not a chart version/);
    expect(() => ciliumChart('latest')).toThrow(/not a chart version/);
  });

  it.each([
    ['v2.29.1', '1.18.4'],
    ['v2.30.0', '1.18.6'],
    ['v2.31.0', '1.19.3'],
  ])(
    '%s with kube_network_plugin cilium carries cilium %s and the operator image the chart pulls',
    async (tag, v) => {
      const data = await load(tag);
      const plan = computePlan(data, { arches: ['amd64', 'arm64'], vars: { kube_network_plugin: 'cilium' } });
      expect(plan.charts).toEqual([ciliumChart(v)]);
      expect(plan.warnings).toBeUndefined();
      const generic = plan.images.find((i) => i.key === 'cilium_operator_generic');
      expect(generic).toMatchObject({
        ref: `quay.io/cilium/operator-generic:v${v}`,
        enabled: true,
        platforms: ['linux/amd64', 'linux/arm64'],
      });
    },
  );

  it('follows cilium_version and the operator repository the user sets', async () => {
    const data = await load('v2.31.0');
    const plan = computePlan(data, {
      arches: ['amd64'],
      vars: {
        kube_network_plugin: 'cilium',
        cilium_version: '1.18.2',
        cilium_operator_image_repo: 'r.example/cilium/operator',
      },
    });
    expect(plan.charts?.map((c) => c.url)).toEqual(['https://helm.cilium.io/cilium-1.18.2.tgz']);
    expect(plan.images.find((i) => i.key === 'cilium_operator_generic')?.ref).toBe(
      'r.example/cilium/operator-generic:v1.18.2',
    );
  });

  it('carries it for cilium_deploy_additionally too, since the network_plugin role then runs cilium', async () => {
    const data = await load('v2.31.0');
    const plan = computePlan(data, { arches: ['amd64'], vars: { cilium_deploy_additionally: true } });
    expect(plan.charts?.map((c) => c.name)).toEqual(['cilium']);
  });

  it('carries nothing for other network plugins or for tags that apply manifests', async () => {
    const calico = computePlan(await load('v2.31.0'), { arches: ['amd64'] });
    expect(calico.charts).toBeUndefined();
    expect(calico.images.some((i) => i.key === 'cilium_operator_generic')).toBe(false);
    for (const tag of ['v2.26.1', 'v2.27.1']) {
      const p = computePlan(await load(tag), { arches: ['amd64'], vars: { kube_network_plugin: 'cilium' } });
      expect(p.charts).toBeUndefined();
      expect(p.warnings).toBeUndefined();
      expect(p.images.some((i) => i.key === 'cilium_operator_generic')).toBe(false);
    }
  });

  it('warns on v2.28, whose cilium install cannot be pointed at files_repo', async () => {
    const p = computePlan(await load('v2.28.1'), {
      arches: ['amd64'],
      vars: { kube_network_plugin: 'cilium' },
    });
    expect(p.charts).toBeUndefined();
    expect(p.warnings).toEqual([expect.stringMatching(/cilium_install_extra_flags.*v2\.29\.0 or later/)]);
  });
});
