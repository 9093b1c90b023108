/**
 * The Python value model Ansible templates operate on. JavaScript values cannot stand in for it
 * directly: Python keeps floats apart from ints (`1.0` renders as "1.0", a YAML key `1.17` is a
 * float), dict keys may be numbers or floats and keep insertion order (a plain JS object would move
 * integer-like keys first, and the "default version" of Kubespray is the first key of a checksums
 * map), and an undefined variable is a value that only fails when used.
 */

export class PyFloat {
  constructor(readonly value: number) {}
}

/** An ordered Python dict. Keys are hashed the Python way: 1 == 1.0 == True. */
export class PyDict {
  private readonly m = new Map<string, [PyValue, PyValue]>();

  static from(entries: Iterable<[PyValue, PyValue]>): PyDict {
    const d = new PyDict();
    for (const [k, v] of entries) d.set(k, v);
    return d;
  }

  get size(): number {
    return this.m.size;
  }
  has(k: PyValue): boolean {
    return this.m.has(hashKey(k));
  }
  get(k: PyValue): PyValue | undefined {
    return this.m.get(hashKey(k))?.[1];
  }
  set(k: PyValue, v: PyValue): void {
    const h = hashKey(k);
    const old = this.m.get(h);
    // Python keeps the first key object and its position when a key is assigned again.
    this.m.set(h, [old ? old[0] : k, v]);
  }
  keys(): PyValue[] {
    return [...this.m.values()].map((e) => e[0]);
  }
  values(): PyValue[] {
    return [...this.m.values()].map((e) => e[1]);
  }
  entries(): [PyValue, PyValue][] {
    return [...this.m.values()];
  }
}

/**
 * A missing variable, dict key or attribute. Ansible's StrictUndefined fails on any use except
 * `is defined` and `default`; `lenient` marks the value of an inline if without else, which
 * Jinja 3 renders as ''.
 */
export class Undefined {
  constructor(
    readonly name: string,
    readonly hint?: string,
    readonly lenient = false,
  ) {}
  get message(): string {
    return this.hint ?? `'${this.name}' is undefined`;
  }
}

export type PyValue = string | number | boolean | null | PyFloat | PyDict | PyValue[] | Undefined;

/** Thrown when an Undefined is used: rendered, compared, iterated, tested for truth. */
export class UndefinedError extends Error {
  constructor(readonly undef: Undefined) {
    super(undef.message);
    this.name = 'UndefinedError';
  }
}

/** A Python TypeError/KeyError-like failure while evaluating a template. */
export class EvalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvalError';
  }
}

/** A construct Ferry does not evaluate (an unknown filter, test, statement or operator). */
export class UnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedError';
  }
}

export function isUndefined(v: unknown): v is Undefined {
  return v instanceof Undefined;
}

export function defined(v: PyValue): Exclude<PyValue, Undefined> {
  if (v instanceof Undefined) throw new UndefinedError(v);
  return v;
}

function hashKey(k: PyValue): string {
  if (typeof k === 'string') return 's' + k;
  if (typeof k === 'boolean') return 'n' + (k ? 1 : 0);
  if (typeof k === 'number') return 'n' + String(k);
  if (k instanceof PyFloat) return 'n' + String(k.value);
  if (k === null) return 'z';
  if (k instanceof Undefined) throw new UndefinedError(k);
  throw new EvalError(`unhashable type: '${typeName(k)}'`);
}

export function typeName(v: PyValue): string {
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'int';
  if (v === null) return 'NoneType';
  if (v instanceof PyFloat) return 'float';
  if (v instanceof PyDict) return 'dict';
  if (Array.isArray(v)) return 'list';
  return 'Undefined';
}

export function isNumber(v: PyValue): v is number | PyFloat | boolean {
  return typeof v === 'number' || typeof v === 'boolean' || v instanceof PyFloat;
}

export function numValue(v: number | PyFloat | boolean): number {
  return typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : v.value;
}

/** Python's repr() of a float: shortest round-trip digits, always with a '.' or an exponent. */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const abs = Math.abs(x);
  if (abs !== 0 && (abs >= 1e16 || abs < 1e-4)) {
    const [m, e] = x.toExponential().split('e');
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const s = String(x);
  return Number.isInteger(x) ? `${s}.0` : s;
}

/** Python's str(). */
export function pyStr(v: PyValue): string {
  if (typeof v === 'string') return v;
  if (v instanceof Undefined) throw new UndefinedError(v);
  return pyRepr(v);
}

/** Python's repr(), as Ansible shows lists and dicts when it renders them into text. */
export function pyRepr(v: PyValue): string {
  if (typeof v === 'string') return strRepr(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  if (v === null) return 'None';
  if (v instanceof PyFloat) return floatRepr(v.value);
  if (Array.isArray(v)) return '[' + v.map(pyRepr).join(', ') + ']';
  if (v instanceof PyDict)
    return (
      '{' +
      v
        .entries()
        .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
        .join(', ') +
      '}'
    );
  throw new UndefinedError(v);
}

function strRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === q) out += '\\' + q;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch < ' ' || ch === '\x7f') out += '\\x' + ch.charCodeAt(0).toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + q;
}

/** Python truthiness; Undefined fails (StrictUndefined). */
export function truthy(v: PyValue): boolean {
  if (v instanceof Undefined) throw new UndefinedError(v);
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'boolean') return v;
  if (v === null) return false;
  if (v instanceof PyFloat) return v.value !== 0;
  if (Array.isArray(v)) return v.length > 0;
  return v.size > 0;
}

/** Python ==. */
export function pyEq(a: PyValue, b: PyValue): boolean {
  if (a instanceof Undefined) throw new UndefinedError(a);
  if (b instanceof Undefined) throw new UndefinedError(b);
  if (isNumber(a) && isNumber(b)) return numValue(a) === numValue(b);
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a === null || b === null) return a === b;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => pyEq(x, b[i]));
  if (a instanceof PyDict && b instanceof PyDict) {
    if (a.size !== b.size) return false;
    return a.entries().every(([k, v]) => b.has(k) && pyEq(v, b.get(k) as PyValue));
  }
  return false;
}

/** Python `a in b`. */
export function pyIn(a: PyValue, b: PyValue): boolean {
  if (a instanceof Undefined) throw new UndefinedError(a);
  if (b instanceof Undefined) throw new UndefinedError(b);
  if (typeof b === 'string') {
    if (typeof a !== 'string')
      throw new EvalError(`'in <string>' requires string as left operand, not ${typeName(a)}`);
    return b.includes(a);
  }
  if (Array.isArray(b)) return b.some((x) => pyEq(a, x));
  if (b instanceof PyDict) return b.has(a);
  throw new EvalError(`argument of type '${typeName(b)}' is not iterable`);
}

/** Iterate like Python's iter(): lists, dict keys, string characters. */
export function pyIter(v: PyValue): PyValue[] {
  if (v instanceof Undefined) throw new UndefinedError(v);
  if (Array.isArray(v)) return v;
  if (v instanceof PyDict) return v.keys();
  if (typeof v === 'string') return [...v];
  throw new EvalError(`'${typeName(v)}' object is not iterable`);
}

/** Plain JSON-friendly view (PyDict → object, PyFloat → number, Undefined → undefined). */
export function toPlain(v: PyValue): unknown {
  if (v instanceof PyFloat) return v.value;
  if (v instanceof Undefined) return undefined;
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof PyDict) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v.entries()) o[pyStr(k)] = toPlain(x);
    return o;
  }
  return v;
}

/** The reverse of toPlain for values that came from JSON or JS callers (numbers with a fraction become floats). */
export function fromPlain(v: unknown): PyValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? v : new PyFloat(v);
  if (v instanceof PyFloat || v instanceof PyDict || v instanceof Undefined) return v;
  if (Array.isArray(v)) return v.map(fromPlain);
  if (v instanceof Map) return PyDict.from([...v.entries()].map(([k, x]) => [fromPlain(k), fromPlain(x)]));
  if (typeof v === 'object') return PyDict.from(Object.entries(v).map(([k, x]) => [k, fromPlain(x)]));
  return String(v);
}
