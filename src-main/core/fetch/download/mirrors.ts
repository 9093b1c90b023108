import { FerryError } from '../../base/errors/index.js';

/**
 * URL-prefix mirrors: `https://github.com/` → `https://mirror.corp/github/`. They change where
 * the bytes come from, never what the bundle records (the original URL and its checksum), so a
 * bundle fetched through a mirror is identical to one fetched from upstream.
 */
export type MirrorMap = Record<string, string>;

/** Parse `FROM=TO` pairs from the command line. */
export function parseMirrorArgs(args: string[], flag = '--mirror'): MirrorMap {
  const out: MirrorMap = {};
  for (const a of args) {
    const i = a.indexOf('=');
    if (i <= 0 || i === a.length - 1) {
      throw new FerryError('USAGE', `${flag} '${a}' is not FROM=TO.`, {
        hint: `Example: ${flag} https://github.com/=https://mirror.example/github/`,
      });
    }
    out[a.slice(0, i)] = a.slice(i + 1);
  }
  return out;
}

export function checkMirrors(m: MirrorMap): void {
  for (const [from, to] of Object.entries(m)) {
    for (const u of [from, to]) {
      let p: URL;
      try {
        p = new URL(u);
      } catch {
        throw new FerryError('CONFIG', `The mirror '${from}' → '${to}' is not a pair of URLs.`, {
          hint: 'Both sides must be absolute http:// or https:// URL prefixes.',
        });
      }
      if (p.protocol !== 'http:' && p.protocol !== 'https:') {
        throw new FerryError('CONFIG', `The mirror '${from}' → '${to}' must use http:// or https://.`);
      }
    }
  }
}

/** The URL to download from: the longest matching prefix wins; no match leaves it unchanged. */
export function mirrorUrl(url: string, mirrors: MirrorMap | undefined): string {
  if (!mirrors) return url;
  let best: [string, string] | undefined;
  for (const [from, to] of Object.entries(mirrors)) {
    if (url.startsWith(from) && (!best || from.length > best[0].length)) best = [from, to];
  }
  return best ? best[1] + url.slice(best[0].length) : url;
}
