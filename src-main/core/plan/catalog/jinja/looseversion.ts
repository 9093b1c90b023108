import { EvalError, UnsupportedError } from './values.js';

/**
 * distutils' LooseVersion, which Ansible's `version` test uses by default: the string is cut into
 * runs of digits (compared as numbers) and runs of letters (compared as strings); dots vanish but
 * any other character stays a component of its own. Comparing a number with a string is a
 * TypeError in Python 3, and Ansible reports it as "Version comparison failed", so do we.
 */
export function looseComponents(v: string): (number | string)[] {
  return v
    .split(/(\d+|[a-z]+|\.)/)
    .filter((x) => x && x !== '.')
    .map((x) => (/^\d+$/.test(x) ? Number(x) : x));
}

export function compareLoose(a: string, b: string): number {
  const x = looseComponents(a);
  const y = looseComponents(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] === y[i]) continue;
    if (typeof x[i] !== typeof y[i]) {
      throw new EvalError(
        `Version comparison failed: '<' not supported between instances of '${typeof x[i] === 'number' ? 'int' : 'str'}' and '${typeof y[i] === 'number' ? 'int' : 'str'}' ('${a}' vs '${b}')`,
      );
    }
    return x[i] < y[i] ? -1 : 1;
  }
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
}

const OPS: Record<string, (c: number) => boolean> = {};
for (const [names, f] of [
  [['==', '=', 'eq'], (c: number) => c === 0],
  [['<', 'lt'], (c: number) => c < 0],
  [['<=', 'le'], (c: number) => c <= 0],
  [['>', 'gt'], (c: number) => c > 0],
  [['>=', 'ge'], (c: number) => c >= 0],
  [['!=', '<>', 'ne'], (c: number) => c !== 0],
] as const) {
  for (const n of names) OPS[n] = f;
}

/** Ansible's `version` test (version_compare) with the loose version type. */
export function versionCompare(
  value: string,
  version: string,
  operator = 'eq',
  versionType?: string,
): boolean {
  if (versionType !== undefined && versionType !== 'loose')
    throw new UnsupportedError(`version test with version_type='${versionType}'`);
  if (!value) throw new EvalError('Input version value cannot be empty');
  if (!version) throw new EvalError('Version parameter to compare against cannot be empty');
  const op = OPS[operator];
  if (!op)
    throw new EvalError(`Invalid operator type (${operator}). Must be one of ${Object.keys(OPS).join(', ')}`);
  return op(compareLoose(value, version));
}
