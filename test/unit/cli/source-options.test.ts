import { describe, expect, it } from 'vitest';
import { fetch } from '../../../src-main/cli/commands/fetch.js';
import { plan } from '../../../src-main/cli/commands/plan.js';
import type { CommandContext } from '../../../src-main/cli/command.js';
import { clusterOptions, sourceOptions, sourceSettings } from '../../../src-main/cli/source-options.js';

describe('the cluster and source options plan and fetch share', () => {
  it('are one definition: every option of the group is in both commands, alike', () => {
    const group = { ...clusterOptions(), ...sourceOptions() };
    expect(Object.keys(group)).toEqual(
      expect.arrayContaining(['kubespray', 'profile', 'inventory', 'set', 'kube-version', 'arch']),
    );
    expect(Object.keys(group)).toEqual(
      expect.arrayContaining(['mirror', 'registry-mirror', 'insecure-registry', 'proxy']),
    );
    for (const [name, spec] of Object.entries(group)) {
      expect(plan.options?.[name], `plan --${name}`).toEqual(spec);
      expect(fetch.options?.[name], `fetch --${name}`).toEqual(spec);
    }
  });

  it('flags win over the profile; a bad proxy or mirror is a usage error in either command', () => {
    const ctx = (values: CommandContext['values']) => ({ values }) as CommandContext;
    const profile = {
      proxy: { http: 'http://profile:3128', noProxy: ['10.0.0.0/8'] },
      mirrors: { 'https://github.com/': 'http://mirror.local/gh/' },
      registryMirrors: {},
    } as never;
    const s = sourceSettings(
      ctx({
        proxy: 'http://flag:3128',
        mirror: ['https://dl.k8s.io/=http://mirror.local/k8s/'],
        'registry-mirror': ['quay.io=http://reg.local'],
        'insecure-registry': ['reg.local'],
      }),
      profile,
    );
    expect(s.proxy).toEqual({ http: 'http://flag:3128', https: 'http://flag:3128', noProxy: '10.0.0.0/8' });
    expect(s.mirrors).toEqual({
      'https://github.com/': 'http://mirror.local/gh/',
      'https://dl.k8s.io/': 'http://mirror.local/k8s/',
    });
    expect(s.registryMirrors).toEqual({ 'quay.io': 'http://reg.local' });
    expect(s.insecureRegistries).toEqual(['reg.local']);
    expect(() => sourceSettings(ctx({ proxy: 'not a url' }), undefined)).toThrow(/--proxy/);
    expect(() => sourceSettings(ctx({ mirror: ['nonsense'] }), undefined)).toThrow(/--mirror/);
  });
});
