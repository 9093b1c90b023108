/**
 * dpkg's version comparison, exactly as lib/dpkg/version.c does it: epoch numerically, then the
 * upstream version and the revision each by verrevcmp. Resolution compares versions millions of
 * times, so this works on char codes without splitting into objects.
 */

export interface DebVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

/** Splits epoch:upstream-revision the way dpkg's parseversion does (last hyphen, first colon). */
export function parseVersion(v: string): DebVersion {
  const s = v.trim();
  const colon = s.indexOf(':');
  let epoch = 0;
  let rest = s;
  if (colon >= 0) {
    epoch = Number(s.slice(0, colon));
    rest = s.slice(colon + 1);
  }
  const hyphen = rest.lastIndexOf('-');
  return hyphen >= 0
    ? { epoch, upstream: rest.slice(0, hyphen), revision: rest.slice(hyphen + 1) }
    : { epoch, upstream: rest, revision: '' };
}

/** dpkg's validity rules, so a malformed Version field is reported instead of silently ordered. */
export function versionError(v: string): string | undefined {
  if (v === '') return 'version string is empty';
  if (/\s/.test(v)) return 'version string has embedded spaces';
  const colon = v.indexOf(':');
  if (colon >= 0 && !/^\d+$/.test(v.slice(0, colon))) return 'epoch in version is not a number';
  const { upstream, revision } = parseVersion(v);
  if (upstream === '') return 'nothing after colon in version number';
  if (!/^[0-9]/.test(upstream)) return 'version number does not start with digit';
  if (/[^A-Za-z0-9.+~:-]/.test(upstream)) return 'invalid character in version number';
  if (v.includes('-') && revision === '') return 'revision number is empty';
  if (/[^A-Za-z0-9.+~]/.test(revision)) return 'invalid character in revision number';
  return undefined;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

// order(): digits sort as 0 (they end a non-digit run), letters by ASCII, '~' before everything
// including the end of the string, any other character after all letters.
function order(c: number): number {
  if (c === 0 || isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 126) return -1;
  return c + 256;
}

/** verrevcmp over s[from, to) ranges; reading past the end yields 0 as C's NUL does. */
function verrevcmp(a: string, ai: number, ae: number, b: string, bi: number, be: number): number {
  const at = (s: string, i: number, e: number): number => (i < e ? s.charCodeAt(i) : 0);
  while (ai < ae || bi < be) {
    let firstDiff = 0;
    for (;;) {
      const ca = at(a, ai, ae);
      const cb = at(b, bi, be);
      if (!((ca !== 0 && !isDigit(ca)) || (cb !== 0 && !isDigit(cb)))) break;
      const oa = order(ca);
      const ob = order(cb);
      if (oa !== ob) return oa - ob;
      ai++;
      bi++;
    }
    while (at(a, ai, ae) === 48) ai++;
    while (at(b, bi, be) === 48) bi++;
    for (;;) {
      const ca = at(a, ai, ae);
      const cb = at(b, bi, be);
      if (!(isDigit(ca) && isDigit(cb))) break;
      if (firstDiff === 0) firstDiff = ca - cb;
      ai++;
      bi++;
    }
    if (isDigit(at(a, ai, ae))) return 1;
    if (isDigit(at(b, bi, be))) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

interface Bounds {
  epoch: number;
  us: number; // upstream start
  ue: number; // upstream end (exclusive)
  rs: number; // revision start
  re: number;
}

function bounds(s: string): Bounds {
  const colon = s.indexOf(':');
  let epoch = 0;
  let us = 0;
  if (colon >= 0) {
    epoch = Number(s.slice(0, colon)) || 0;
    us = colon + 1;
  }
  const hyphen = s.lastIndexOf('-');
  if (hyphen >= us) return { epoch, us, ue: hyphen, rs: hyphen + 1, re: s.length };
  return { epoch, us, ue: s.length, rs: s.length, re: s.length };
}

/** Negative, zero or positive as `a` sorts before, equal to or after `b` (dpkg_version_compare). */
export function compareVersions(a: string, b: string): number {
  if (a === b) return 0;
  const x = bounds(a);
  const y = bounds(b);
  if (x.epoch !== y.epoch) return x.epoch > y.epoch ? 1 : -1;
  const u = verrevcmp(a, x.us, x.ue, b, y.us, y.ue);
  if (u !== 0) return u;
  return verrevcmp(a, x.rs, x.re, b, y.rs, y.re);
}

export type RelationOp = '<<' | '<=' | '=' | '>=' | '>>';

/** Whether `version` satisfies `op ref`, with dpkg's meaning of each operator. */
export function satisfiesVersion(version: string, op: RelationOp, ref: string): boolean {
  const c = compareVersions(version, ref);
  switch (op) {
    case '<<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '=':
      return c === 0;
    case '>=':
      return c >= 0;
    case '>>':
      return c > 0;
  }
}
