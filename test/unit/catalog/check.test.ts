import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import {
  CHOICE_VARIABLES,
  checkChoices,
  choiceRules,
  editDistance,
  fallbackChoiceRules,
  nearestName,
  parsePreflight,
  unknownVariableWarnings,
} from '../../../src-main/core/plan/catalog/check.js';
import { PyDict } from '../../../src-main/core/plan/catalog/jinja/values.js';
import type { KubesprayData } from '../../../src-main/core/plan/catalog/source.js';
import { repoRoot } from '../../helpers/tools.js';

const FIXTURES = path.join(repoRoot, 'test/fixtures/catalog/preflight');
const TAGS = ['v2.26.1', 'v2.27.1', 'v2.28.1', 'v2.29.1', 'v2.30.0', 'v2.31.0'];

function preflightOf(tag: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(FIXTURES, tag, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else out.push({ path: r, text: fs.readFileSync(path.join(FIXTURES, tag, r), 'utf8') });
    }
  };
  walk('');
  return out;
}

function data(over: Partial<KubesprayData> = {}): KubesprayData {
  return {
    tag: 'v2.31.0',
    role: 'kubespray_defaults',
    defaults: PyDict.from([
      ['kube_network_plugin', 'calico'],
      ['container_manager', 'containerd'],
      ['kube_proxy_mode', 'ipvs'],
      ['ignore_assert_errors', false],
      ['kube_network_plugin_multus', false],
      ['downloads', new PyDict()],
    ]),
    vars: new PyDict(),
    files: [],
    source: { kind: 'dir', path: '/nowhere' },
    ...over,
  };
}

function refusal(fn: () => void): FerryError {
  try {
    fn();
  } catch (err) {
    return err as FerryError;
  }
  throw new Error('expected a refusal');
}

describe('nearest name', () => {
  it('counts insertions, deletions, substitutions and adjacent swaps as one edit each', () => {
    expect(editDistance('cillium', 'cilium')).toBe(1);
    expect(editDistance('cilum', 'cilium')).toBe(1);
    expect(editDistance('calicp', 'calico')).toBe(1);
    expect(editDistance('contianerd', 'containerd')).toBe(1);
    expect(editDistance('Calico', 'calico')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('flannel', 'macvlan')).toBeGreaterThan(3);
  });

  it('suggests only a close candidate, the closest one', () => {
    const plugins = ['calico', 'flannel', 'cilium', 'cni', 'kube-ovn', 'kube-router', 'custom_cni'];
    expect(nearestName('cillium', plugins)).toBe('cilium');
    expect(nearestName('kube-routr', plugins)).toBe('kube-router');
    expect(nearestName('kube_ovn', plugins)).toBe('kube-ovn');
    expect(nearestName('weave', plugins)).toBeUndefined();
    // Too short to guess: 'cn' is one edit from 'cni' but could be anything.
    expect(nearestName('cn', plugins)).toBeUndefined();
    expect(nearestName('kube_netwrok_plugin', ['kube_network_plugin', 'kube_network_node_prefix'])).toBe(
      'kube_network_plugin',
    );
    expect(nearestName('totally_unrelated', ['kube_network_plugin'])).toBeUndefined();
    // Three edits in eleven characters is another word, not a typo.
    expect(nearestName('ntp_servers', ['dns_servers'])).toBeUndefined();
  });
});

describe('Kubespray preflight rules', () => {
  it.each(TAGS)("%s: parsing the tag's own preflight file gives Ferry's fallback table", (tag) => {
    const parsed = preflightOf(tag).flatMap((f) => parsePreflight(f.path, f.text));
    const fallback = fallbackChoiceRules(tag);
    for (const v of CHOICE_VARIABLES) {
      const p = parsed.filter((r) => r.variable === v);
      expect(p, `${tag} ${v}`).toHaveLength(1);
      const f = fallback.find((r) => r.variable === v)!;
      expect({ allowed: p[0].allowed, ignorable: p[0].ignorable, file: p[0].file }).toEqual({
        allowed: f.allowed,
        ignorable: f.ignorable,
        file: f.file,
      });
    }
  });

  it('reads what the files say where they differ between tags', () => {
    const net = (tag: string) =>
      preflightOf(tag)
        .flatMap((f) => parsePreflight(f.path, f.text))
        .find((r) => r.variable === 'kube_network_plugin')!;
    expect(net('v2.26.1').allowed).not.toContain('none');
    expect(net('v2.27.1').allowed).toContain('none');
    expect(net('v2.28.1').allowed).toContain('weave');
    expect(net('v2.29.1').allowed).not.toContain('weave');
    expect(net('v2.26.1').ignorable).toBe(true);
    expect(net('v2.31.0').ignorable).toBe(false);
  });

  it('ignores conditional asserts and malformed files', () => {
    const text = [
      '- name: only on one OS',
      '  assert:',
      "    that: container_manager in ['containerd']",
      "  when: ansible_os_family == 'Flatcar'",
      '- name: the rule',
      '  assert:',
      '    that:',
      '      - container_manager in [\'docker\', "crio"]',
      "      - etcd_deployment_type in ['host', 'kubeadm'] or container_manager == 'docker'",
      '',
    ].join('\n');
    expect(parsePreflight('x.yml', text)).toEqual([
      {
        variable: 'container_manager',
        allowed: ['docker', 'crio'],
        ignorable: false,
        file: 'x.yml',
        fallback: false,
      },
    ]);
    expect(parsePreflight('bad.yml', 'a: [unclosed')).toEqual([]);
  });

  it("prefers the source's own file; falls back per variable; a tag it cannot place gets the union", () => {
    const own = [
      {
        path: 'roles/validate_inventory/tasks/main.yml',
        text: "- assert:\n    that: kube_proxy_mode in ['ipvs']\n",
      },
    ];
    const rules = choiceRules(data({ preflight: own }));
    expect(rules.find((r) => r.variable === 'kube_proxy_mode')).toMatchObject({
      allowed: ['ipvs'],
      fallback: false,
    });
    expect(rules.find((r) => r.variable === 'container_manager')).toMatchObject({ fallback: true });
    const unknown = fallbackChoiceRules('unknown').find((r) => r.variable === 'kube_network_plugin')!;
    expect(unknown.allowed).toEqual(expect.arrayContaining(['weave', 'none', 'cilium']));
  });
});

describe('checkChoices', () => {
  it('refuses a misspelt value with INVALID_CHOICE, the allowed values and the nearest one', () => {
    const err = refusal(() =>
      checkChoices(data(), { vars: PyDict.from([['kube_network_plugin', 'cillium']]) }, () => '--set'),
    );
    expect(err).toBeInstanceOf(FerryError);
    expect(err.code).toBe('INVALID_CHOICE');
    expect(err.message).toContain("kube_network_plugin: 'cillium' (--set)");
    expect(err.message).toContain("Did you mean 'cilium'?");
    expect(err.details).toMatchObject({
      variable: 'kube_network_plugin',
      value: 'cillium',
      nearest: 'cilium',
    });
    expect(err.details!.allowed).toEqual(fallbackChoiceRules('v2.31.0')[0].allowed);
  });

  it('accepts allowed values and leaves unset variables to the defaults', () => {
    expect(() =>
      checkChoices(data(), {
        vars: PyDict.from([
          ['kube_network_plugin', 'cilium'],
          ['kube_proxy_mode', 'nftables'],
        ]),
        inventoryVars: PyDict.from([['container_manager', 'crio']]),
      }),
    ).not.toThrow();
    // Defaults are never checked: a source whose default would fail is Kubespray's business.
    const odd = data();
    odd.defaults.set('container_manager', 'podman');
    expect(() => checkChoices(odd, {})).not.toThrow();
  });

  it('checks what a template evaluates to, and a non-string value', () => {
    const inv = PyDict.from([
      ['my_runtime', 'dockerd'],
      ['container_manager', '{{ my_runtime }}'],
    ]);
    expect(refusal(() => checkChoices(data(), { inventoryVars: inv })).details).toMatchObject({
      value: 'dockerd',
      nearest: 'docker',
    });
    expect(
      refusal(() => checkChoices(data(), { vars: PyDict.from([['kube_proxy_mode', ['ipvs']]]) })).code,
    ).toBe('INVALID_CHOICE');
  });

  it('v2.26 skips the network plugin assert under ignore_assert_errors, as Kubespray does; v2.31 does not', () => {
    const vars = PyDict.from([
      ['kube_network_plugin', 'my-own'],
      ['ignore_assert_errors', true],
    ]);
    expect(() => checkChoices(data({ tag: 'v2.26.1' }), { vars })).not.toThrow();
    expect(refusal(() => checkChoices(data({ tag: 'v2.31.0' }), { vars })).code).toBe('INVALID_CHOICE');
    // And only that one: container_manager is asserted unconditionally in v2.26 as well.
    vars.set('container_manager', 'podman');
    vars.set('kube_network_plugin', 'calico');
    expect(refusal(() => checkChoices(data({ tag: 'v2.26.1' }), { vars })).code).toBe('INVALID_CHOICE');
  });
});

describe('unknownVariableWarnings', () => {
  it('warns about names the tag defines nowhere, with the nearest role variable when close', () => {
    const w = unknownVariableWarnings(data({ otherNames: ['calico_ipip_mode'], wholeTree: true }), [
      { name: 'kube_netwrok_plugin', source: '--set' },
      { name: 'kube_network_plugin', source: '--set' },
      { name: 'calico_ipip_mode', source: 'the inventory' },
      { name: 'zzz_unrelated', source: 'the profile' },
      { name: 'zzz_unrelated', source: '--set' },
    ]);
    expect(w).toEqual([
      {
        code: 'UNKNOWN_VARIABLE',
        message:
          "'kube_netwrok_plugin' (--set) is not a variable Kubespray v2.31.0 defines; did you mean 'kube_network_plugin'?",
        variable: 'kube_netwrok_plugin',
        source: '--set',
        nearest: 'kube_network_plugin',
      },
      {
        code: 'UNKNOWN_VARIABLE',
        message:
          "'zzz_unrelated' (the profile) is not a variable Kubespray v2.31.0 defines; it may have no effect.",
        variable: 'zzz_unrelated',
        source: 'the profile',
      },
    ]);
  });

  it('from data holding only some roles, reports only names close to a known one (the likely typos)', () => {
    const given = [
      { name: 'kube_netwrok_plugin', source: '--set' },
      { name: 'calico_ipip_mode', source: 'the inventory' },
    ];
    expect(unknownVariableWarnings(data(), given).map((w) => w.variable)).toEqual(['kube_netwrok_plugin']);
    expect(unknownVariableWarnings(data({ wholeTree: true }), given).map((w) => w.variable)).toEqual([
      'kube_netwrok_plugin',
      'calico_ipip_mode',
    ]);
  });

  it('stays quiet for Ansible and host variables on the allow-list', () => {
    const names = ['ansible_host', 'ansible_become', 'ip', 'access_ip', 'files_repo', 'registry_host'];
    expect(
      unknownVariableWarnings(
        data({ wholeTree: true }),
        names.map((name) => ({ name, source: 'the inventory' })),
      ),
    ).toEqual([]);
  });
});
