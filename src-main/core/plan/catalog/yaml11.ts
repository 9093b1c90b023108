import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
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
  return nodeToPy(doc.contents as Node | null, doc);
}

/** Converts one YAML node (e.g. the `vars:` node of a profile) to the Python value model. */
export function nodeToPy(node: Node | null | undefined, doc: Document): PyValue {
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return nodeToPy(node.resolve(doc) as Node, doc);
  if (isScalar(node)) return scalarToPy(node.value, node.source, node.type, node.tag);
  if (isMap(node)) {
    const d = new PyDict();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = nodeToPy(pair.key as Node, doc);
      if (key === '<<' && isScalar(pair.key) && pair.key.type === 'PLAIN') {
        mergeInto(d, nodeToPy(pair.value as Node, doc));
        continue;
      }
      d.set(key, nodeToPy(pair.value as Node, doc));
    }
    return d;
  }
  if (isSeq(node)) return node.items.map((n) => nodeToPy(n as Node, doc));
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
