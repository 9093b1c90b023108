import type { Expr, Template, TemplateNode } from './ast.js';
import { PyDict, PyFloat, UnsupportedError, type PyValue } from './values.js';

/**
 * Lexer and parser for the Jinja2 subset Kubespray's download data uses, with Ansible's settings
 * (trim_blocks on). Anything outside that subset is an UnsupportedError naming the construct, so a
 * new Kubespray release that uses more Jinja fails loudly instead of computing a wrong list.
 */

type Tok =
  | { k: 'name'; v: string; pos: number }
  | { k: 'str'; v: string; pos: number }
  | { k: 'int'; v: number; pos: number }
  | { k: 'float'; v: number; pos: number }
  | { k: 'op'; v: string; pos: number }
  | { k: 'end'; v: string; pos: number };

const OPS = [
  '//',
  '**',
  '==',
  '!=',
  '<=',
  '>=',
  '+',
  '-',
  '/',
  '*',
  '%',
  '~',
  '[',
  ']',
  '(',
  ')',
  '{',
  '}',
  '<',
  '>',
  '=',
  '.',
  ':',
  '|',
  ',',
  ';',
];

export class TemplateSyntaxError extends UnsupportedError {}

/** Python's unicode-escape decoding, as Jinja applies it to string literals. */
function unescapePython(s: string): string {
  return s.replace(
    /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|[\s\S])/g,
    (m, e: string) => {
      switch (e[0]) {
        case 'n':
          return '\n';
        case 't':
          return '\t';
        case 'r':
          return '\r';
        case '\\':
          return '\\';
        case "'":
          return "'";
        case '"':
          return '"';
        case 'a':
          return '\x07';
        case 'b':
          return '\b';
        case 'f':
          return '\f';
        case 'v':
          return '\v';
        case '\n':
          return '';
        case 'x':
        case 'u':
        case 'U':
          if (e.length > 1) return String.fromCodePoint(parseInt(e.slice(1), 16));
          return m;
        default:
          if (/^[0-7]+$/.test(e)) return String.fromCharCode(parseInt(e, 8));
          return m;
      }
    },
  );
}

/**
 * Tokenizes one expression starting at `pos` in `src` until the closing delimiter at bracket depth 0.
 * `literalBackslashes`: inside `{{ }}` Ansible doubles backslashes in string literals before Jinja
 * unescapes them, so they come out as written (`regex_replace('\.', '_')` keeps its backslash).
 */
function tokenize(
  src: string,
  pos: number,
  close: string,
  literalBackslashes: boolean,
): { toks: Tok[]; end: number; rstrip: boolean } {
  const toks: Tok[] = [];
  let depth = 0;
  const n = src.length;
  while (pos < n) {
    const c = src[pos];
    if (/\s/.test(c)) {
      pos++;
      continue;
    }
    if (depth === 0) {
      if (src.startsWith('-' + close, pos)) return { toks, end: pos + 1 + close.length, rstrip: true };
      if (src.startsWith('+' + close, pos)) return { toks, end: pos + 1 + close.length, rstrip: false };
      if (src.startsWith(close, pos)) return { toks, end: pos + close.length, rstrip: false };
    }
    if (c === "'" || c === '"') {
      let j = pos + 1;
      let raw = '';
      while (j < n && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < n) {
          raw += src[j] + src[j + 1];
          j += 2;
        } else raw += src[j++];
      }
      if (j >= n) throw new TemplateSyntaxError(`unterminated string literal at offset ${pos}`);
      toks.push({ k: 'str', v: literalBackslashes ? raw : unescapePython(raw), pos });
      pos = j + 1;
      continue;
    }
    const num = /^(\d[\d_]*)(\.\d[\d_]*)?([eE][+-]?\d+)?/.exec(src.slice(pos, pos + 64));
    if (num && /\d/.test(c)) {
      const text = num[0].replace(/_/g, '');
      if (num[2] || num[3]) toks.push({ k: 'float', v: Number(text), pos });
      else toks.push({ k: 'int', v: Number(text), pos });
      pos += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(pos, pos + 256));
    if (name) {
      toks.push({ k: 'name', v: name[0], pos });
      pos += name[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, pos));
    if (!op) throw new TemplateSyntaxError(`unexpected character '${c}' at offset ${pos}`);
    if (op === '(' || op === '[' || op === '{') depth++;
    if (op === ')' || op === ']' || op === '}') depth--;
    toks.push({ k: 'op', v: op, pos });
    pos += op.length;
  }
  throw new TemplateSyntaxError(`missing '${close}'`);
}

class ExprParser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {
    this.toks = [...toks, { k: 'end', v: '', pos: -1 }];
  }

  get cur(): Tok {
    return this.toks[this.i];
  }
  private isOp(v: string): boolean {
    return this.cur.k === 'op' && this.cur.v === v;
  }
  private isName(v: string): boolean {
    return this.cur.k === 'name' && this.cur.v === v;
  }
  private skipOp(v: string): boolean {
    if (this.isOp(v)) {
      this.i++;
      return true;
    }
    return false;
  }
  private skipName(v: string): boolean {
    if (this.isName(v)) {
      this.i++;
      return true;
    }
    return false;
  }
  private expectOp(v: string): void {
    if (!this.skipOp(v)) throw new TemplateSyntaxError(`expected '${v}', got '${this.cur.v}'`);
  }
  private expectName(): string {
    if (this.cur.k !== 'name') throw new TemplateSyntaxError(`expected a name, got '${this.cur.v}'`);
    return String(this.toks[this.i++].v);
  }
  atEnd(): boolean {
    return this.cur.k === 'end';
  }
  expectEnd(): void {
    if (!this.atEnd()) throw new TemplateSyntaxError(`unexpected '${this.cur.v}'`);
  }

  parseExpression(): Expr {
    let e = this.parseOr();
    while (this.skipName('if')) {
      const test = this.parseOr();
      const b = this.skipName('else') ? this.parseExpression() : undefined;
      e = { t: 'cond', test, a: e, b };
    }
    return e;
  }
  private parseOr(): Expr {
    let a = this.parseAnd();
    while (this.skipName('or')) a = { t: 'or', a, b: this.parseAnd() };
    return a;
  }
  private parseAnd(): Expr {
    let a = this.parseNot();
    while (this.skipName('and')) a = { t: 'and', a, b: this.parseNot() };
    return a;
  }
  private parseNot(): Expr {
    if (this.skipName('not')) return { t: 'not', e: this.parseNot() };
    return this.parseCompare();
  }
  private parseCompare(): Expr {
    let a = this.parseMath1();
    for (;;) {
      if (this.isOp('==') || this.isOp('!=')) {
        const op = this.toks[this.i++].v as '==' | '!=';
        a = { t: 'cmp', op, a, b: this.parseMath1() };
      } else if (this.skipName('in')) {
        a = { t: 'cmp', op: 'in', a, b: this.parseMath1() };
      } else if (
        this.isName('not') &&
        this.toks[this.i + 1].k === 'name' &&
        this.toks[this.i + 1].v === 'in'
      ) {
        this.i += 2;
        a = { t: 'cmp', op: 'not in', a, b: this.parseMath1() };
      } else if (['<', '>', '<=', '>='].some((o) => this.isOp(o))) {
        throw new UnsupportedError(`comparison operator '${this.cur.v}'`);
      } else return a;
    }
  }
  private parseMath1(): Expr {
    let a = this.parseUnary(true);
    for (;;) {
      if (this.skipOp('+')) a = { t: 'add', a, b: this.parseUnary(true) };
      else if (['-', '*', '/', '//', '%', '**', '~'].some((o) => this.isOp(o)))
        throw new UnsupportedError(`operator '${this.cur.v}'`);
      else return a;
    }
  }
  private parseUnary(withFilter: boolean): Expr {
    let e: Expr;
    if (this.skipOp('-')) e = { t: 'neg', e: this.parseUnary(false) };
    else e = this.parsePrimary();
    e = this.parsePostfix(e);
    if (withFilter) e = this.parseFilterExpr(e);
    return e;
  }
  private parsePrimary(): Expr {
    const tok = this.cur;
    if (tok.k === 'name') {
      this.i++;
      if (tok.v === 'true' || tok.v === 'True') return { t: 'const', v: true };
      if (tok.v === 'false' || tok.v === 'False') return { t: 'const', v: false };
      if (tok.v === 'none' || tok.v === 'None') return { t: 'const', v: null };
      return { t: 'name', name: tok.v };
    }
    if (tok.k === 'str') {
      let s = '';
      while (this.cur.k === 'str') s += String(this.toks[this.i++].v);
      return { t: 'const', v: s };
    }
    if (tok.k === 'int') {
      this.i++;
      return { t: 'const', v: tok.v };
    }
    if (tok.k === 'float') {
      this.i++;
      return { t: 'const', v: new PyFloat(tok.v) };
    }
    if (this.skipOp('(')) {
      const e = this.parseExpression();
      if (this.isOp(',')) throw new UnsupportedError('tuple literals');
      this.expectOp(')');
      return e;
    }
    if (this.skipOp('[')) {
      const items: Expr[] = [];
      while (!this.isOp(']')) {
        if (items.length) this.expectOp(',');
        if (this.isOp(']')) break;
        items.push(this.parseExpression());
      }
      this.expectOp(']');
      return { t: 'list', items };
    }
    if (this.skipOp('{')) {
      const items: [Expr, Expr][] = [];
      while (!this.isOp('}')) {
        if (items.length) this.expectOp(',');
        if (this.isOp('}')) break;
        const k = this.parseExpression();
        this.expectOp(':');
        items.push([k, this.parseExpression()]);
      }
      this.expectOp('}');
      return { t: 'dict', items };
    }
    throw new TemplateSyntaxError(tok.k === 'end' ? 'unexpected end of expression' : `unexpected '${tok.v}'`);
  }
  private parsePostfix(e: Expr): Expr {
    for (;;) {
      if (this.skipOp('.')) {
        if (this.cur.k === 'int')
          e = { t: 'getitem', obj: e, key: { t: 'const', v: this.toks[this.i++].v as number } };
        else e = { t: 'getattr', obj: e, attr: this.expectName() };
      } else if (this.skipOp('[')) {
        e = this.parseSubscript(e);
      } else if (this.isOp('(')) {
        e = this.parseCall(e);
      } else return e;
    }
  }
  private parseSubscript(obj: Expr): Expr {
    const part = (): Expr | undefined =>
      this.isOp(':') || this.isOp(']') ? undefined : this.parseExpression();
    const start = part();
    if (this.skipOp(':')) {
      const stop = part();
      let step: Expr | undefined;
      if (this.skipOp(':')) step = part();
      this.expectOp(']');
      return { t: 'slice', obj, start, stop, step };
    }
    if (!start) throw new TemplateSyntaxError('empty subscript');
    if (this.isOp(',')) throw new UnsupportedError('tuple subscripts');
    this.expectOp(']');
    return { t: 'getitem', obj, key: start };
  }
  private parseArgs(): { args: Expr[]; kwargs: [string, Expr][] } {
    const args: Expr[] = [];
    const kwargs: [string, Expr][] = [];
    this.expectOp('(');
    while (!this.isOp(')')) {
      if (args.length || kwargs.length) this.expectOp(',');
      if (this.isOp(')')) break;
      if (this.cur.k === 'name' && this.toks[this.i + 1].k === 'op' && this.toks[this.i + 1].v === '=') {
        const k = this.expectName();
        this.i++;
        kwargs.push([k, this.parseExpression()]);
      } else {
        if (this.isOp('*') || this.isOp('**')) throw new UnsupportedError('*args in calls');
        args.push(this.parseExpression());
      }
    }
    this.expectOp(')');
    return { args, kwargs };
  }
  private parseCall(fn: Expr): Expr {
    const { args, kwargs } = this.parseArgs();
    return { t: 'call', fn, args, kwargs };
  }
  private dottedName(): string {
    let name = this.expectName();
    while (this.isOp('.') && this.toks[this.i + 1].k === 'name') {
      this.i++;
      name += '.' + this.expectName();
    }
    return name;
  }
  private parseFilterExpr(e: Expr): Expr {
    for (;;) {
      if (this.skipOp('|')) {
        const name = this.dottedName();
        const { args, kwargs } = this.isOp('(') ? this.parseArgs() : { args: [], kwargs: [] };
        e = { t: 'filter', name, obj: e, args, kwargs };
      } else if (this.skipName('is')) {
        const negate = this.skipName('not');
        const name = this.dottedName();
        let a: { args: Expr[]; kwargs: [string, Expr][] } = { args: [], kwargs: [] };
        if (this.isOp('(')) a = this.parseArgs();
        else if (this.cur.k === 'str' || this.cur.k === 'int' || this.cur.k === 'float')
          throw new UnsupportedError(`test '${name}' with an argument without parentheses`);
        e = { t: 'test', name, obj: e, ...a, negate };
      } else if (this.isOp('(')) {
        e = this.parseCall(e);
      } else return e;
    }
  }
}

export function parseExpression(src: string, literalBackslashes = true): Expr {
  const { toks } = tokenize(src + '\u0000', 0, '\u0000', literalBackslashes);
  const p = new ExprParser(toks);
  const e = p.parseExpression();
  p.expectEnd();
  return e;
}

/** Parses a whole template: text, `{{ }}`, `{% if/elif/else/endif %}`, `{# #}`, with whitespace control. */
export function parseTemplate(source: string): Template {
  type Frame = { branches: { test: Expr; body: TemplateNode[] }[]; orelse: TemplateNode[] | null };
  const root: TemplateNode[] = [];
  const stack: { frame: Frame; body: TemplateNode[] }[] = [];
  let body = root;
  let pos = 0;
  let lstripNext = false;
  let trimNewline = false;
  const n = source.length;
  const pushText = (text: string) => {
    if (lstripNext) text = text.replace(/^\s+/, '');
    else if (trimNewline) text = text.replace(/^\r?\n/, '');
    lstripNext = false;
    trimNewline = false;
    if (text) body.push({ t: 'text', text });
  };
  const rstripPrev = () => {
    const last = body[body.length - 1];
    if (last && last.t === 'text') {
      last.text = last.text.replace(/\s+$/, '');
      if (!last.text) body.pop();
    }
  };
  while (pos < n) {
    const m = /\{\{|\{%|\{#/.exec(source.slice(pos));
    if (!m) {
      pushText(source.slice(pos));
      break;
    }
    const start = pos + m.index;
    pushText(source.slice(pos, start));
    let p = start + 2;
    const kind = m[0];
    if (source[p] === '-') {
      rstripPrev();
      p++;
    } else if (source[p] === '+') p++;
    if (kind === '{#') {
      const end = source.indexOf('#}', p);
      if (end < 0) throw new TemplateSyntaxError('missing #}');
      lstripNext = source[end - 1] === '-';
      pos = end + 2;
      continue;
    }
    if (kind === '{{') {
      const { toks, end, rstrip } = tokenize(source, p, '}}', true);
      const parser = new ExprParser(toks);
      const expr = parser.parseExpression();
      parser.expectEnd();
      body.push({ t: 'output', expr, source: source.slice(start, end) });
      lstripNext = rstrip;
      pos = end;
      continue;
    }
    const { toks, end, rstrip } = tokenize(source, p, '%}', false);
    const parser = new ExprParser(toks);
    const kw = parser.cur.k === 'name' ? String(parser.cur.v) : '';
    const stmt = source.slice(start, end);
    if (kw === 'if') {
      const sub = new ExprParser(toks.slice(1));
      const test = sub.parseExpression();
      sub.expectEnd();
      const frame: Frame = { branches: [{ test, body: [] }], orelse: null };
      body.push({ t: 'if', branches: frame.branches, orelse: [] });
      stack.push({ frame, body });
      body = frame.branches[0].body;
    } else if (kw === 'elif' || kw === 'else' || kw === 'endif') {
      const top = stack[stack.length - 1];
      if (!top) throw new TemplateSyntaxError(`'${stmt}' without an open if`);
      if (kw === 'elif') {
        if (top.frame.orelse) throw new TemplateSyntaxError(`elif after else`);
        const sub = new ExprParser(toks.slice(1));
        const test = sub.parseExpression();
        sub.expectEnd();
        const br = { test, body: [] as TemplateNode[] };
        top.frame.branches.push(br);
        body = br.body;
      } else if (kw === 'else') {
        if (toks.length !== 1) throw new TemplateSyntaxError(`unexpected tokens after else`);
        const node = top.body[top.body.length - 1] as Extract<TemplateNode, { t: 'if' }>;
        top.frame.orelse = node.orelse;
        body = node.orelse;
      } else {
        if (toks.length !== 1) throw new TemplateSyntaxError(`unexpected tokens after endif`);
        stack.pop();
        body = top.body;
      }
    } else {
      throw new UnsupportedError(`statement '${stmt}'`);
    }
    lstripNext = rstrip;
    trimNewline = !rstrip; // Ansible sets trim_blocks: the newline right after a block tag goes.
    pos = end;
  }
  if (stack.length) throw new TemplateSyntaxError('missing {% endif %}');
  return { source, nodes: root };
}

const TEMPLATE_START = /\{\{|\{%|\{#/;

/** Whether Ansible would treat the string as a template at all. */
export function isTemplate(s: string): boolean {
  return TEMPLATE_START.test(s);
}

/** A Python literal (ast.literal_eval of a rendered "[…]" or "{…}"), or undefined when it is not one. */
export function parsePythonLiteral(s: string): PyValue | undefined {
  try {
    const { toks } = tokenize(s + '\u0000', 0, '\u0000', false);
    const p = new ExprParser(toks);
    const e = p.parseExpression();
    p.expectEnd();
    return literalValue(e);
  } catch {
    return undefined;
  }
}

function literalValue(e: Expr): PyValue {
  switch (e.t) {
    case 'const':
      return e.v;
    case 'list':
      return e.items.map(literalValue);
    case 'neg': {
      const v = literalValue(e.e);
      if (typeof v === 'number') return -v;
      if (v instanceof PyFloat) return new PyFloat(-v.value);
      throw new Error('not a literal');
    }
    case 'dict': {
      return PyDict.from(e.items.map(([k, v]) => [literalValue(k), literalValue(v)]));
    }
    default:
      throw new Error('not a literal');
  }
}
