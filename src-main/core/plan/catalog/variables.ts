import { FerryError } from '../../base/errors/index.js';
import { evaluate, renderString, type Scope } from './jinja/evaluate.js';
import { isTemplate, parseExpression } from './jinja/parser.js';
import {
  EvalError,
  PyDict,
  Undefined,
  UndefinedError,
  UnsupportedError,
  type PyValue,
} from './jinja/values.js';

/**
 * Why a template could not be evaluated, with the chain of variables that led there (outermost
 * first) and the expression of the innermost one, so the message names what to look at.
 */
export class TemplateError extends Error {
  constructor(
    readonly inner: Error,
    readonly chain: string[],
    readonly expression: string,
  ) {
    super(inner.message);
    this.name = 'TemplateError';
  }
}

/**
 * One host's variables, as Ansible sees them: layers merged by precedence (later layers win,
 * whole values replace — hash_behaviour=replace), each variable templated on first use and then
 * cached, like the lazy AnsibleJ2Vars. A variable whose template hits an undefined name becomes an
 * Undefined itself (so `is defined` and `default` work on it), as in Ansible 2.14.
 */
export class VarStore implements Scope {
  private readonly raw = new Map<string, PyValue>();
  private readonly cache = new Map<string, PyValue>();
  private readonly active = new Set<string>();

  constructor(layers: PyDict[]) {
    for (const layer of layers) for (const [k, v] of layer.entries()) this.raw.set(String(k), v);
  }

  has(name: string): boolean {
    return this.raw.has(name);
  }
  names(): string[] {
    return [...this.raw.keys()];
  }
  rawValue(name: string): PyValue | undefined {
    return this.raw.get(name);
  }

  lookup(name: string): PyValue {
    const hit = this.cache.get(name);
    if (hit !== undefined) return hit;
    const raw = this.raw.get(name);
    if (raw === undefined) return new Undefined(name);
    if (this.active.has(name)) {
      throw new TemplateError(
        new EvalError(`recursive loop detected in template: '${name}' refers to itself`),
        [name],
        describe(raw),
      );
    }
    this.active.add(name);
    let value: PyValue;
    try {
      value = this.template(raw);
    } catch (err) {
      if (err instanceof UndefinedError) value = new Undefined(name, `${name}: ${err.message}`);
      else if (err instanceof TemplateError) {
        err.chain.unshift(name);
        throw err;
      } else if (err instanceof EvalError || err instanceof UnsupportedError)
        throw new TemplateError(err, [name], describe(raw));
      else throw err;
    } finally {
      this.active.delete(name);
    }
    this.cache.set(name, value);
    return value;
  }

  /** Templates a value (string, list or dict, recursively) in this scope. */
  template(v: PyValue): PyValue {
    if (typeof v === 'string') return isTemplate(v) ? renderString(v, this) : v;
    if (Array.isArray(v)) return v.map((x) => this.template(x));
    if (v instanceof PyDict) return PyDict.from(v.entries().map(([k, x]) => [k, this.template(x)]));
    return v;
  }

  /** Evaluates a bare Jinja expression (no braces) in this scope. */
  expression(src: string): PyValue {
    return evaluate(parseExpression(src), this);
  }
}

function describe(raw: PyValue): string {
  return typeof raw === 'string' ? raw : JSON.stringify(raw);
}

/**
 * Evaluates `fn` and turns template failures into FerryErrors that name the download field, the
 * chain of variables and the expression: UNSUPPORTED for a construct Ferry does not evaluate,
 * CONFIG for an undefined variable or a type/key error (a setting that does not fit the data).
 */
export function withTemplateErrors<T>(what: string, source: string, fn: () => T, artifact?: string): T {
  try {
    return fn();
  } catch (err) {
    throw toFerryError(err, what, source, artifact);
  }
}

export function toFerryError(err: unknown, what: string, source: string, artifact?: string): unknown {
  if (err instanceof FerryError) return err;
  if (err instanceof UndefinedError) {
    return new FerryError('CONFIG', `${what}: ${err.message} (in "${oneLine(source)}")`, {
      artifact,
      hint: 'Set the missing variable (--set NAME=VALUE, the profile or the inventory) or choose a Kubernetes version this Kubespray tag supports.',
      details: { expression: source },
    });
  }
  if (err instanceof TemplateError) {
    const chain = [what, ...err.chain].join(' → ');
    const unsupported = err.inner instanceof UnsupportedError;
    return new FerryError(
      unsupported ? 'UNSUPPORTED' : 'CONFIG',
      `${chain}: ${unsupported ? 'unsupported template construct: ' : ''}${err.message} in "${oneLine(err.expression)}"`,
      {
        artifact,
        hint: unsupported
          ? `Ferry evaluates the Jinja subset Kubespray uses; variable '${err.chain[err.chain.length - 1]}' needs more. Report it, or set that variable to a plain value.`
          : 'Check the variables you set against what this Kubespray tag expects.',
        details: { variable: err.chain[err.chain.length - 1], chain: err.chain, expression: err.expression },
      },
    );
  }
  if (err instanceof UnsupportedError || err instanceof EvalError) {
    const unsupported = err instanceof UnsupportedError;
    return new FerryError(
      unsupported ? 'UNSUPPORTED' : 'CONFIG',
      `${what}: ${unsupported ? 'unsupported template construct: ' : ''}${err.message} in "${oneLine(source)}"`,
      { artifact, details: { expression: source } },
    );
  }
  return err;
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 300 ? t.slice(0, 297) + '…' : t;
}
