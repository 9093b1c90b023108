import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import { renderString } from '../../../src-main/core/plan/catalog/jinja/evaluate.js';
import { compareLoose, looseComponents } from '../../../src-main/core/plan/catalog/jinja/looseversion.js';
import { pySub } from '../../../src-main/core/plan/catalog/jinja/pyregex.js';
import { PyDict, PyFloat, toPlain, Undefined } from '../../../src-main/core/plan/catalog/jinja/values.js';
import { VarStore, withTemplateErrors } from '../../../src-main/core/plan/catalog/variables.js';
import { parseYaml11 } from '../../../src-main/core/plan/catalog/yaml11.js';

/** A store from YAML text, the way Kubespray's role files define variables. */
function store(yaml: string, extra: Record<string, unknown> = {}): VarStore {
  const base = parseYaml11(yaml, 'test.yml') as PyDict;
  const over = PyDict.from(Object.entries(extra).map(([k, v]) => [k, v as never]));
  return new VarStore([base ?? new PyDict(), over]);
}

function render(tpl: string, yaml = 'x: 1', extra: Record<string, unknown> = {}): unknown {
  const s = store(yaml, extra);
  return withTemplateErrors('test', tpl, () => toPlain(renderString(tpl, s)));
}

function v(name: string, yaml: string): unknown {
  const s = store(yaml);
  return withTemplateErrors(name, '', () => toPlain(s.lookup(name)));
}

describe('rendering like Ansible 2.14 (ansible_eval_concat)', () => {
  it('mixes text and expressions; ints render as text; None renders as empty', () => {
    expect(render('{{ a }}/x-{{ b }}', 'a: https://dl\nb: 3')).toBe('https://dl/x-3');
    expect(render('{{ n }}', 'n: 36')).toBe('36');
    expect(render('v{{ none_value }}', 'none_value: ~')).toBe('v');
    expect(render('{{ None }}')).toBe('');
  });
  it('turns rendered "True"/"False" into booleans and keeps a lone list or dict native', () => {
    expect(render("{{ a == 'host' }}", 'a: host')).toBe(true);
    expect(render('{{ flag }}', 'flag: false')).toBe(false);
    expect(render('{{ l + ["b"] }}', 'l: [a]')).toEqual(['a', 'b']);
    expect(render('{{ d }}', 'd: {k: 1}')).toEqual({ k: 1 });
    expect(render('[{{ n }}, 2]', 'n: 1')).toEqual([1, 2]);
  });
  it('leaves strings without template markers alone', () => {
    expect(render('plain {text}')).toBe('plain {text}');
  });
  it('evaluates inline if with and without else (no else renders empty)', () => {
    expect(render("c-{{ 'static-' if s }}1.0", 's: false')).toBe('c-1.0');
    expect(render("c-{{ 'static-' if s }}1.0", 's: true')).toBe('c-static-1.0');
    expect(render("{{ 'a' if x == 1 else 'b' if x == 2 else 'c' }}", 'x: 2')).toBe('b');
  });
  it('evaluates if/elif/else blocks with whitespace control, as in kubeadm_init_phases_skip', () => {
    const tpl = `{%- if plugin == 'kube-router' -%}
  {{ base + ["addon/kube-proxy"] }}
  {%- elif remove is defined and remove -%}
  {{ base + ["addon/kube-proxy"] }}
  {%- else -%}
  {{ base }}
  {%- endif -%}`;
    expect(render(tpl, 'plugin: calico\nbase: [addon/coredns]')).toEqual(['addon/coredns']);
    expect(render(tpl, 'plugin: calico\nbase: [addon/coredns]\nremove: true')).toEqual([
      'addon/coredns',
      'addon/kube-proxy',
    ]);
    expect(render('{% if a %}\nyes{% endif %}', 'a: true')).toBe('yes');
  });
});

describe('expressions', () => {
  it('subscripts, slices, attribute access and .keys()', () => {
    const y = "c:\n  amd64:\n    '1.17': sum1\n    1.16.1: sum2\n  no_arch:\n    v1: m\nver: 1.35.4";
    expect(render("{{ c['amd64']['1.17'] }}", y)).toBe('sum1');
    expect(render('{{ c.no_arch.v1 }}', y)).toBe('m');
    expect(render("{{ (ver | split('.'))[:-1] | join('.') }}", y)).toBe('1.35');
    expect(render("{{ ((ver | split('.'))[1] | int) + 1 }}", y)).toBe('36');
    expect(render("{{ c['amd64'].keys() | join(',') }}", y)).toBe('1.17,1.16.1');
    expect(render("{{ (c['amd64'] | dict2items)[0].key }}", y)).toBe('1.17');
    expect(render("{{ (c['amd64'] | dict2items)[-1].value }}", y)).toBe('sum2');
  });
  it('comparisons, membership and boolean logic return Python values', () => {
    expect(render("{{ m in ['coredns', 'coredns_dual'] and e }}", 'm: coredns\ne: true')).toBe(true);
    expect(render("{{ 'addon/kube-proxy' not in s }}", 's: [addon/coredns]')).toBe(true);
    expect(render('{{ a != b or not c }}', 'a: 1\nb: 1\nc: true')).toBe(false);
    expect(render("{{ x or 'fallback' }}", "x: ''")).toBe('fallback');
  });
  it('literals: lists, dicts, None, ints, booleans', () => {
    expect(render("{{ [1, 'a', none, True] }}")).toEqual([1, 'a', null, true]);
    expect(render("{{ {'k': 2} }}")).toEqual({ k: 2 });
  });
});

describe('filters', () => {
  it('default/d applies to undefined names, missing keys and (with true) falsy values', () => {
    expect(render("{{ missing | default('amd64') }}")).toBe('amd64');
    expect(render('{{ missing | d(None) }}')).toBe('');
    expect(render("{{ d.nokey | default('z') }}", 'd: {}')).toBe('z');
    expect(render("{{ e | default('z', true) }}", "e: ''")).toBe('z');
    expect(render("{{ e | default('z') }}", "e: ''")).toBe('');
  });
  it('dict2items keeps YAML order even for integer-like keys (the first key is the default version)', () => {
    expect(render('{{ (g | dict2items)[0].key }}', 'g:\n  20240305: a\n  20240212: b\n  9: c')).toBe(
      '20240305',
    );
    expect(render("{{ g | dict2items | join(',') }}", 'g: {b: 1, a: 2}')).toBe(
      "{'key': 'b', 'value': 1},{'key': 'a', 'value': 2}",
    );
  });
  it("select('version', X, '<') keeps LooseVersion-smaller entries in order", () => {
    const y = 'e:\n  amd64:\n    3.6.10: a\n    3.5.26: b\n    3.5.9: c';
    expect(render("{{ (e['amd64'].keys() | select('version', '3.6', '<'))[0] }}", y)).toBe('3.5.26');
    expect(render("{{ e['amd64'].keys() | select('version', '3.6', '<') | join(' ') }}", y)).toBe(
      '3.5.26 3.5.9',
    );
  });
  it('split, join, int, lower, bool, string', () => {
    expect(render("{{ 'a b  c' | split | join('-') }}")).toBe('a-b-c');
    expect(render("{{ '42' | int + 1 }}")).toBe('43');
    expect(render("{{ 'x' | int }}")).toBe('0');
    expect(render('{{ ansible_system | lower }}', 'ansible_system: Linux')).toBe('linux');
    expect(render("{{ 'yes' | bool }}")).toBe(true);
    expect(render("{{ 'no' | bool }}")).toBe(false);
    expect(render('{{ v | string | lower }}', 'v: false')).toBe('false');
  });
  it('regex_replace: Python regex, \\1 backreferences, named groups, literal backslashes inside {{ }}', () => {
    // kube_major_version of v2.26/27, exactly as the YAML double-quoted string reads.
    const y = `kube_major_version: "{{ kube_version | regex_replace('^v([0-9])+\\\\.([0-9]+)\\\\.[0-9]+', 'v\\\\1.\\\\2') }}"\nkube_version: v1.30.6`;
    expect(v('kube_major_version', y)).toBe('v1.30');
    expect(render("{{ '0.1.0' | regex_replace('\\.', '_') }}")).toBe('0_1_0');
    expect(render("{{ 'v1.2' | regex_replace('^v', '') }}")).toBe('1.2');
    expect(render("{{ 'ab' | regex_replace('(?P<x>a)', '[\\g<x>]$') }}")).toBe('[a]$b');
    expect(pySub('a(b)?', '<\\1>', 'ac')).toBe('<>c');
  });
  it('combine merges dicts, recursively on request', () => {
    expect(render("{{ a | combine({'k': 2}) }}", 'a: {k: 1, j: 0}')).toEqual({ k: 2, j: 0 });
    expect(render("{{ a | combine({'n': {'y': 2}}, recursive=true) }}", 'a: {n: {x: 1}}')).toEqual({
      n: { x: 1, y: 2 },
    });
  });
});

describe('tests and lookups', () => {
  it('version uses LooseVersion with >= and <', () => {
    expect(render("{{ c is version('1.7.1', '>=') }}", 'c: 1.12.4')).toBe(true);
    expect(render("{{ '1.10' is version('1.9', '<') }}")).toBe(false);
    expect(looseComponents('1.34.10-rc1')).toEqual([1, 34, 10, '-', 'rc', 1]);
    expect(compareLoose('3.5.26', '3.6')).toBe(-1);
    expect(() => render("{{ 'v1.2' is version('1.2', '<') }}")).toThrow(/Version comparison failed/);
  });
  it('is defined / is not defined, including through undefined chains', () => {
    expect(render('{{ x is defined }}')).toBe(true);
    expect(render('{{ nope is not defined }}')).toBe(true);
    expect(render('{{ nope.deeper is defined }}')).toBe(false);
    // A variable whose template uses an undefined name is itself undefined, as in Ansible 2.14.
    expect(render('{{ b is defined }}', "b: '{{ nope }}'")).toBe(false);
  });
  it("lookup('vars', name) returns the templated variable", () => {
    const y =
      'channel: standard\ngateway_api_standard_crds_checksums:\n  no_arch:\n    1.2.1: sha256:abc\nver: 1.2.1';
    expect(render("{{ lookup('vars', 'gateway_api_' + channel + '_crds_checksums').no_arch[ver] }}", y)).toBe(
      'sha256:abc',
    );
    expect(render("{{ lookup('vars', 'a') }}", "a: '{{ b }}x'\nb: 1")).toBe('1x');
  });
});

describe('lazy, recursive variables', () => {
  it('templates variables on use, through any depth, and caches them', () => {
    const y =
      "url: '{{ base }}/v{{ ver }}/f-{{ arch }}'\nbase: '{{ proto }}://h'\nproto: https\nver: '{{ (t | dict2items)[0].key }}'\nt: {'1.2': s}";
    expect(v('url', y.replace('{{ arch }}', 'x'))).toBe('https://h/v1.2/f-x');
  });
  it('templates values nested in dicts and lists', () => {
    expect(v('d', "d:\n  a: '{{ x }}'\n  l: ['{{ x }}-y']\nx: 1")).toEqual({ a: '1', l: ['1-y'] });
  });
  it('keeps YAML 1.1 types: float keys and values, yes/on booleans, y/n strings', () => {
    const d = parseYaml11(
      "crun_version: 1.17\nm:\n  1.17: a\n  '1.16': b\nb1: yes\nb2: on\ns: y\ni: 010\nf: 1.0",
      't',
    ) as PyDict;
    expect(d.get('crun_version')).toEqual(new PyFloat(1.17));
    expect((d.get('m') as PyDict).keys()).toEqual([new PyFloat(1.17), '1.16']);
    expect([d.get('b1'), d.get('b2'), d.get('s'), d.get('i')]).toEqual([true, true, 'y', 8]);
    expect(
      render('{{ m[crun_version] }}-{{ crun_version }}-{{ f }}', 'crun_version: 1.17\nm: {1.17: a}\nf: 1.0'),
    ).toBe('a-1.17-1.0');
  });
  it('detects a variable that refers to itself', () => {
    expect(() => v('a', "a: '{{ b }}'\nb: '{{ a }}'")).toThrow(/recursive loop/);
  });
});

describe('failing loudly', () => {
  function failure(fn: () => unknown): FerryError {
    try {
      fn();
    } catch (err) {
      return err as FerryError;
    }
    throw new Error('expected a failure');
  }
  it('names the variable chain and the expression for unsupported constructs', () => {
    const e = failure(() => v('url', 'url: \'{{ base }}/x\'\nbase: "{{ name | to_json }}"\nname: a'));
    expect(e).toBeInstanceOf(FerryError);
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toContain("url → base: unsupported template construct: filter 'to_json'");
    expect(e.message).toContain('{{ name | to_json }}');
    expect(e.details?.variable).toBe('base');
  });
  it.each([
    ['{% for x in l %}{{ x }}{% endfor %}', /statement/],
    ['{{ 2 * 3 }}', /operator '\*'/],
    ["{{ a is match('x') }}", /test 'match'/],
    ["{{ lookup('env', 'HOME') }}", /lookup\('env'\)/],
    ['{{ a < b }}', /comparison operator '<'/],
    ['{{ x.items() }}', /call/],
  ])('%s is UNSUPPORTED', (tpl, re) => {
    const e = failure(() => v('t', `t: "${tpl}"\na: 1\nb: 2\nl: [1]\nx: {}`));
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toMatch(re);
  });
  it('an undefined name at the top is a CONFIG error that says which', () => {
    const e = failure(() =>
      render(
        '{{ pod_infra_supported_versions[kube_major_version] }}',
        "pod_infra_supported_versions: {'1.35': x}\nkube_major_version: '1.20'",
      ),
    );
    expect(e.code).toBe('CONFIG');
    expect(e.message).toContain("'dict object' has no attribute '1.20'");
  });
  it('an Undefined value is a value, not an exception, until used', () => {
    expect(store('a: 1').lookup('nope')).toBeInstanceOf(Undefined);
  });
});
