import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isMap, isPair, isScalar, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { FerryError } from '../../base/errors/index.js';
import { PyDict } from '../catalog/jinja/values.js';
import { nodeToPy } from '../catalog/yaml11.js';
import { ProfileSchema, type Profile } from './schema.js';

export interface LoadedProfileInfo {
  /** The profile file, absolute ('' when parsed from text without a file). */
  file: string;
  /** The folder relative paths in the profile are resolved against. */
  dir: string;
  /** `vars` with Ansible's YAML 1.1 types (floats, ordered keys), for the catalog. */
  vars: PyDict;
}

const info = new WeakMap<Profile, LoadedProfileInfo>();

/**
 * A profile is hand-written settings plus some inventory variables: a few KB. The cap refuses a
 * wrong file (a log, an image) before it is read, and bounds what parsing can cost.
 */
export const MAX_PROFILE_BYTES = 4 * 1024 * 1024;

function tooBig(filename: string, size: number): FerryError {
  return new FerryError(
    'CONFIG',
    `${filename} is ${size} bytes, over the ${MAX_PROFILE_BYTES}-byte limit for a profile; Ferry refuses it.`,
    {
      artifact: filename,
      hint: 'Check that --profile names the profile (ferry.yaml); keep large variable sets in the Kubespray inventory instead.',
      details: { size, limit: MAX_PROFILE_BYTES },
    },
  );
}

/**
 * Duplicate keys, found with one Set per map. The parser's own `uniqueKeys` check compares each
 * key with every earlier one, which made an 8 MB profile take 154 s.
 */
function duplicateKey(doc: Document, lc: LineCounter): { line: number; key: string } | undefined {
  let found: { line: number; key: string } | undefined;
  visit(doc, {
    Map: (_k, map) => {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const k = pair.key.value;
        if (seen.has(k)) {
          found = { line: lc.linePos(pair.key.range?.[0] ?? 0).line, key: String(k) };
          return visit.BREAK;
        }
        seen.add(k);
      }
      return undefined;
    },
  });
  return found;
}

/** `vars` of a loaded profile with YAML 1.1 typing and key order intact (empty for a hand-built profile). */
export function profileVars(profile: Profile): PyDict {
  return info.get(profile)?.vars ?? new PyDict();
}

export function profileInfo(profile: Profile): LoadedProfileInfo | undefined {
  return info.get(profile);
}

function lineOf(doc: Document, lc: LineCounter, p: PropertyKey[], unknownKey?: string): number | undefined {
  // Walk to the deepest node that exists on the issue's path; for an unknown key, point at the key.
  let node: unknown = doc.contents;
  let line: number | undefined =
    node && (node as Node).range ? lc.linePos((node as Node).range![0]).line : undefined;
  const keys = unknownKey !== undefined ? [...p, unknownKey] : p;
  for (const k of keys) {
    if (isMap(node)) {
      const pair = node.items.find(
        (it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(k),
      );
      if (!pair) break;
      const target = (
        unknownKey !== undefined && k === unknownKey ? pair.key : (pair.value ?? pair.key)
      ) as Node | null;
      if (target?.range) line = lc.linePos(target.range[0]).line;
      node = pair.value;
    } else if (node && typeof (node as { items?: unknown }).items === 'object' && typeof k === 'number') {
      const item = (node as { items: Node[] }).items[k];
      if (!item) break;
      if (item.range) line = lc.linePos(item.range[0]).line;
      node = item;
    } else break;
  }
  return line;
}

function describeIssue(issue: z.core.$ZodIssue): {
  path: PropertyKey[];
  message: string;
  unknown?: string[];
} {
  if (issue.code === 'unrecognized_keys') {
    return {
      path: issue.path,
      message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`,
      unknown: issue.keys,
    };
  }
  return { path: issue.path, message: issue.message };
}

/**
 * Parses and validates profile text. Errors name the file, the line and the field, all of them at
 * once: `ferry.yaml:7: arch[1]: Invalid option: expected one of "amd64"|"arm64"`.
 */
export function profileFromYaml(text: string, filename = 'ferry.yaml', baseDir?: string): Profile {
  const size = Buffer.byteLength(text);
  if (size > MAX_PROFILE_BYTES) throw tooBig(filename, size);
  const lc = new LineCounter();
  // YAML 1.1 like Ansible: `vars` are inventory variables and must type as group_vars would.
  const doc = parseDocument(text, {
    version: '1.1',
    lineCounter: lc,
    uniqueKeys: false,
    prettyErrors: false,
  });
  const dup = doc.errors.length ? undefined : duplicateKey(doc, lc);
  if (dup) {
    throw new FerryError('CONFIG', `${filename}:${dup.line}: Map keys must be unique ('${dup.key}')`, {
      artifact: filename,
      hint: 'Remove or rename the repeated key at that line.',
      details: { line: dup.line },
    });
  }
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = lc.linePos(e.pos[0]).line;
    throw new FerryError('CONFIG', `${filename}:${line}: ${e.message.split('\n')[0]}`, {
      artifact: filename,
      hint: 'Fix the YAML syntax at that line.',
      details: { line },
    });
  }
  // Expanding every alias once with a budget refuses an alias bomb at its line before toJS,
  // whose own limit below names neither file nor line.
  const where = { lineCounter: lc, source: filename };
  nodeToPy(doc.contents as Node | null, doc, where);
  const raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const parsed = ProfileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((iss) => {
      const d = describeIssue(iss);
      const where = d.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('')
        .replace(/^\./, '');
      if (d.unknown) {
        return d.unknown.map((k) => {
          const line = lineOf(doc, lc, d.path, k);
          const at = where ? `${where}: ` : '';
          return { line, text: `${filename}:${line ?? '?'}: ${at}unknown key '${k}'` };
        });
      }
      const line = lineOf(doc, lc, d.path);
      return [{ line, text: `${filename}:${line ?? '?'}: ${where ? where + ': ' : ''}${d.message}` }];
    });
    const flat = problems.flat().sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    throw new FerryError('CONFIG', flat.map((p) => p.text).join('\n'), {
      artifact: filename,
      hint: 'See docs/profile.md for the fields a profile takes; editors complete them with resources/ferry-profile.schema.json.',
      details: { issues: flat },
    });
  }
  const profile = parsed.data;
  const dir = path.resolve(baseDir ?? path.dirname(path.resolve(filename)));
  resolvePaths(profile, dir);
  const varsNode = doc.get('vars', true) as Node | undefined;
  const vars = varsNode ? nodeToPy(varsNode, doc, where) : null;
  info.set(profile, {
    file: filename ? path.resolve(filename) : '',
    dir,
    vars: vars instanceof PyDict ? vars : new PyDict(),
  });
  return profile;
}

function resolvePaths(p: Profile, dir: string): void {
  const abs = (x: string) =>
    x === '~' || x.startsWith('~/') ? path.join(os.homedir(), x.slice(1)) : path.resolve(dir, x);
  if (p.kubespray && typeof p.kubespray === 'object') {
    if ('dir' in p.kubespray) p.kubespray = { dir: abs(p.kubespray.dir) };
    else p.kubespray = { tarball: abs(p.kubespray.tarball) };
  }
  if (p.inventory) p.inventory = abs(p.inventory);
  if (p.authFile) p.authFile = abs(p.authFile);
  for (const r of Object.values(p.registries ?? {})) if (r.caFile) r.caFile = abs(r.caFile);
  for (const [k, v] of Object.entries(p.osPackages?.keyrings ?? {})) p.osPackages!.keyrings![k] = abs(v);
}

/** Reads and validates a profile file; relative paths inside it are resolved against its folder. */
export async function loadProfile(file: string): Promise<Profile> {
  const abs = path.resolve(file);
  let text: string;
  try {
    // Size first, from the open file: a 50 MB file is refused without reading it.
    const fh = await fs.open(abs, 'r');
    try {
      const { size } = await fh.stat();
      if (size > MAX_PROFILE_BYTES) throw tooBig(abs, size);
      text = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (err instanceof FerryError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new FerryError(
      e.code === 'ENOENT' ? 'NOT_FOUND' : 'IO',
      `Cannot read profile ${abs}: ${e.message}`,
      {
        artifact: abs,
        hint: e.code === 'ENOENT' ? 'Check the path given to --profile.' : undefined,
        cause: err,
      },
    );
  }
  return profileFromYaml(text, abs, path.dirname(abs));
}
