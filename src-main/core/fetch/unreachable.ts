import type { ErrorValue } from '../base/errors/index.js';

/*
 * How the download layer's "unreachable" marks (a host that did not resolve, a proxy that
 * refused) are grouped for the summary: the CLI names each cause once, with its fix.
 */

/** A host that did not resolve or a proxy that could not be reached, and how many artifacts it cost. */
export interface UnreachableGroup {
  kind: 'host' | 'proxy';
  name: string;
  count: number;
  /** The error of the first artifact that hit it (they all carry the same message). */
  error: ErrorValue;
}

/** What the download layer marked unreachable, once per host or proxy, in the order first met. */
export function unreachableOf(error: ErrorValue): { kind: 'host' | 'proxy'; name: string } | undefined {
  const u = error.details?.unreachable as { kind?: unknown; name?: unknown } | undefined;
  if (!u || (u.kind !== 'host' && u.kind !== 'proxy') || typeof u.name !== 'string') return undefined;
  return { kind: u.kind, name: u.name };
}

export function unreachableGroups(failures: ReadonlyArray<{ error: ErrorValue }>): UnreachableGroup[] {
  const groups = new Map<string, UnreachableGroup>();
  for (const f of failures) {
    const u = unreachableOf(f.error);
    if (!u) continue;
    const key = `${u.kind} ${u.name}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { ...u, count: 1, error: f.error });
  }
  return [...groups.values()];
}
