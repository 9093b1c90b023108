import { describe, expect, it } from 'vitest';
import { generateVars } from '../../../src-main/core/serve/vars/generate.js';
import { containerdHostsFiles, renderHostsToml } from '../../../src-main/core/serve/vars/hosts-toml.js';

const base = {
  kubesprayVersion: 'v2.31.0',
  defaults: new Map<string, unknown>([['kube_image_repo', 'registry.k8s.io']]),
  filesUrl: 'http://10.0.0.5:8080',
  registry: '10.0.0.5:5000',
  upstreams: ['quay.io'],
  madeBy: 'test',
};
const CA = '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n';

describe('containerd hosts.toml from the generated variables', () => {
  it('plain HTTP, Kubespray naming: one certs.d entry for registry_addr with an http:// host', () => {
    const g = generateVars({ ...base, registryTls: false, style: 'kubespray' });
    expect(containerdHostsFiles(g.variables, 'v2.31.0')).toEqual([
      {
        path: '10.0.0.5:5000/hosts.toml',
        text:
          'server = "https://10.0.0.5:5000"\n' +
          '[host."http://10.0.0.5:5000"]\n' +
          '  capabilities = ["pull","resolve"]\n' +
          '  skip_verify = false\n' +
          '  override_path = false\n',
      },
    ]);
  });

  it("TLS with Ferry's CA: ca is rendered from v2.28 on, dropped by v2.26/v2.27's template", () => {
    const g = generateVars({
      ...base,
      registryTls: true,
      style: 'kubespray',
      caPem: CA,
      caPathOnNode: '/etc/ferry-ca.crt',
    });
    for (const tag of ['v2.28.1', 'v2.29.1', 'v2.30.0', 'v2.31.0'])
      expect(containerdHostsFiles(g.variables, tag)[0].text).toContain(
        '[host."https://10.0.0.5:5000"]\n  capabilities = ["pull","resolve"]\n  skip_verify = false\n  override_path = false\n  ca = ["/etc/ferry-ca.crt"]\n',
      );
    for (const tag of ['v2.26.1', 'v2.27.1'])
      expect(containerdHostsFiles(g.variables, tag)[0].text).not.toContain('ca =');
  });

  it("TLS with the user's own publicly trusted certificate: https host, no ca, verified", () => {
    const g = generateVars({ ...base, registry: 'reg.example.com', registryTls: true, style: 'kubespray' });
    const [f] = containerdHostsFiles(g.variables, 'v2.31.0');
    expect(f.path).toBe('reg.example.com/hosts.toml');
    expect(f.text).toContain('[host."https://reg.example.com"]');
    expect(f.text).toContain('skip_verify = false');
    expect(f.text).not.toContain('ca =');
  });

  it('--skip-verify: skip_verify true and no ca', () => {
    const g = generateVars({
      ...base,
      registryTls: true,
      style: 'kubespray',
      skipVerify: true,
      caPathOnNode: '/x',
    });
    const [f] = containerdHostsFiles(g.variables, 'v2.31.0');
    expect(f.text).toContain('skip_verify = true');
    expect(f.text).not.toContain('ca =');
  });

  it('mirror naming: one file per upstream registry, each sent to Ferry', () => {
    const g = generateVars({ ...base, registryTls: false, style: 'mirror' });
    const files = containerdHostsFiles(g.variables, 'v2.31.0');
    expect(files.map((f) => f.path)).toContain('quay.io/hosts.toml');
    expect(files.find((f) => f.path === 'quay.io/hosts.toml')?.text).toMatch(
      /^server = "https:\/\/quay\.io"\n\[host\."http:\/\/10\.0\.0\.5:5000"\]/,
    );
  });

  it('refuses a prefix that would escape certs.d', () => {
    expect(() =>
      containerdHostsFiles({ containerd_registries_mirrors: [{ prefix: '../etc', mirrors: [] }] }, 'v2.31.0'),
    ).toThrow(/not a registry host/);
    expect(() =>
      containerdHostsFiles({ containerd_registries_mirrors: [{ prefix: '..', mirrors: [] }] }, 'v2.31.0'),
    ).toThrow(/not a registry host/);
    expect(renderHostsToml({ prefix: 'a.io', server: 'https://b.io', mirrors: [] }, 'v2.31.0')).toBe(
      'server = "https://b.io"\n',
    );
  });
});

describe('the vars check sees what containerd on a node does', () => {
  it('flags a registry with no http:// hosts.toml entry, passes the generated variables', async () => {
    const { containerdProblems } = await import('../../../src-main/core/serve/vars/index.js');
    const g = generateVars({ ...base, registryTls: false, style: 'kubespray' });
    expect(containerdProblems(g.variables, 'v2.31.0', '10.0.0.5:5000', ['10.0.0.5:5000'])).toEqual([]);
    const { containerd_registries_mirrors: _, ...without } = g.variables;
    expect(containerdProblems(without, 'v2.31.0', '10.0.0.5:5000', ['10.0.0.5:5000'])).toEqual([
      {
        kind: 'containerd',
        key: '10.0.0.5:5000',
        target: 'certs.d/10.0.0.5:5000/hosts.toml',
        problem: 'containerd-https',
      },
    ]);
  });
});
