import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testBackend } from '../../helpers/ipc-backend.js';
import { kubesprayDataDir, lacksCondition } from '../../helpers/tools.js';

type T = ReturnType<typeof testBackend>;
let t: T | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

const TAG = 'v2.31.0';

/** A backend whose Kubespray release is already cached (a tarball of the shared data), and an inventory. */
async function withInventory(groupVars: string) {
  t = testBackend();
  const cache = path.join(t.env.FERRY_DATA_DIR!, 'cache', 'kubespray');
  fs.mkdirSync(cache, { recursive: true });
  const tar = spawnSync('tar', [
    '-czf',
    path.join(cache, `kubespray-${TAG}.tar.gz`),
    '-C',
    kubesprayDataDir,
    TAG,
  ]);
  expect(tar.status).toBe(0);
  const inv = path.join(t.tmp, 'inventory');
  fs.mkdirSync(path.join(inv, 'group_vars', 'all'), { recursive: true });
  fs.writeFileSync(path.join(inv, 'group_vars', 'all', 'all.yml'), groupVars);
  t.answers.folders.push(inv);
  const { token } = await t.ok('dialog.pickFolder', { purpose: 'inventory' });
  return {
    kubespray: { source: 'inventory', token, version: TAG },
    arches: ['amd64'],
    runtime: 'containerd',
    network: 'calico',
    addons: [],
    extraImages: [],
    extraFiles: [],
  };
}

describe.skipIf(
  lacksCondition(!fs.existsSync(kubesprayDataDir), `the shared Kubespray data at ${kubesprayDataDir}`),
)("the app's plan checks the inventory's variables like the CLI", () => {
  it('a misspelt inventory variable is a warning in the plan result, with the nearest name', async () => {
    const choices = await withInventory('ansible_user: ubuntu\nip: 10.0.0.5\nkube_proxy_mod: iptables\n');
    const plan = await t!.ok('plan.compute', choices);
    expect(plan.kubesprayVersion).toBe(TAG);
    expect(plan.warnings).toEqual([
      `'kube_proxy_mod' (the inventory) is not a variable Kubespray ${TAG} defines; did you mean 'kube_proxy_mode'?`,
    ]);
  });

  it("a value Kubespray's preflight refuses fails plan.compute and fetch.start with INVALID_CHOICE", async () => {
    const choices = await withInventory('kube_proxy_mode: ipvss\n');
    const r = await t!.call('plan.compute', choices);
    expect(r).toMatchObject({
      ok: false,
      error: {
        code: 'INVALID_CHOICE',
        details: { variable: 'kube_proxy_mode', value: 'ipvss', nearest: 'ipvs' },
      },
    });
    if (r.ok) throw new Error('unreachable');
    expect(r.error.message).toContain("kube_proxy_mode: 'ipvss' (the inventory)");
    expect(r.error.details!.allowed).toEqual(['iptables', 'ipvs', 'nftables']);
    expect(await t!.call('fetch.start', { choices })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_CHOICE' },
    });
    // Nothing started downloading.
    expect((await t!.ok('jobs.list')).filter((j: { kind: string }) => j.kind === 'fetch')).toEqual([]);
  });
});
