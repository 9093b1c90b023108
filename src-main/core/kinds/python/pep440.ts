import { compare, satisfies, valid, validRange, explain } from '@renovatebot/pep440';

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

/**
 * Does `version` satisfy `spec`? An empty spec matches anything. Pre-releases match only when
 * asked (pip's default: a pre-release is chosen when the user pins one, PEP 440 "Handling of
 * pre-releases").
 */
export function satisfiesSpec(version: string, spec: string, prereleases = false): boolean {
  const s = normalizeSpecifier(spec);
  if (s === '') return prereleases || !isPrerelease(version);
  // `===` is string identity (PEP 440 arbitrary equality), which the library does not cover.
  if (s.includes('===')) {
    return s
      .split(',')
      .every((part) =>
        part.startsWith('===')
          ? part.slice(3).toLowerCase() === version.toLowerCase()
          : satisfies(version, part, { prereleases: true }),
      );
  }
  return satisfies(version, s, { prereleases });
}

/** A spec that names a pre-release (`==2.0rc1`, `>=1.0b2`) lets pre-releases match, as pip does. */
export function specAllowsPrereleases(spec: string): boolean {
  return normalizeSpecifier(spec)
    .split(',')
    .some((part) => {
      const v = part.replace(/^(===|~=|==|!=|<=|>=|<|>)/, '').replace(/\.\*$/, '');
      return isVersion(v) && isPrerelease(v) && !part.startsWith('!=');
    });
}
