import type { Artifact } from '../../bundle/manifest.js';

/**
 * The served URL path of each `deb` artifact stored under another OS's folder (a file two OSes
 * share is kept once): [`repos/<os>/pool/…`, the bundle path holding it]. Its own OS's Packages
 * index names it by the same pool path, so apt on that OS finds it under its own repository.
 */
export function sharedDebUrls(artifacts: readonly Artifact[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const a of artifacts) {
    if (a.kind !== 'deb' || a.paths.length !== 1) continue;
    const stored = a.paths[0];
    const own = `repos/${a.os}/${stored.split('/').slice(2).join('/')}`;
    if (own !== stored) out.push([own, stored]);
  }
  return out;
}
