import { existsSync } from 'node:fs';
import { cachedTarballPath, tarballUrl } from './catalog/index.js';

/**
 * Kubespray releases this build's catalog is tested against, newest first (the shared data in
 * test/…/kubespray holds each one's roles). The app's version picker and
 * `ferry plan --list-releases` both list these; any other tag still plans, untested.
 */
export const KNOWN_RELEASES = ['v2.31.0', 'v2.30.0', 'v2.29.1', 'v2.28.1', 'v2.27.1', 'v2.26.1'] as const;

export interface KnownRelease {
  version: string;
  newest: boolean;
  /** Its release tarball is in the cache: planning by this tag needs no network. */
  cached: boolean;
  /** Where planning by this tag downloads it from when it is not cached. */
  url: string;
}

export function knownReleases(opts: { env?: NodeJS.ProcessEnv; cacheDir?: string } = {}): KnownRelease[] {
  return KNOWN_RELEASES.map((version, i) => ({
    version,
    newest: i === 0,
    cached: existsSync(cachedTarballPath(version, opts)),
    url: tarballUrl(version),
  }));
}
