import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  computePlan,
  loadKubespray,
  planFromRequest,
  readInventory,
  type KubesprayData,
} from '../../../src-main/core/plan/catalog/index.js';
import { profileFromYaml } from '../../../src-main/core/plan/profile/index.js';
import { kubesprayDataDir } from '../../helpers/tools.js';

/**
 * Inventory variables are read the way Ansible's host_group_vars plugin reads them, and the
 * precedence is Ansible's: role defaults < inventory group_vars (all < k8s_cluster) < role vars <
 * extra vars (profile vars < --set < --kube-version).
 */

let tmp: string;
let data: KubesprayData;
const dir31 = path.join(kubesprayDataDir, 'v2.31.0');

function write(rel: string, text: string): void {
  const p = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-inv-'));
  data = await loadKubespray({ dir: dir31 });
  write('inv/inventory.ini', '[all]\n');
  write('inv/group_vars/all/all.yml', 'kube_network_plugin: flannel\nhelm_enabled: true\n');
  write('inv/group_vars/all/zz-late.yml', 'kube_network_plugin: cilium\n');
  write('inv/group_vars/all/.hidden.yml', 'kube_network_plugin: broken\n');
  write('inv/group_vars/all/backup.yml~', 'kube_network_plugin: broken\n');
  write('inv/group_vars/all/notes.txt', 'not: vars\n');
  write('inv/group_vars/all.yml', 'helm_enabled: false\n'); // ignored: the all/ folder exists
  write(
    'inv/group_vars/k8s_cluster/k8s-cluster.yml',
    'container_manager: crio\n# role vars win over the inventory:\nkube_proxy_deployed: false\n',
  );
  write('inv/group_vars/etcd.yml', 'etcd_deployment_type: docker\n'); // not every node: not read
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('inventory folder', () => {
  it('reads group_vars/all then k8s_cluster, sorted, skipping hidden, backup and foreign files', async () => {
    const inv = await readInventory(path.join(tmp, 'inv'));
    expect(inv.files.map((f) => path.relative(path.join(tmp, 'inv'), f))).toEqual([
      'group_vars/all/all.yml',
      'group_vars/all/zz-late.yml',
      'group_vars/k8s_cluster/k8s-cluster.yml',
    ]);
    expect(inv.vars.get('kube_network_plugin')).toBe('cilium');
    expect(inv.vars.get('helm_enabled')).toBe(true);
    expect(inv.vars.get('container_manager')).toBe('crio');
  });

  it('drives the plan, but cannot override role vars (Ansible precedence)', async () => {
    const inv = await readInventory(path.join(tmp, 'inv', 'inventory.ini'));
    const plan = computePlan(data, { arches: ['amd64'], inventoryVars: inv.vars });
    const keys = new Set([...plan.files, ...plan.images].map((x) => x.key));
    for (const k of ['cilium', 'cilium_operator', 'ciliumcli', 'crio', 'skopeo', 'helm'])
      expect(keys).toContain(k);
    for (const k of ['calico_node', 'containerd', 'runc', 'nerdctl']) expect(keys).not.toContain(k);
    // kube_proxy_deployed is a role var in v2.31: the inventory's false does not remove kube-proxy …
    expect(keys).toContain('kubeadm_kube-proxy');
    // … but as an extra var (--set / profile) it wins, as `ansible-playbook -e` would.
    const withSet = computePlan(data, {
      arches: ['amd64'],
      inventoryVars: inv.vars,
      vars: { kube_proxy_deployed: false },
    });
    expect(withSet.images.map((i) => i.key)).not.toContain('kubeadm_kube-proxy');
  });

  it('fails clearly on a folder without group_vars', async () => {
    await expect(readInventory(tmp)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('precedence of flags, profile and inventory', () => {
  it('--kube-version > --set > profile kubeVersion > profile vars > inventory', async () => {
    write(
      'p/ferry.yaml',
      `kubespray: {dir: ${JSON.stringify(dir31)}}\ninventory: ../inv\narch: [arm64]\nkubeVersion: '1.34.2'\nvars:\n  kube_network_plugin: flannel\n  kube_version: 1.33.1\n`,
    );
    const profile = profileFromYaml(
      fs.readFileSync(path.join(tmp, 'p/ferry.yaml'), 'utf8'),
      path.join(tmp, 'p/ferry.yaml'),
    );
    const base = await planFromRequest({ profile });
    expect(base.plan.kubeVersion).toBe('1.34.2');
    expect(base.plan.arches).toEqual(['arm64']);
    expect(base.plan.images.map((i) => i.key)).toContain('flannel'); // profile vars beat the inventory's cilium
    expect(base.plan.files.map((f) => f.key)).toContain('crio'); // inventory still applies where the profile is silent

    const set = await planFromRequest({
      profile,
      sets: ['kube_version=1.33.1', 'kube_network_plugin=calico'],
    });
    expect(set.plan.kubeVersion).toBe('1.33.1');
    expect(set.plan.images.map((i) => i.key)).toContain('calico_node');

    const kv = await planFromRequest({
      profile,
      sets: ['kube_version=1.33.1'],
      kubeVersion: '1.35.4',
      arches: ['amd64'],
    });
    expect(kv.plan.kubeVersion).toBe('1.35.4');
    expect(kv.plan.arches).toEqual(['amd64']);
  });

  it('spells the Kubernetes version the way the tag expects (v-prefix before v2.28)', async () => {
    const plan = (
      await planFromRequest({ kubespray: path.join(kubesprayDataDir, 'v2.26.1'), kubeVersion: '1.29.10' })
    ).plan;
    expect(plan.files.find((f) => f.key === 'kubelet')?.url).toBe(
      'https://dl.k8s.io/release/v1.29.10/bin/linux/amd64/kubelet',
    );
  });

  it('rejects a Kubernetes version the tag has no checksums for, listing the ones it has', async () => {
    await expect(planFromRequest({ kubespray: dir31, kubeVersion: '1.20.0' })).rejects.toThrow(
      /does not support Kubernetes 1\.20\.0 on amd64/,
    );
  });
});
