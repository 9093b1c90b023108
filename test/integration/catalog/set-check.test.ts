import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/main.js';
import { parsePreflight } from '../../../src-main/core/plan/catalog/check.js';
import { kubesprayDataDir, lacksCondition, repoRoot } from '../../helpers/tools.js';

/**
 * `--set`, profile and inventory variables checked against the real Kubespray data of several
 * tags, through the CLI: the main cases as a user runs it (a real process, its exit code, stdout
 * and stderr), the rest through runCli in this process (the same code, without a start-up each).
 */
function ferryProcess(args: string[]) {
  const r = spawnSync(
    process.execPath,
    [path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), 'src-main/cli/main.ts', ...args],
    {
      cwd: repoRoot,
      env: { ...process.env, FERRY_DATA_DIR: tmp, FERRY_CONFIG_DIR: tmp },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function ferry(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const env = { FERRY_DATA_DIR: tmp, FERRY_CONFIG_DIR: tmp };
  const code = await runCli(args, { stdout, stderr, env, signal: new AbortController().signal });
  return { code, out, err };
}

/** The allowed values as the tag's own preflight file says (a copy in the fixtures), not Ferry's table. */
function allowedFromKubespray(tag: string, variable: string): string[] {
  const base = path.join(repoRoot, 'test/fixtures/catalog/preflight', tag);
  const rel = fs.existsSync(path.join(base, 'roles/validate_inventory'))
    ? 'roles/validate_inventory/tasks/main.yml'
    : 'roles/kubernetes/preinstall/tasks/0040-verify-settings.yml';
  const rule = parsePreflight(rel, fs.readFileSync(path.join(base, rel), 'utf8')).find(
    (r) => r.variable === variable,
  );
  if (!rule) throw new Error(`${tag} asserts nothing about ${variable}`);
  return rule.allowed;
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'set-check-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const TAGS = ['v2.26.1', 'v2.31.0'];

describe.skipIf(
  lacksCondition(!fs.existsSync(kubesprayDataDir), `the shared Kubespray data at ${kubesprayDataDir}`),
)('variables checked against the real Kubespray data', () => {
  describe.each(TAGS)('%s', (tag) => {
    const ks = path.join(kubesprayDataDir, tag);

    it('a misspelt network plugin exits 2 with INVALID_CHOICE, the allowed values and the nearest one', () => {
      const r = ferryProcess(['plan', '--kubespray', ks, '--set', 'kube_network_plugin=cillium', '--json']);
      expect(r.code).toBe(2);
      const { error } = JSON.parse(r.out);
      expect(error.code).toBe('INVALID_CHOICE');
      expect(error.details).toMatchObject({
        variable: 'kube_network_plugin',
        value: 'cillium',
        nearest: 'cilium',
      });
      expect(error.details.allowed).toEqual(allowedFromKubespray(tag, 'kube_network_plugin'));

      const t = ferryProcess(['plan', '--kubespray', ks, '--set', 'kube_network_plugin=cillium']);
      expect(t.code).toBe(2);
      expect(t.out).toBe('');
      expect(t.err).toContain(
        `kube_network_plugin: 'cillium' (--set) is not a value Kubespray ${tag} accepts`,
      );
      expect(t.err).toContain(`allowed: ${allowedFromKubespray(tag, 'kube_network_plugin').join(', ')}`);
      expect(t.err).toContain("Did you mean 'cilium'?");
    });

    it('a misspelt container manager is refused the same way', async () => {
      const r = await ferry(['plan', '--kubespray', ks, '--set', 'container_manager=contianerd', '--json']);
      expect(r.code).toBe(2);
      const { error } = JSON.parse(r.out);
      expect(error).toMatchObject({ code: 'INVALID_CHOICE', details: { nearest: 'containerd' } });
      expect(error.details.allowed).toEqual(allowedFromKubespray(tag, 'container_manager'));
    });

    it('a misspelt variable name is a warning with the nearest name: exit 0, stderr in text, warnings in --json', () => {
      const t = ferryProcess(['plan', '--kubespray', ks, '--set', 'kube_netwrok_plugin=cilium']);
      expect(t.code).toBe(0);
      expect(t.err).toBe(
        `warning: 'kube_netwrok_plugin' (--set) is not a variable Kubespray ${tag} defines; did you mean 'kube_network_plugin'?\n`,
      );
      expect(t.out).toContain(`Kubespray ${tag}`);

      const j = ferryProcess(['plan', '--kubespray', ks, '--set', 'kube_netwrok_plugin=cilium', '--json']);
      expect(j.code).toBe(0);
      expect(j.err).toBe('');
      const plan = JSON.parse(j.out);
      expect(plan.warnings).toEqual([
        expect.objectContaining({
          code: 'UNKNOWN_VARIABLE',
          variable: 'kube_netwrok_plugin',
          source: '--set',
          nearest: 'kube_network_plugin',
        }),
      ]);
      // The typo had no effect: the plan is the default (calico) one.
      expect(plan.images.some((i: { key: string }) => i.key.startsWith('calico'))).toBe(true);
      expect(plan.images.some((i: { key: string }) => i.key.startsWith('cilium'))).toBe(false);
    });
  });

  it("kube_proxy_mode=nftables: refused by v2.26.1's preflight, accepted by v2.31.0's", async () => {
    expect(allowedFromKubespray('v2.26.1', 'kube_proxy_mode')).not.toContain('nftables');
    const old = await ferry([
      'plan',
      '--kubespray',
      path.join(kubesprayDataDir, 'v2.26.1'),
      '--set',
      'kube_proxy_mode=nftables',
      '--json',
    ]);
    expect(old.code).toBe(2);
    expect(JSON.parse(old.out).error).toMatchObject({
      code: 'INVALID_CHOICE',
      details: { allowed: allowedFromKubespray('v2.26.1', 'kube_proxy_mode') },
    });
    const now = await ferry([
      'plan',
      '--kubespray',
      path.join(kubesprayDataDir, 'v2.31.0'),
      '--set',
      'kube_proxy_mode=nftables',
      '--json',
    ]);
    expect(now.code).toBe(0);
    expect(JSON.parse(now.out).warnings).toEqual([]);
  });

  it('profile vars and inventory variables are checked too, naming where they came from', async () => {
    const ks = path.join(kubesprayDataDir, 'v2.31.0');
    const inv = path.join(tmp, 'inventory');
    fs.mkdirSync(path.join(inv, 'group_vars', 'all'), { recursive: true });
    fs.mkdirSync(path.join(inv, 'group_vars', 'k8s_cluster'), { recursive: true });
    // Host and Ansible variables are legitimately unknown to Kubespray's defaults; docker_cli_version
    // is defined by the container-engine/docker role, not kubespray_defaults.
    fs.writeFileSync(
      path.join(inv, 'group_vars', 'all', 'all.yml'),
      'ansible_user: ubuntu\naccess_ip: 10.0.0.5\ndocker_cli_version: "28.0"\nhelm_enabeld: true\n',
    );
    fs.writeFileSync(
      path.join(inv, 'group_vars', 'k8s_cluster', 'k8s-cluster.yml'),
      'kube_proxy_mode: iptables\n',
    );
    const profile = path.join(tmp, 'ferry.yaml');
    fs.writeFileSync(profile, `kubespray: v2.31.0\nvars:\n  metrics_server_enabeld: true\n`);
    const r = await ferry(['plan', '--kubespray', ks, '--profile', profile, '--inventory', inv, '--json']);
    expect(r.code, r.err).toBe(0);
    const warnings = JSON.parse(r.out).warnings;
    expect(
      warnings.map((w: { variable: string; nearest?: string; source: string }) => [
        w.variable,
        w.nearest,
        w.source,
      ]),
    ).toEqual([
      ['helm_enabeld', 'helm_enabled', `the inventory ${inv}`],
      ['metrics_server_enabeld', 'metrics_server_enabled', 'the profile'],
    ]);

    fs.writeFileSync(
      path.join(inv, 'group_vars', 'k8s_cluster', 'k8s-cluster.yml'),
      'kube_proxy_mode: ipvss\n',
    );
    const bad = await ferry(['plan', '--kubespray', ks, '--inventory', inv]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain(`kube_proxy_mode: 'ipvss' (the inventory ${inv}) is not a value`);
    expect(bad.err).toContain("Did you mean 'ipvs'?");
    // --set wins over the inventory, so the value Kubespray would see is fine.
    expect(
      (await ferry(['plan', '--kubespray', ks, '--inventory', inv, '--set', 'kube_proxy_mode=ipvs'])).code,
    ).toBe(0);
  });

  it("reads the allowed values from the source's own preflight file when it has one (folder and tarball)", async () => {
    // The shared data lacks Kubespray's task files; a copy of the tag with the real file added,
    // narrowed so the result can only come from the file, not from Ferry's fallback table.
    for (const tag of TAGS) {
      const src = path.join(tmp, `ks-${tag}`);
      fs.cpSync(path.join(kubesprayDataDir, tag), src, { recursive: true });
      const fixtures = path.join(repoRoot, 'test/fixtures/catalog/preflight', tag);
      fs.cpSync(fixtures, src, { recursive: true });
      const rel =
        tag === 'v2.26.1'
          ? 'roles/kubernetes/preinstall/tasks/0040-verify-settings.yml'
          : 'roles/validate_inventory/tasks/main.yml';
      const file = path.join(src, rel);
      const text = fs.readFileSync(file, 'utf8');
      expect(text).toContain("'flannel', ");
      fs.writeFileSync(file, text.replace("'flannel', ", ''));
      const tarball = path.join(tmp, `kubespray-${tag.slice(1)}.tar.gz`);
      const tar = spawnSync('tar', ['-czf', tarball, '-C', tmp, `ks-${tag}`]);
      expect(tar.status).toBe(0);
      for (const source of [src, tarball]) {
        const r = await ferry([
          'plan',
          '--kubespray',
          source,
          '--set',
          'kube_network_plugin=flannel',
          '--json',
        ]);
        expect(r.code, `${tag} ${source}`).toBe(2);
        const { error } = JSON.parse(r.out);
        expect(error.details).toMatchObject({ file: rel, fallback: false });
        expect(error.details.allowed).not.toContain('flannel');
        expect(error.details.allowed).toContain('cilium');
      }
    }
  });

  it('ferry fetch refuses the same value before downloading anything', async () => {
    const out = path.join(tmp, 'bundle');
    const r = await ferry([
      'fetch',
      '--kubespray',
      path.join(kubesprayDataDir, 'v2.31.0'),
      '--set',
      'kube_network_plugin=cillium',
      '--out',
      out,
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("Did you mean 'cilium'?");
    expect(fs.existsSync(path.join(out, 'manifest.json'))).toBe(false);
  });
});
