import type { Expr, Template, TemplateNode } from './ast.js';
import { versionCompare } from './looseversion.js';
import { isTemplate, parsePythonLiteral, parseTemplate } from './parser.js';
import { pySub } from './pyregex.js';
import {
  defined,
  EvalError,
  isNumber,
  numValue,
  PyDict,
  PyFloat,
  pyEq,
  pyIn,
  pyIter,
  pyStr,
  truthy,
  typeName,
  Undefined,
  UndefinedError,
  UnsupportedError,
  type PyValue,
} from './values.js';

/** Where names come from: Ansible's variables (templated lazily) and the vars lookup. */
export interface Scope {
  /** The templated value of a variable, or an Undefined when there is none. */
  lookup(name: string): PyValue;
}

const templateCache = new Map<string, Template>();

export function compile(source: string): Template {
  let t = templateCache.get(source);
  if (!t) {
    t = parseTemplate(source);
    templateCache.set(source, t);
  }
  return t;
}

/**
 * Renders a template string the way Ansible 2.14's templar does: a string without template
 * markers is returned as is; otherwise the pieces are joined as text (None → ''), a lone
 * non-text piece keeps its list/dict value, and a result that reads "True"/"False" or a Python
 * list/dict literal becomes that value (ansible_eval_concat).
 */
export function renderString(source: string, scope: Scope): PyValue {
  if (!isTemplate(source)) return source;
  const out: PyValue[] = [];
  renderNodes(compile(source).nodes, scope, out);
  if (out.length === 0) return '';
  let text: string;
  if (out.length === 1) {
    const v = out[0];
    if (Array.isArray(v) || v instanceof PyDict) return v;
    text = pyStr(v);
  } else text = out.map(pyStr).join('');
  if (text === 'True') return true;
  if (text === 'False') return false;
  if (text.startsWith('[') || text.startsWith('{')) {
    const lit = parsePythonLiteral(text);
    if (lit !== undefined) return lit;
  }
  return text;
}

function renderNodes(nodes: TemplateNode[], scope: Scope, out: PyValue[]): void {
  for (const node of nodes) {
    if (node.t === 'text') out.push(node.text);
    else if (node.t === 'output') {
      const v = evaluate(node.expr, scope);
      if (v instanceof Undefined) {
        if (v.lenient) continue;
        throw new UndefinedError(v);
      }
      out.push(v === null ? '' : v);
    } else {
      const br = node.branches.find((b) => truthy(evaluate(b.test, scope)));
      renderNodes(br ? br.body : node.orelse, scope, out);
    }
  }
}

function kw(
  kwargs: Map<string, PyValue>,
  name: string,
  pos: PyValue[],
  index: number,
  dflt: PyValue,
): PyValue {
  if (kwargs.has(name)) return kwargs.get(name) as PyValue;
  return index < pos.length ? pos[index] : dflt;
}

function evalArgs(
  e: { args: Expr[]; kwargs: [string, Expr][] },
  scope: Scope,
): { args: PyValue[]; kwargs: Map<string, PyValue> } {
  return {
    args: e.args.map((a) => evaluate(a, scope)),
    kwargs: new Map(e.kwargs.map(([k, v]) => [k, evaluate(v, scope)])),
  };
}

function toBool(v: PyValue): boolean {
  // Ansible's `bool` filter (to_bool): only these spellings are true.
  if (typeof v === 'boolean') return v;
  const x = typeof v === 'string' ? v.toLowerCase() : v;
  return x === 'yes' || x === 'on' || x === '1' || x === 'true' || x === 1;
}

function pyInt(v: PyValue, dflt: PyValue, base: number): PyValue {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof PyFloat) return Math.trunc(v.value);
  if (typeof v === 'string') {
    const s = v.trim().replace(/_/g, '');
    const digits =
      base === 16
        ? /^[-+]?(0x)?[0-9a-f]+$/i
        : base === 8
          ? /^[-+]?(0o)?[0-7]+$/i
          : base === 2
            ? /^[-+]?(0b)?[01]+$/i
            : /^[-+]?\d+$/;
    if (digits.test(s)) return parseInt(s.replace(/^([-+]?)0[xob]/i, '$1'), base);
    if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Math.trunc(Number(s));
  }
  return dflt;
}

function pySplit(s: string, sep: PyValue, maxsplit: number): string[] {
  if (sep === null) {
    const parts = s.trim().split(/\s+/).filter(Boolean);
    if (maxsplit < 0 || parts.length <= maxsplit + 1) return parts;
    const re = /\S+/g;
    const out: string[] = [];
    let m: RegExpExecArray | null;
    while ((m = re.exec(s)) && out.length < maxsplit) out.push(m[0]);
    out.push(s.slice(re.lastIndex).replace(/^\s+/, ''));
    return out;
  }
  if (typeof sep !== 'string') throw new EvalError(`must be str or None, not ${typeName(sep)}`);
  if (sep === '') throw new EvalError('empty separator');
  const parts = s.split(sep);
  if (maxsplit < 0 || parts.length <= maxsplit + 1) return parts;
  return [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(sep)];
}

function combine(dicts: PyValue[], recursive: boolean): PyDict {
  const merge = (a: PyDict, b: PyDict): PyDict => {
    const out = PyDict.from(a.entries());
    for (const [k, v] of b.entries()) {
      const old = out.get(k);
      out.set(k, recursive && old instanceof PyDict && v instanceof PyDict ? merge(old, v) : v);
    }
    return out;
  };
  let acc = new PyDict();
  for (const d of dicts.flat()) {
    if (!(d instanceof PyDict))
      throw new EvalError(`failed to combine variables, expected dicts but got a '${typeName(defined(d))}'`);
    acc = merge(acc, d);
  }
  return acc;
}

const FILTERS: Record<
  string,
  (v: PyValue, args: PyValue[], kwargs: Map<string, PyValue>, scope: Scope) => PyValue
> = {
  default: (v, a, k) => {
    const dflt = kw(k, 'default_value', a, 0, '');
    const boolean = truthy(kw(k, 'boolean', a, 1, false));
    if (v instanceof Undefined) return dflt;
    if (boolean && !truthy(v)) return dflt;
    return v;
  },
  dict2items: (v, a, k) => {
    if (!(v instanceof PyDict))
      throw new EvalError(`dict2items requires a dictionary, got ${typeName(v)} instead.`);
    const kn = kw(k, 'key_name', a, 0, 'key');
    const vn = kw(k, 'value_name', a, 1, 'value');
    return v.entries().map(([key, value]) =>
      PyDict.from([
        [kn, key],
        [vn, value],
      ]),
    );
  },
  select: (v, a, k, scope) => {
    if (k.size) throw new UnsupportedError('keyword arguments to select');
    const items = pyIter(v);
    if (!a.length) return items.filter((x) => truthy(x));
    const name = a[0];
    if (typeof name !== 'string') throw new EvalError('select: the test name must be a string');
    return items.filter((x) => runTest(name, x, a.slice(1), new Map(), scope));
  },
  split: (v, a, k) => {
    const s = v;
    if (typeof s !== 'string') throw new EvalError(`'${typeName(s)}' object has no attribute 'split'`);
    const max = kw(k, 'maxsplit', a, 1, -1);
    return pySplit(s, kw(k, 'seperator', a, 0, null), typeof max === 'number' ? max : -1);
  },
  join: (v, a, k) => {
    if (k.has('attribute')) throw new UnsupportedError('join(attribute=…)');
    const sep = kw(k, 'd', a, 0, '');
    return pyIter(v).map(pyStr).join(pyStr(sep));
  },
  int: (v, a, k) => {
    const base = kw(k, 'base', a, 1, 10);
    return pyInt(v, kw(k, 'default', a, 0, 0), typeof base === 'number' ? base : 10);
  },
  lower: (v) => pyStr(v).toLowerCase(),
  bool: (v) => toBool(v),
  // `string` is not in the list but kubeadm_init_phases_skip uses it for cilium's kube-proxy
  // replacement, which decides whether the kube-proxy image is needed.
  string: (v) => pyStr(v),
  regex_replace: (v, a, k) => {
    const pattern = pyStr(kw(k, 'pattern', a, 0, ''));
    const repl = pyStr(kw(k, 'replacement', a, 1, ''));
    const ignorecase = truthy(kw(k, 'ignorecase', a, 2, false));
    const multiline = truthy(kw(k, 'multiline', a, 3, false));
    return pySub(pattern, repl, pyStr(v), { ignorecase, multiline });
  },
  combine: (v, a, k) => {
    for (const key of k.keys()) if (key !== 'recursive') throw new UnsupportedError(`combine(${key}=…)`);
    return combine([v, ...a], truthy(k.get('recursive') ?? false));
  },
};
FILTERS.d = FILTERS.default;

function runTest(
  name: string,
  v: PyValue,
  args: PyValue[],
  kwargs: Map<string, PyValue>,
  _scope: Scope,
): boolean {
  switch (name) {
    case 'defined':
      return !(v instanceof Undefined);
    case 'version':
    case 'version_compare': {
      const value = pyStr(defined(v));
      const version = pyStr(defined(kw(kwargs, 'version', args, 0, '')));
      const op = pyStr(defined(kw(kwargs, 'operator', args, 1, 'eq')));
      const strict = kw(kwargs, 'strict', args, 2, null);
      const vt = kw(kwargs, 'version_type', args, 3, null);
      if (strict !== null && truthy(strict)) throw new UnsupportedError('version test with strict=True');
      return versionCompare(value, version, op, vt === null ? undefined : pyStr(vt));
    }
    default:
      throw new UnsupportedError(`test '${name}'`);
  }
}

function getAttr(obj: PyValue, attr: string): PyValue {
  if (obj instanceof Undefined) return obj; // AnsibleUndefined lets `a.b.c is defined` work.
  if (obj instanceof PyDict) {
    const v = obj.get(attr);
    return v === undefined ? new Undefined(attr, `'dict object' has no attribute '${attr}'`) : v;
  }
  return new Undefined(attr, `'${typeName(obj)} object' has no attribute '${attr}'`);
}

function getItem(obj: PyValue, key: PyValue): PyValue {
  if (obj instanceof Undefined) return obj;
  key = defined(key);
  if (obj instanceof PyDict) {
    if (Array.isArray(key) || key instanceof PyDict)
      throw new EvalError(`unhashable type: '${typeName(key)}'`);
    const v = obj.get(key);
    return v === undefined ? new Undefined(pyStr(key), `'dict object' has no attribute '${pyStr(key)}'`) : v;
  }
  if (Array.isArray(obj) || typeof obj === 'string') {
    if (typeof key === 'number' || typeof key === 'boolean') {
      const i = numValue(key);
      const idx = i < 0 ? obj.length + i : i;
      if (idx >= 0 && idx < obj.length) return obj[idx];
      return new Undefined(String(i), `'${typeName(obj)} object' has no element ${i}`);
    }
    if (typeof key === 'string') return getAttr(obj, key);
  }
  return new Undefined(pyStr(key), `'${typeName(obj)} object' has no element ${pyStr(key)}`);
}

function slice(obj: PyValue, start: PyValue, stop: PyValue, step: PyValue): PyValue {
  obj = defined(obj);
  if (!Array.isArray(obj) && typeof obj !== 'string')
    throw new EvalError(`'${typeName(obj)}' object is not subscriptable`);
  const len = obj.length;
  const st = step === null ? 1 : numValue(defined(step) as number);
  if (st !== 1) throw new UnsupportedError('slices with a step');
  const norm = (x: PyValue, dflt: number) => {
    if (x === null) return dflt;
    const n = numValue(defined(x) as number);
    return n < 0 ? Math.max(0, len + n) : Math.min(n, len);
  };
  return obj.slice(norm(start, 0), norm(stop, len)) as PyValue;
}

function add(a: PyValue, b: PyValue): PyValue {
  a = defined(a);
  b = defined(b);
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (isNumber(a) && isNumber(b)) {
    const s = numValue(a) + numValue(b);
    return a instanceof PyFloat || b instanceof PyFloat ? new PyFloat(s) : s;
  }
  throw new EvalError(`unsupported operand type(s) for +: '${typeName(a)}' and '${typeName(b)}'`);
}

/** Ansible's `lookup('vars', name…, default=…)`: templated values, joined with ',' when they are strings. */
function lookupVars(args: PyValue[], kwargs: Map<string, PyValue>, scope: Scope): PyValue {
  for (const k of kwargs.keys()) if (k !== 'default') throw new UnsupportedError(`lookup('vars', ${k}=…)`);
  const results = args.map((term) => {
    const name = pyStr(defined(term));
    const v = scope.lookup(name);
    if (v instanceof Undefined) {
      if (kwargs.has('default')) return kwargs.get('default') as PyValue;
      throw new UndefinedError(new Undefined(name, `No variable found with this name: ${name}`));
    }
    return v;
  });
  if (results.every((r) => typeof r === 'string')) return results.join(',');
  return results.length === 1 ? results[0] : results;
}

export function evaluate(e: Expr, scope: Scope): PyValue {
  switch (e.t) {
    case 'const':
      return e.v;
    case 'name':
      return scope.lookup(e.name);
    case 'list':
      return e.items.map((x) => evaluate(x, scope));
    case 'dict':
      return PyDict.from(e.items.map(([k, v]) => [defined(evaluate(k, scope)), evaluate(v, scope)]));
    case 'getattr':
      return getAttr(evaluate(e.obj, scope), e.attr);
    case 'getitem':
      return getItem(evaluate(e.obj, scope), evaluate(e.key, scope));
    case 'slice':
      return slice(
        evaluate(e.obj, scope),
        e.start ? evaluate(e.start, scope) : null,
        e.stop ? evaluate(e.stop, scope) : null,
        e.step ? evaluate(e.step, scope) : null,
      );
    case 'call': {
      if (e.fn.t === 'getattr' && e.fn.attr === 'keys' && !e.args.length && !e.kwargs.length) {
        const obj = defined(evaluate(e.fn.obj, scope));
        if (obj instanceof PyDict) return obj.keys();
        throw new EvalError(`'${typeName(obj)}' object has no attribute 'keys'`);
      }
      if (e.fn.t === 'name' && e.fn.name === 'lookup') {
        const { args, kwargs } = evalArgs(e, scope);
        const plugin = args[0];
        if (plugin !== 'vars') throw new UnsupportedError(`lookup('${pyStr(defined(plugin ?? null))}')`);
        return lookupVars(args.slice(1), kwargs, scope);
      }
      throw new UnsupportedError('function or method call');
    }
    case 'filter': {
      const f = FILTERS[e.name];
      if (!f) throw new UnsupportedError(`filter '${e.name}'`);
      const v = evaluate(e.obj, scope);
      const { args, kwargs } = evalArgs(e, scope);
      return f(e.name === 'default' || e.name === 'd' ? v : defined(v), args, kwargs, scope);
    }
    case 'test': {
      const { args, kwargs } = evalArgs(e, scope);
      const r = runTest(e.name, evaluate(e.obj, scope), args, kwargs, scope);
      return e.negate ? !r : r;
    }
    case 'not':
      return !truthy(evaluate(e.e, scope));
    case 'and': {
      const a = evaluate(e.a, scope);
      return truthy(a) ? evaluate(e.b, scope) : a;
    }
    case 'or': {
      const a = evaluate(e.a, scope);
      return truthy(a) ? a : evaluate(e.b, scope);
    }
    case 'cmp': {
      const a = evaluate(e.a, scope);
      const b = evaluate(e.b, scope);
      switch (e.op) {
        case '==':
          return pyEq(a, b);
        case '!=':
          return !pyEq(a, b);
        case 'in':
          return pyIn(a, b);
        case 'not in':
          return !pyIn(a, b);
      }
      break;
    }
    case 'add':
      return add(evaluate(e.a, scope), evaluate(e.b, scope));
    case 'neg': {
      const v = defined(evaluate(e.e, scope));
      if (typeof v === 'number') return -v;
      if (v instanceof PyFloat) return new PyFloat(-v.value);
      throw new EvalError(`bad operand type for unary -: '${typeName(v)}'`);
    }
    case 'cond':
      if (truthy(evaluate(e.test, scope))) return evaluate(e.a, scope);
      if (e.b) return evaluate(e.b, scope);
      return new Undefined(
        '',
        'the inline if-expression evaluated to false and no else section was defined',
        true,
      );
  }
  throw new UnsupportedError(`expression '${(e as Expr).t}'`);
}
