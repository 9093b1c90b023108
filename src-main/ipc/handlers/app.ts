import { FerryError } from '../../core/base/errors/index.js';
import { OPEN_EXTERNAL_ALLOWLIST } from '../contract.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { MODULES } from './modules.js';
/** Only https URLs under an allowlisted prefix (at a path boundary) go to the OS browser. */
export function externalAllowed(raw: string): boolean {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return false;
  }
  if (u.protocol !== 'https:' || u.username || u.password) return false;
  const href = u.href;
  return OPEN_EXTERNAL_ALLOWLIST.some(
    (p) => href === p || href.startsWith(p.endsWith('/') ? p : p + '/') || href === p + '/',
  );
}

export function appHandlers(
  s: AppServices,
): Pick<Handlers, 'app.info' | 'app.openExternal' | 'app.copyText'> {
  return {
    'app.info': () => ({ version: s.version, platform: s.platform, modules: { ...MODULES } }),
    'app.openExternal': async ({ url }) => {
      if (!externalAllowed(url)) {
        throw new FerryError('USAGE', `Ferry opens only its documentation links, not ${url.slice(0, 200)}.`, {
          artifact: url.slice(0, 200),
        });
      }
      await s.openExternal(url);
      return { opened: true };
    },
    'app.copyText': async ({ text }) => {
      await s.copyText(text);
      return { copied: true };
    },
  };
}
