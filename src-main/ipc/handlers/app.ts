import { FerryError } from '../../core/base/errors/index.js';
import { OPEN_EXTERNAL_ALLOWLIST } from '../contract.js';
import type { Handlers } from '../dispatcher.js';
import type { PickPurpose } from '../picks.js';
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

const FOLDER_TITLES: Record<string, string> = {
  kubespray: 'Choose a Kubespray folder',
  inventory: 'Choose an inventory folder',
  bundle: 'Choose a bundle folder',
  export: 'Choose where to export the bundle',
  store: 'Choose the store folder',
};
const FILE_TITLES: Record<string, { title: string; extensions?: string[] }> = {
  key: { title: 'Choose a public key to trust', extensions: ['pub', 'pem'] },
  sshKey: { title: 'Choose the SSH private key for the nodes' },
};

export function appHandlers(
  s: AppServices,
): Pick<
  Handlers,
  'app.info' | 'app.openExternal' | 'app.copyText' | 'dialog.pickFolder' | 'dialog.pickFile'
> {
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
    'dialog.pickFolder': async ({ purpose }) => {
      const p = await s.dialogs.pickFolder({ purpose, title: FOLDER_TITLES[purpose] });
      return p ? s.picks.add(p, purpose as PickPurpose, 'folder') : null;
    },
    'dialog.pickFile': async ({ purpose }) => {
      const t = FILE_TITLES[purpose];
      const p = await s.dialogs.pickFile({ purpose, title: t.title, extensions: t.extensions });
      return p ? s.picks.add(p, purpose as PickPurpose, 'file') : null;
    },
  };
}
