/**
 * rpm's rich (boolean) dependencies, as rpmds.c parses them: `(a or b)`, `(a if b else c)`,
 * `(pkgconfig(x) >= 1.2 with y)`… primary.xml keeps them verbatim as an entry name starting with
 * '('. Parsing is separate from evaluation so the resolver can parse each string once and ask
 * "does the current selection satisfy this?" as often as its fixed point needs.
 */
import { FerryError } from '../../base/errors/index.js';
import type { RpmDep, RpmFlag } from './package.js';
import { parseEvr } from './evr.js';

export type RichOp = 'and' | 'or' | 'if' | 'unless' | 'with' | 'without';

export type RichExpr =
  | { op: 'atom'; dep: RpmDep }
  | { op: 'and' | 'or' | 'with'; args: RichExpr[] }
  | { op: 'without'; args: [RichExpr, RichExpr] }
  /** `(then if cond)` / `(then if cond else otherwise)`; unless: `(then unless cond [else otherwise])`. */
  | { op: 'if' | 'unless'; then: RichExpr; cond: RichExpr; otherwise?: RichExpr };

export const isRich = (name: string): boolean => name.charCodeAt(0) === 40; /* '(' */

const OPS = new Set<string>(['and', 'or', 'if', 'unless', 'with', 'without', 'else']);
const CMP: Record<string, RpmFlag> = {
  '=': 'EQ',
  '==': 'EQ',
  '<': 'LT',
  '<=': 'LE',
  '=<': 'LE',
  '>': 'GT',
  '>=': 'GE',
  '=>': 'GE',
};

function bad(text: string, why: string): FerryError {
  return new FerryError('UNSUPPORTED', `rich dependency ${text}: ${why}`, {
    artifact: text,
    hint: 'the repository metadata holds a boolean dependency rpm itself would reject; report it to the repository owner',
  });
}

/**
 * Parses one rich dependency string. Throws FerryError (UNSUPPORTED) naming the string when it
 * is malformed: rpm refuses to build such a package, so it indicates damaged metadata.
 */
export function parseRich(text: string): RichExpr {
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n && /\s/.test(text[i])) i++;
  };
  // A name runs to whitespace, ',' or a ')' that closes nothing it opened: perl(Foo::Bar) and
  // pkgconfig(x) keep their parentheses (rpm's SKIPNONWHITEX).
  const word = (): string => {
    const start = i;
    let depth = 0;
    while (i < n) {
      const c = text[i];
      if (/\s/.test(c) || c === ',') break;
      if (c === '(') depth++;
      else if (c === ')') {
        if (depth === 0) break;
        depth--;
      }
      i++;
    }
    return text.slice(start, i);
  };
  const simple = (): RichExpr => {
    const name = word();
    if (name === '') throw bad(text, `a name was expected at offset ${i}`);
    if (OPS.has(name)) throw bad(text, `'${name}' where a name was expected`);
    const save = i;
    ws();
    let op = '';
    while (i < n && (text[i] === '<' || text[i] === '>' || text[i] === '=')) op += text[i++];
    if (op === '') {
      i = save;
      return { op: 'atom', dep: { name } };
    }
    const flags = CMP[op];
    if (!flags) throw bad(text, `unknown comparison '${op}'`);
    ws();
    const evrText = word();
    if (evrText === '') throw bad(text, `a version was expected after '${op}'`);
    const evr = parseEvr(evrText);
    const dep: RpmDep = { name, flags, epoch: evr.epoch, ver: evr.version };
    if (evr.release !== '') dep.rel = evr.release;
    return { op: 'atom', dep };
  };
  const term = (): RichExpr => {
    ws();
    if (text[i] === '(') return group();
    return simple();
  };
  const group = (): RichExpr => {
    i++; // '('
    const first = term();
    ws();
    const peekOp = (): string => {
      ws();
      const m = /^[a-z]+/.exec(text.slice(i, i + 8));
      return m && OPS.has(m[0]) ? m[0] : '';
    };
    const take = (op: string): void => {
      i += op.length;
    };
    let result: RichExpr = first;
    const op = peekOp();
    if (op === '') {
      // '(foo)' alone is allowed by rpm: a parenthesised simple dependency.
    } else if (op === 'and' || op === 'or' || op === 'with') {
      const args = [first];
      while (peekOp() === op) {
        take(op);
        args.push(term());
      }
      const other = peekOp();
      if (other) throw bad(text, `'${other}' after '${op}' needs parentheses`);
      result = { op, args };
    } else if (op === 'without') {
      take(op);
      result = { op, args: [first, term()] };
    } else if (op === 'if' || op === 'unless') {
      take(op);
      const cond = term();
      if (peekOp() === 'else') {
        take('else');
        result = { op, then: first, cond, otherwise: term() };
      } else result = { op, then: first, cond };
    } else throw bad(text, `'${op}' cannot start a clause`);
    const after = peekOp();
    if (after) throw bad(text, `'${after}' cannot follow here; add parentheses`);
    ws();
    if (text[i] !== ')') throw bad(text, `')' expected at offset ${i}`);
    i++;
    return result;
  };
  ws();
  if (text[i] !== '(') throw bad(text, 'a rich dependency starts with "("');
  const expr = group();
  ws();
  if (i !== n) throw bad(text, `unexpected text after the closing parenthesis at offset ${i}`);
  return expr;
}

/** Every simple dependency the expression mentions, for indexing and for file-require lists. */
export function richAtoms(e: RichExpr, out: RpmDep[] = []): RpmDep[] {
  if (e.op === 'atom') out.push(e.dep);
  else if ('then' in e) {
    richAtoms(e.then, out);
    richAtoms(e.cond, out);
    if (e.otherwise) richAtoms(e.otherwise, out);
  } else for (const a of e.args) richAtoms(a, out);
  return out;
}

/**
 * A world to evaluate against: `providers` lists the packages providing a simple dependency
 * (any identity the caller likes), `chosen` says whether one is in the selection.
 */
export interface RichWorld<P> {
  providers(dep: RpmDep): readonly P[];
  chosen(p: P): boolean;
  /**
   * The providers of any of several simple dependencies, in the world's preference order: an
   * `(a or b)` of simple terms is one choice among all their providers, as libsolv makes it
   * (dnf picks e1 for `(e2 or e1)`). Without it, the alternatives' providers are concatenated.
   */
  providersAny?(deps: RpmDep[]): readonly P[];
}

/** The packages that satisfy a `with`/`without` term (one package must satisfy all of it). */
function packagesOf<P>(e: RichExpr, w: RichWorld<P>): P[] {
  if (e.op === 'atom') return [...w.providers(e.dep)];
  if (e.op === 'with') {
    let set = packagesOf(e.args[0], w);
    for (const a of e.args.slice(1)) {
      const other = new Set(packagesOf(a, w));
      set = set.filter((p) => other.has(p));
    }
    return set;
  }
  if (e.op === 'without') {
    const minus = new Set(packagesOf(e.args[1], w));
    return packagesOf(e.args[0], w).filter((p) => !minus.has(p));
  }
  if (e.op === 'or') return [...new Set(e.args.flatMap((a) => packagesOf(a, w)))];
  // rpm only allows simple deps (or with/without chains) under with/without; an 'and' or 'if'
  // here has no single-package meaning, so nothing satisfies it.
  return [];
}

/** Whether the selection satisfies the expression now. */
export function richHolds<P>(e: RichExpr, w: RichWorld<P>): boolean {
  switch (e.op) {
    case 'atom':
    case 'with':
    case 'without':
      return packagesOf(e, w).some((p) => w.chosen(p));
    case 'and':
      return e.args.every((a) => richHolds(a, w));
    case 'or':
      return e.args.some((a) => richHolds(a, w));
    case 'if':
      return richHolds(e.cond, w) ? richHolds(e.then, w) : e.otherwise ? richHolds(e.otherwise, w) : true;
    case 'unless':
      return richHolds(e.cond, w) ? (e.otherwise ? richHolds(e.otherwise, w) : true) : richHolds(e.then, w);
  }
}

/**
 * What must be added for the expression to hold, as a list of "pick one of these" groups (each
 * the candidate providers of one term, in the world's preference order), or undefined when it
 * cannot be satisfied. Conditions (`if`/`unless`) are judged on the current selection only: the
 * resolver re-evaluates at its fixed point, so a condition that becomes true later still counts.
 * For `or`, nothing is needed when an alternative holds; an `or` of simple terms is one group of
 * all their providers (see providersAny); otherwise the first satisfiable alternative is taken.
 */
export function richNeeds<P>(e: RichExpr, w: RichWorld<P>): P[][] | undefined {
  switch (e.op) {
    case 'atom':
    case 'with':
    case 'without': {
      const ps = packagesOf(e, w);
      if (ps.some((p) => w.chosen(p))) return [];
      return ps.length ? [ps] : undefined;
    }
    case 'and': {
      const out: P[][] = [];
      for (const a of e.args) {
        const need = richNeeds(a, w);
        if (!need) return undefined;
        out.push(...need);
      }
      return out;
    }
    case 'or': {
      if (e.args.some((a) => richHolds(a, w))) return [];
      if (e.args.every((a) => a.op === 'atom')) {
        const deps = e.args.map((a) => (a as { dep: RpmDep }).dep);
        const ps = w.providersAny
          ? [...w.providersAny(deps)]
          : [...new Set(deps.flatMap((d) => w.providers(d)))];
        return ps.length ? [ps] : undefined;
      }
      for (const a of e.args) {
        const need = richNeeds(a, w);
        if (need) return need;
      }
      return undefined;
    }
    case 'if':
      if (richHolds(e.cond, w)) return richNeeds(e.then, w);
      return e.otherwise ? richNeeds(e.otherwise, w) : [];
    case 'unless':
      if (richHolds(e.cond, w)) return e.otherwise ? richNeeds(e.otherwise, w) : [];
      return richNeeds(e.then, w);
  }
}
