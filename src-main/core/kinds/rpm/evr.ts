/**
 * rpm's version ordering and dependency range matching, as rpmio/rpmvercmp.c and rpmver.c's
 * rpmverOverlap define them (which libsolv, and so dnf, reproduces). The resolver compares
 * versions hundreds of thousands of times on a 20k-package primary, so rpmvercmp walks char
 * codes in place instead of splitting strings into segment arrays.
 */
import type { RpmDep, RpmEvr, RpmFlag } from './package.js';

const TILDE = 126;
const CARET = 94;

// rpm's risdigit/risalpha are ASCII-only (rpmio/rpmstring.h), not locale ctype: a non-ASCII
// character is a separator, exactly like '.' or '_'.
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isAlnum = (c: number): boolean => isDigit(c) || isAlpha(c);

/**
 * rpmvercmp(a, b): -1, 0 or 1. Segments are maximal runs of digits or of letters; anything else
 * separates. '~' sorts before everything, even the end of the string (1.0~rc1 < 1.0); '^' sorts
 * after the end of the string but before any further segment (1.0 < 1.0^git1 < 1.0.1). A numeric
 * segment is newer than an alpha one; numbers compare without leading zeros, by length first, so
 * arbitrarily long digit runs never overflow.
 */
export function rpmvercmp(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  const la = a.length;
  const lb = b.length;
  // c(i) past the end is 0, as C's NUL terminator.
  let i = 0;
  let j = 0;
  for (;;) {
    let ca = i < la ? a.charCodeAt(i) : 0;
    let cb = j < lb ? b.charCodeAt(j) : 0;
    if (ca === 0 && cb === 0) break;
    while (ca !== 0 && !isAlnum(ca) && ca !== TILDE && ca !== CARET) ca = ++i < la ? a.charCodeAt(i) : 0;
    while (cb !== 0 && !isAlnum(cb) && cb !== TILDE && cb !== CARET) cb = ++j < lb ? b.charCodeAt(j) : 0;

    if (ca === TILDE || cb === TILDE) {
      if (ca !== TILDE) return 1;
      if (cb !== TILDE) return -1;
      i++;
      j++;
      continue;
    }
    // Caret is tilde's mirror: a string that ended (the base version) is older than one that
    // continues with '^' (a snapshot after it).
    if (ca === CARET || cb === CARET) {
      if (ca === 0) return -1;
      if (cb === 0) return 1;
      if (ca !== CARET) return 1;
      if (cb !== CARET) return -1;
      i++;
      j++;
      continue;
    }
    if (ca === 0 || cb === 0) break;

    let ei = i;
    let ej = j;
    const isnum = isDigit(ca);
    if (isnum) {
      while (ei < la && isDigit(a.charCodeAt(ei))) ei++;
      while (ej < lb && isDigit(b.charCodeAt(ej))) ej++;
    } else {
      while (ei < la && isAlpha(a.charCodeAt(ei))) ei++;
      while (ej < lb && isAlpha(b.charCodeAt(ej))) ej++;
    }
    // b's segment is empty when it is of the other type: numeric beats alpha.
    if (ej === j) return isnum ? 1 : -1;
    let si = i;
    let sj = j;
    if (isnum) {
      while (si < ei && a.charCodeAt(si) === 48) si++;
      while (sj < ej && b.charCodeAt(sj) === 48) sj++;
      const di = ei - si;
      const dj = ej - sj;
      if (di > dj) return 1;
      if (dj > di) return -1;
    }
    // strcmp over the two segments (equal-length for numbers; for letters the shorter prefix loses).
    while (si < ei && sj < ej) {
      const x = a.charCodeAt(si);
      const y = b.charCodeAt(sj);
      if (x !== y) return x < y ? -1 : 1;
      si++;
      sj++;
    }
    if (si < ei) return 1;
    if (sj < ej) return -1;
    i = ei;
    j = ej;
  }
  // Every segment matched; the separators differed ('1.0' vs '1_0'), or one string has more.
  const endA = i >= la;
  const endB = j >= lb;
  if (endA && endB) return 0;
  return endA ? -1 : 1;
}

/**
 * Epoch numerically, then version, then release, each by rpmvercmp (rpm's rpmverCmp). A release
 * of '' means "none" (an EVR string without '-'): it sorts below any present release, even '~1',
 * as rpmverCmp does; package headers always carry one, so this only orders parsed strings.
 */
export function compareEvr(a: RpmEvr, b: RpmEvr): -1 | 0 | 1 {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  const v = rpmvercmp(a.version, b.version);
  if (v !== 0) return v;
  if (a.release === '' || b.release === '') return a.release === b.release ? 0 : a.release === '' ? -1 : 1;
  return rpmvercmp(a.release, b.release);
}

/**
 * Parses '[epoch:]version[-release]' as rpm's rpmverParse does: the epoch ends at the first ':'
 * if everything before it is digits, the release starts after the last '-'. A missing release
 * is '' (which depMatches treats as "any release"), a missing epoch 0.
 */
export function parseEvr(s: string): RpmEvr {
  let rest = s.trim();
  let epoch = 0;
  const colon = rest.indexOf(':');
  if (colon > 0 && /^\d+$/.test(rest.slice(0, colon))) {
    epoch = Number(rest.slice(0, colon));
    rest = rest.slice(colon + 1);
  }
  const hyphen = rest.lastIndexOf('-');
  if (hyphen < 0) return { epoch, version: rest, release: '' };
  return { epoch, version: rest.slice(0, hyphen), release: rest.slice(hyphen + 1) };
}

/** 'epoch:version-release', omitting epoch 0 the way rpm and dnf print NEVRAs. */
export function formatEvr(e: { epoch?: number; version?: string; release?: string }): string {
  const ep = e.epoch ? `${e.epoch}:` : '';
  const rel = e.release ? `-${e.release}` : '';
  return `${ep}${e.version ?? ''}${rel}`;
}

const LESS = 2;
const GREATER = 4;
const EQUAL = 8;
const SENSE: Record<RpmFlag, number> = {
  EQ: EQUAL,
  LT: LESS,
  LE: LESS | EQUAL,
  GT: GREATER,
  GE: GREATER | EQUAL,
};

/**
 * Whether the range a provide offers overlaps the range a requirement asks for (rpm's
 * rpmdsCompare → rpmverOverlap). Names must be equal; an unversioned side overlaps everything;
 * a missing epoch is 0; when only one side has a release, it matches any release if the side
 * without one includes equality ('foo >= 1.0' accepts foo-1.0-3, 'foo > 1.0' does not).
 */
export function depMatches(req: RpmDep, prov: RpmDep): boolean {
  if (req.name !== prov.name) return false;
  return rangeOverlap(req, prov);
}

/** depMatches without the name test, for callers that already indexed by name. */
export function rangeOverlap(req: RpmDep, prov: RpmDep): boolean {
  if (!req.flags || !prov.flags) return true;
  if (req.ver === undefined || req.ver === '' || prov.ver === undefined || prov.ver === '') return true;
  const f1 = SENSE[prov.flags];
  const f2 = SENSE[req.flags];
  let sense: number;
  const e1 = prov.epoch ?? 0;
  const e2 = req.epoch ?? 0;
  if (e1 !== e2) sense = e1 < e2 ? -1 : 1;
  else {
    sense = rpmvercmp(prov.ver, req.ver);
    if (sense === 0) {
      const r1 = prov.rel ?? '';
      const r2 = req.rel ?? '';
      if (r1 !== '' && r2 !== '') sense = rpmvercmp(r1, r2);
      else if ((r1 !== '' && f2 & EQUAL) || (r2 !== '' && f1 & EQUAL)) return true;
    }
  }
  if (sense < 0) return (f1 & GREATER) !== 0 || (f2 & LESS) !== 0;
  if (sense > 0) return (f1 & LESS) !== 0 || (f2 & GREATER) !== 0;
  return (
    ((f1 & EQUAL) !== 0 && (f2 & EQUAL) !== 0) ||
    ((f1 & LESS) !== 0 && (f2 & LESS) !== 0) ||
    ((f1 & GREATER) !== 0 && (f2 & GREATER) !== 0)
  );
}

/** A package's own name = EVR provide, as rpm adds implicitly (primary lists it too). */
export function selfProvide(p: { name: string } & RpmEvr): RpmDep {
  return { name: p.name, flags: 'EQ', epoch: p.epoch, ver: p.version, rel: p.release };
}

/** 'name >= 1:2.0-3' for messages. */
export function formatDep(d: RpmDep): string {
  if (!d.flags) return d.name;
  const op = { EQ: '=', LT: '<', LE: '<=', GT: '>', GE: '>=' }[d.flags];
  return `${d.name} ${op} ${formatEvr({ epoch: d.epoch ?? 0, version: d.ver ?? '', release: d.rel ?? '' })}`;
}
