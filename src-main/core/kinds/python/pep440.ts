import { compare, valid, validRange, explain } from '@renovatebot/pep440';

/**
 * PEP 440 for the resolver, on @renovatebot/pep440 (a port of packaging.version/specifiers).
 * Kept behind these few functions so the resolver and the marker evaluator agree on one reading
 * of a version, and so the property test against Debian's python3-packaging checks exactly what
 * they use.
 */

/** PEP 503 normalized project name: runs of `-_.` become `-`, lower case. */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

export function isVersion(v: string): boolean {
  return valid(v) !== null;
}

/** -1, 0, 1 by PEP 440 ordering (epoch, release, pre, post, dev, local). */
export function compareVersions(a: string, b: string): number {
  return compare(a, b);
}

export function isPrerelease(v: string): boolean {
  const e = explain(v);
  return !!e && (e.is_prerelease || e.is_devrelease);
}

/** Specifier sets as written in metadata: ', '-separated, whitespace anywhere. */
export function normalizeSpecifier(spec: string): string {
  return spec
    .split(',')
    .map((s) => s.replace(/\s+/g, ''))
    .filter(Boolean)
    .join(',');
}

export function isSpecifier(spec: string): boolean {
  const s = normalizeSpecifier(spec);
  return s === '' || validRange(s);
}

/** A version's canonical text with the release's trailing zeros dropped (packaging's canonicalize_version). */
function canonical(v: string, stripTrailingZero = true): string {
  const e = explain(v);
  if (!e) return v;
  let out = e.epoch ? `${e.epoch}!` : '';
  const release = e.release.join('.');
  out += stripTrailingZero ? release.replace(/(\.0)+$/, '') : release;
  if (e.pre) out += e.pre.join('');
  if (e.post !== null) out += `.post${e.post}`;
  if (e.dev !== null) out += `.dev${e.dev}`;
  if (e.local) out += `+${e.local}`;
  return out;
}

/** packaging's _version_split: dots, with `1rc1`-style items cut into release and pre parts. */
function versionSplit(v: string): string[] {
  const out: string[] = [];
  for (const item of v.split('.')) {
    const m = /^([0-9]+)((?:a|b|c|rc)[0-9]+)$/.exec(item);
    if (m) out.push(m[1], m[2]);
    else out.push(item);
  }
  return out;
}

/** packaging's _pad_version: zeros appended to the shorter release part. */
function padVersion(left: string[], right: string[]): [string[], string[]] {
  const lRelease = takeDigits(left);
  const rRelease = takeDigits(right);
  const zeros = (n: number) => Array<string>(Math.max(0, n)).fill('0');
  return [
    [...lRelease, ...zeros(rRelease.length - lRelease.length), ...left.slice(lRelease.length)],
    [...rRelease, ...zeros(lRelease.length - rRelease.length), ...right.slice(rRelease.length)],
  ];
}

function takeDigits(xs: string[]): string[] {
  const out: string[] = [];
  for (const x of xs) {
    if (!/^\d+$/.test(x)) break;
    out.push(x);
  }
  return out;
}

const pub = (v: string) => explain(v)?.public ?? v;
const base = (v: string) => explain(v)?.base_version ?? v;

/** One clause (`>=1.0`, `==2.*`, `~=1.4.2`) as packaging 23.0's Specifier judges it. */
function clauseContains(version: string, clause: string): boolean {
  const m = /^(~=|===|==|!=|<=|>=|<|>)(.+)$/.exec(clause);
  if (!m) return false;
  const [, op, spec] = m;
  const e = explain(version);
  if (!e) return false;
  switch (op) {
    case '===':
      return canonicalText(version).toLowerCase() === spec.toLowerCase();
    case '~=': {
      const split = versionSplit(spec);
      const cut = split.findIndex((x) => /^(dev|a|b|rc|post)/.test(x));
      const parts = cut < 0 ? split : split.slice(0, cut);
      const prefix = parts.slice(0, -1).join('.') + '.*';
      return clauseContains(version, '>=' + spec) && clauseContains(version, '==' + prefix);
    }
    case '==':
    case '!=': {
      let eq: boolean;
      if (spec.endsWith('.*')) {
        const splitSpec = versionSplit(canonical(spec.slice(0, -2), false));
        const [padded] = padVersion(versionSplit(canonical(pub(version))), splitSpec);
        eq = padded.slice(0, splitSpec.length).join('.') === splitSpec.join('.');
      } else {
        const s = explain(spec);
        eq = !!s && compare(s.local ? version : pub(version), spec) === 0;
      }
      return op === '==' ? eq : !eq;
    }
    case '<=':
      return compare(pub(version), spec) <= 0;
    case '>=':
      return compare(pub(version), spec) >= 0;
    case '<': {
      if (!(compare(version, spec) < 0)) return false;
      if (!isPrerelease(spec) && isPrerelease(version) && compare(base(version), base(spec)) === 0)
        return false;
      return true;
    }
    case '>': {
      if (!(compare(version, spec) > 0)) return false;
      const s = explain(spec);
      if (s && !s.is_postrelease && e.is_postrelease && compare(base(version), base(spec)) === 0)
        return false;
      if (e.local && compare(base(version), base(spec)) === 0) return false;
      return true;
    }
  }
  return false;
}

function canonicalText(v: string): string {
  const e = explain(v);
  return e ? e.public + (e.local ? `+${e.local}` : '') : v;
}

/**
 * Does `version` satisfy `spec`? An empty spec matches anything. Pre-releases match only when
 * asked (pip's default: a pre-release is chosen when the user pins one, PEP 440 "Handling of
 * pre-releases"). Each clause is judged as packaging 23.0 does (the property test holds it to
 * Debian's python3-packaging), on @renovatebot/pep440's parse and ordering.
 */
export function satisfiesSpec(version: string, spec: string, prereleases = false): boolean {
  if (!isVersion(version)) return false;
  if (!prereleases && isPrerelease(version)) return false;
  const s = normalizeSpecifier(spec);
  if (s === '') return true;
  return s.split(',').every((c) => clauseContains(version, c));
}

/**
 * A spec that names a pre-release with an inclusive operator (`==2.0rc1`, `>=1.0b2`, not `<2.0b1`
 * or `!=`) lets pre-releases match, as packaging's `SpecifierSet.prereleases` says.
 */
export function specAllowsPrereleases(spec: string): boolean {
  return normalizeSpecifier(spec)
    .split(',')
    .some((part) => {
      const m = /^(===|~=|==|<=|>=)(.*)$/.exec(part);
      if (!m) return false;
      const v = m[1] === '==' ? m[2].replace(/\.\*$/, '') : m[2];
      return isVersion(v) && isPrerelease(v);
    });
}
