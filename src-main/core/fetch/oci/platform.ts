import { FerryError } from '../../base/errors/index.js';

/** Platforms as Kubespray and containerd write them: 'linux/amd64', 'linux/arm64/v8', 'linux/arm/v7'. */
export interface Platform {
  os: string;
  architecture: string;
  /** Undefined as well as absent: index entries parsed by zod give it that way. */
  variant?: string | undefined;
}

export function parsePlatform(s: string): Platform {
  const parts = s.trim().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/i.test(p))) {
    throw new FerryError('USAGE', `'${s}' is not a platform.`, {
      hint: "Write it as os/architecture[/variant], e.g. 'linux/amd64'.",
    });
  }
  return { os: parts[0], architecture: parts[1], ...(parts[2] ? { variant: parts[2] } : {}) };
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** Variants that mean the same thing when absent (as containerd normalises them). */
function normVariant(arch: string, v: string | undefined): string | undefined {
  if (arch === 'arm64' && (v === undefined || v === 'v8')) return 'v8';
  return v;
}

export function platformMatches(want: Platform, have: Platform | undefined): boolean {
  if (!have) return false;
  if (want.os !== have.os || want.architecture !== have.architecture) return false;
  if (want.variant === undefined) return true;
  return normVariant(want.architecture, want.variant) === normVariant(have.architecture, have.variant);
}

/**
 * Pick one index entry per wanted platform. Without a variant the first matching entry wins,
 * except for 32-bit arm, where v7 is what nodes run.
 */
export function selectPlatforms<T extends { platform?: Platform | undefined }>(
  entries: T[],
  wanted: Platform[],
): Array<{ want: Platform; entry: T | undefined }> {
  return wanted.map((want) => {
    const matches = entries.filter((e) => platformMatches(want, e.platform));
    let entry = matches[0];
    if (!want.variant && want.architecture === 'arm')
      entry = matches.find((e) => e.platform?.variant === 'v7') ?? entry;
    return { want, entry };
  });
}
