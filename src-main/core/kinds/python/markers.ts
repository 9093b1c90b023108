import { FerryError } from '../../base/errors/index.js';
import { isSpecifier, isVersion, normalizeName, normalizeSpecifier, satisfiesSpec } from './pep440.js';
import type { PythonTarget } from './targets.js';

/**
 * PEP 508 requirements and environment markers, evaluated for the deploy host's environment —
 * never the connected machine's (pip evaluates markers against the interpreter it runs in, which
 * is why Ferry does this itself). The evaluation follows packaging 23.0 (Debian 12's
 * python3-packaging), which the property test compares against: an operator and a right-hand
 * side that form a valid PEP 440 specifier compare as versions (pre-releases included), anything
 * else compares as strings; `extra` values are compared as normalized names.
 */

export type MarkerEnv = Record<string, string>;

export type MarkerNode =
  | { op: 'and' | 'or'; left: MarkerNode; right: MarkerNode }
  | { cmp: string; lhs: MarkerValue; rhs: MarkerValue };
type MarkerValue = { variable: string } | { literal: string };

/** Variable spellings packaging accepts, mapped to their PEP 508 names. */
const VARIABLES: Record<string, string> = {
  python_version: 'python_version',
  python_full_version: 'python_full_version',
  os_name: 'os_name',
  'os.name': 'os_name',
  sys_platform: 'sys_platform',
  'sys.platform': 'sys_platform',
  platform_release: 'platform_release',
  platform_system: 'platform_system',
  platform_version: 'platform_version',
  'platform.version': 'platform_version',
  platform_machine: 'platform_machine',
  'platform.machine': 'platform_machine',
  platform_python_implementation: 'platform_python_implementation',
  'platform.python_implementation': 'platform_python_implementation',
  python_implementation: 'platform_python_implementation',
  implementation_name: 'implementation_name',
  implementation_version: 'implementation_version',
  extra: 'extra',
};

/** The marker environment of a Linux CPython deploy host; the micro version is unknown, so .0 (as pip's --python-version). */
export function targetEnvironment(t: PythonTarget, extra = ''): MarkerEnv {
  const full = `${t.python}.0`;
  return {
    implementation_name: 'cpython',
    implementation_version: full,
    os_name: 'posix',
    platform_machine: t.arch,
    platform_release: '',
    platform_system: 'Linux',
    platform_version: '',
    python_full_version: full,
    platform_python_implementation: 'CPython',
    python_version: t.python,
    sys_platform: 'linux',
    extra,
  };
}

class Lexer {
  pos = 0;
  constructor(
    readonly text: string,
    readonly where: string,
  ) {}
  ws(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }
  peek(re: RegExp): string | undefined {
    this.ws();
    const m = re.exec(this.text.slice(this.pos));
    return m && m.index === 0 ? m[0] : undefined;
  }
  take(re: RegExp): string | undefined {
    const m = this.peek(re);
    if (m !== undefined) this.pos += m.length;
    return m;
  }
  fail(what: string): never {
    throw new FerryError('INTEGRITY', `${this.where}: ${what} at position ${this.pos} of '${this.text}'.`, {
      artifact: this.where,
    });
  }
}

const CMP = /^(===|~=|==|!=|<=|>=|<|>|not\s+in\b|in\b)/;

function parseOr(lx: Lexer): MarkerNode {
  let left = parseAnd(lx);
  while (lx.take(/^or\b/)) left = { op: 'or', left, right: parseAnd(lx) };
  return left;
}
function parseAnd(lx: Lexer): MarkerNode {
  let left = parseAtom(lx);
  while (lx.take(/^and\b/)) left = { op: 'and', left, right: parseAtom(lx) };
  return left;
}
function parseAtom(lx: Lexer): MarkerNode {
  if (lx.take(/^\(/)) {
    const inner = parseOr(lx);
    if (!lx.take(/^\)/)) lx.fail("expected ')'");
    return inner;
  }
  const lhs = parseValue(lx);
  const cmp = lx.take(CMP);
  if (!cmp) lx.fail('expected a comparison operator');
  const rhs = parseValue(lx);
  return { cmp: cmp.replace(/\s+/g, ' '), lhs, rhs };
}
function parseValue(lx: Lexer): MarkerValue {
  const q = lx.take(/^("[^"]*"|'[^']*')/);
  if (q) return { literal: q.slice(1, -1) };
  const v = lx.take(/^[A-Za-z_][A-Za-z0-9_.]*/);
  if (v && VARIABLES[v]) return { variable: VARIABLES[v] };
  return lx.fail(v ? `unknown marker variable '${v}'` : 'expected a marker variable or a quoted string');
}

export function parseMarker(text: string, where = 'marker'): MarkerNode {
  const lx = new Lexer(text, where);
  const node = parseOr(lx);
  lx.ws();
  if (lx.pos !== text.length) lx.fail('unexpected text');
  return node;
}

function compareOp(lhs: string, cmp: string, rhs: string): boolean {
  // packaging: `Specifier(op + rhs)`; when that is a valid specifier, a version comparison.
  if (cmp !== 'in' && cmp !== 'not in' && isSpecifier(cmp + rhs) && normalizeSpecifier(cmp + rhs) !== '') {
    if (!isVersion(lhs)) {
      throw new FerryError(
        'INTEGRITY',
        `marker compares '${lhs}' ${cmp} '${rhs}' as versions, but '${lhs}' is not one.`,
      );
    }
    return satisfiesSpec(lhs, cmp + rhs, true);
  }
  switch (cmp) {
    case '==':
    case '===':
      return lhs === rhs;
    case '!=':
      return lhs !== rhs;
    case '<':
      return lhs < rhs;
    case '<=':
      return lhs <= rhs;
    case '>':
      return lhs > rhs;
    case '>=':
      return lhs >= rhs;
    case 'in':
      return rhs.includes(lhs);
    case 'not in':
      return !rhs.includes(lhs);
    default:
      throw new FerryError('INTEGRITY', `marker: undefined comparison '${lhs}' ${cmp} '${rhs}'.`);
  }
}

export function evaluateMarker(node: MarkerNode, env: MarkerEnv): boolean {
  if ('op' in node) {
    // Both sides, always: packaging evaluates every comparison before combining them, so one
    // that cannot be evaluated is an error even where the other side already decides.
    const l = evaluateMarker(node.left, env);
    const r = evaluateMarker(node.right, env);
    return node.op === 'and' ? l && r : l || r;
  }
  const key =
    'variable' in node.lhs ? node.lhs.variable : 'variable' in node.rhs ? node.rhs.variable : undefined;
  const val = (v: MarkerValue) => ('variable' in v ? (env[v.variable] ?? '') : v.literal);
  let l = val(node.lhs);
  let r = val(node.rhs);
  if (key === 'extra') {
    l = l && normalizeName(l);
    r = r && normalizeName(r);
  }
  return compareOp(l, node.cmp, r);
}

/** True when the marker holds for the target with no extra, or with any of `extras`. */
export function markerHolds(
  node: MarkerNode | undefined,
  t: PythonTarget,
  extras: Iterable<string> = [],
): boolean {
  if (!node) return true;
  if (evaluateMarker(node, targetEnvironment(t))) return true;
  for (const e of extras) if (evaluateMarker(node, targetEnvironment(t, e))) return true;
  return false;
}

/** One PEP 508 requirement: `name[extra,…] specifiers ; marker`. */
export interface Requirement {
  /** Normalized name. */
  name: string;
  /** As written. */
  display: string;
  extras: string[];
  specifier: string;
  marker?: MarkerNode;
  markerText?: string;
  text: string;
}

export function parseRequirement(text: string, where = 'requirement'): Requirement {
  const semi = text.indexOf(';');
  const head = (semi < 0 ? text : text.slice(0, semi)).trim();
  const markerText = semi < 0 ? undefined : text.slice(semi + 1).trim();
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[([^\]]*)\])?\s*(.*)$/.exec(head);
  if (!m) {
    throw new FerryError('USAGE', `${where}: '${text}' is not a PEP 508 requirement.`, {
      artifact: where,
      hint: 'Write it as name, name==1.2.3 or name>=1.0; python_version >= "3.11".',
    });
  }
  if (/^@|^\s*@/.test(m[3])) {
    throw new FerryError(
      'UNSUPPORTED',
      `${where}: '${text}' names a direct URL; Ferry resolves from an index only.`,
      {
        artifact: where,
        hint: 'Publish the distribution on the index (or a mirror) and require it by name and version.',
      },
    );
  }
  // `name (>=1.0)` is the older metadata spelling.
  const spec = m[3]
    .trim()
    .replace(/^\((.*)\)$/, '$1')
    .trim();
  if (!isSpecifier(spec)) {
    throw new FerryError('USAGE', `${where}: '${spec}' in '${text}' is not a PEP 440 specifier.`, {
      artifact: where,
    });
  }
  return {
    name: normalizeName(m[1]),
    display: m[1],
    extras: (m[2] ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)
      .map(normalizeName),
    specifier: normalizeSpecifier(spec),
    ...(markerText ? { marker: parseMarker(markerText, where), markerText } : {}),
    text: text.trim(),
  };
}

/**
 * requirements.txt lines: comments, blank lines, `\` continuations and per-line `--hash` options;
 * `-r`/`-c`/`-e`/URL lines are refused rather than silently dropped.
 */
export function parseRequirementsFile(
  text: string,
  where: string,
): Array<{ line: string; req: Requirement }> {
  const out: Array<{ line: string; req: Requirement }> = [];
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    const at = `${where}:${i + 1}`;
    if (line.startsWith('-')) {
      throw new FerryError(
        'UNSUPPORTED',
        `${at}: the option '${line.split(/\s/)[0]}' is not supported in requirements.`,
        {
          artifact: at,
          hint: 'List each requirement by name and version; Ferry pins hashes itself.',
        },
      );
    }
    const bare = line.replace(/\s--hash[= ]\S+/g, '').trim();
    out.push({ line: bare, req: parseRequirement(bare, at) });
  });
  return out;
}
