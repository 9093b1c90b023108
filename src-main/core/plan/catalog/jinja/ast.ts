import type { PyValue } from './values.js';

export type Expr =
  | { t: 'const'; v: PyValue }
  | { t: 'name'; name: string }
  | { t: 'list'; items: Expr[] }
  | { t: 'dict'; items: [Expr, Expr][] }
  | { t: 'getattr'; obj: Expr; attr: string }
  | { t: 'getitem'; obj: Expr; key: Expr }
  | { t: 'slice'; obj: Expr; start?: Expr | undefined; stop?: Expr | undefined; step?: Expr | undefined }
  | { t: 'call'; fn: Expr; args: Expr[]; kwargs: [string, Expr][] }
  | { t: 'filter'; name: string; obj: Expr; args: Expr[]; kwargs: [string, Expr][] }
  | { t: 'test'; name: string; obj: Expr; args: Expr[]; kwargs: [string, Expr][]; negate: boolean }
  | { t: 'not'; e: Expr }
  | { t: 'and' | 'or'; a: Expr; b: Expr }
  | { t: 'cmp'; op: '==' | '!=' | 'in' | 'not in'; a: Expr; b: Expr }
  | { t: 'add'; a: Expr; b: Expr }
  | { t: 'neg'; e: Expr }
  | { t: 'cond'; test: Expr; a: Expr; b?: Expr | undefined };

export type TemplateNode =
  | { t: 'text'; text: string }
  | { t: 'output'; expr: Expr; source: string }
  | { t: 'if'; branches: { test: Expr; body: TemplateNode[] }[]; orelse: TemplateNode[] };

export interface Template {
  source: string;
  nodes: TemplateNode[];
}
