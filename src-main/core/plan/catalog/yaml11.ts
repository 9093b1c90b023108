import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Alias,
  type Document,
  type Node,
} from 'yaml';
import { FerryError } from '../../base/errors/index.js';
import { PyDict, PyFloat, type PyValue } from './jinja/values.js';

/**
 * YAML as Ansible (PyYAML, YAML 1.1) reads it, into the Python value model: floats stay floats
 * (`crun_version: 1.17`, float map keys), maps keep their order, `yes`/`on` are booleans but
 * `y`/`n` stay strings (PyYAML's resolver, unlike the `yaml` package's 1.1 schema), and a plain
 * `1e3` without a dot is a string.
 */
export function parseYaml11(text: string, source: string): PyValue {
  const lc = new LineCounter();
  const doc = parseDocument(text, { version: '1.1', lineCounter: lc, merge: true, uniqueKeys: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = e.linePos?.[0].line ?? lc.linePos(e.pos[0]).line;
    throw new FerryError('CONFIG', `${source}:${line}: invalid YAML: ${e.message.split('\n')[0]}`, {
      artifact: source,
      hint: 'Fix the YAML syntax at that line.',
    });
  }
  return nodeToPy(doc.contents as Node | null, doc, { lineCounter: lc, source });
}

/**
 * Limits on alias expansion. Every alias is expanded into a copy (the Python value model has no
 * sharing), so ten aliases of ten aliases of … grow as 10^depth: a 564-byte file never finished.
 * Kubespray's own files resolve a few dozen aliases into a few thousand values; these caps are
 * far above that and far below what hurts.
 */
export const MAX_ALIAS_COUNT = 10_000;
export const MAX_ALIAS_VALUES = 1_000_000;

export interface YamlWhere {
  lineCounter: LineCounter;
  /** The file as errors name it. */
  source: string;
}

interface Budget {
  where?: YamlWhere | undefined;
  /** Each alias's anchor, found in one pass (`Alias.resolve` walks the whole document per call). */
  anchors: Map<Alias, Node | undefined>;
  aliases: number;
  values: number;
  /** Depth of alias expansion we are in; values count against the budget only inside one. */
  inAlias: number;
  /** The outermost alias being expanded: the line an error points at. */
  current?: Alias | undefined;
}

function anchorsOf(doc: Document): Map<Alias, Node | undefined> {
  const last = new Map<string, Node>();
  const out = new Map<Alias, Node | undefined>();
  visit(doc, {
    Node: (_k, n) => {
      // Document order: an alias refers to the latest anchor of its name before it.
      if (isAlias(n)) out.set(n, last.get(n.source));
      else if (n.anchor) last.set(n.anchor, n);
    },
  });
  return out;
}

/**
 * Converts one YAML node (e.g. the `vars:` node of a profile) to the Python value model. Alias
 * expansion is capped (MAX_ALIAS_COUNT, MAX_ALIAS_VALUES); going over is a CONFIG error at the
 * alias's line when `where` is given.
 */
export function nodeToPy(node: Node | null | undefined, doc: Document, where?: YamlWhere): PyValue {
  return toPy(node, doc, { where, anchors: anchorsOf(doc), aliases: 0, values: 0, inAlias: 0 });
}

function refuse(b: Budget, alias: Alias, what: string): never {
  const line = b.where && alias.range ? b.where.lineCounter.linePos(alias.range[0]).line : undefined;
  const name = b.where?.source ?? 'YAML';
  throw new FerryError(
    'CONFIG',
    `${name}${line !== undefined ? `:${line}` : ''}: alias *${alias.source} ${what}; Ferry refuses the file (an alias bomb?).`,
    {
      artifact: b.where?.source,
      hint: 'Replace the nested aliases with the values they stand for, or remove them; real Kubespray variables need far fewer.',
      details: { line, aliases: b.aliases, values: b.values },
    },
  );
}

function toPy(node: Node | null | undefined, doc: Document, b: Budget): PyValue {
  if (node === null || node === undefined) return null;
  if (b.inAlias > 0 && ++b.values > MAX_ALIAS_VALUES)
    refuse(b, b.current!, `expands aliases to more than ${MAX_ALIAS_VALUES} values`);
  if (isAlias(node)) {
    if (++b.aliases > MAX_ALIAS_COUNT)
      refuse(b, node, `is one alias more than the ${MAX_ALIAS_COUNT} Ferry expands in one file`);
    const target = b.anchors.has(node) ? b.anchors.get(node) : (node.resolve(doc) as Node | undefined);
    const outer = b.current;
    if (b.inAlias === 0) b.current = node;
    b.inAlias++;
    try {
      return toPy(target, doc, b);
    } finally {
      b.inAlias--;
      b.current = outer;
    }
  }
  if (isScalar(node)) return scalarToPy(node.value, node.source, node.type, node.tag);
  if (isMap(node)) {
    const d = new PyDict();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = toPy(pair.key as Node, doc, b);
      if (key === '<<' && isScalar(pair.key) && pair.key.type === 'PLAIN') {
        mergeInto(d, toPy(pair.value as Node, doc, b));
        continue;
      }
      d.set(key, toPy(pair.value as Node, doc, b));
    }
    return d;
  }
  if (isSeq(node)) return node.items.map((n) => toPy(n as Node, doc, b));
  return null;
}

function mergeInto(d: PyDict, src: PyValue): void {
  // YAML merge keys: explicit keys win, and earlier merged maps win over later ones.
  const sources = Array.isArray(src) ? src : [src];
  for (const s of sources) {
    if (!(s instanceof PyDict)) continue;
    for (const [k, v] of s.entries()) if (!d.has(k)) d.set(k, v);
  }
}

function scalarToPy(
  value: unknown,
  source: string | undefined,
  type: string | undefined,
  tag: string | undefined,
): PyValue {
  const plain = type === 'PLAIN' && !tag;
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') {
    if (plain && source !== undefined && /^[yYnN]$/.test(source)) return source;
    return value;
  }
  if (typeof value === 'number' || typeof value === 'bigint') {
    const n = Number(value);
    if (tag === 'tag:yaml.org,2002:float') return new PyFloat(n);
    if (plain && source !== undefined) {
      if (/^[-+]?(\.inf|\.nan)$/i.test(source) || (source.includes('.') && !/^[-+]?0x/i.test(source)))
        return new PyFloat(n);
      if (/^[-+]?[0-9][0-9_]*[eE]/.test(source)) return source;
    }
    return Number.isInteger(n) ? n : new PyFloat(n);
  }
  if (value instanceof Date) return source ?? value.toISOString();
  return source ?? String(value);
}
