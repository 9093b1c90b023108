import fs from 'node:fs/promises';
import { FerryError } from '../../core/base/errors/index.js';
import { writeFileAtomic } from '../../core/base/fs/atomic.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';

const MAX_KEY_FILE = 16 * 1024;

export function keyHandlers(
  s: AppServices,
): Pick<
  Handlers,
  'keys.list' | 'keys.generate' | 'keys.exportPublic' | 'keys.trust' | 'keys.trustFile' | 'keys.untrust'
> {
  return {
    'keys.list': () => s.keyStore.list(),
    'keys.generate': ({ name, force }) => s.keyStore.generate({ ...(name ? { name } : {}), force }),
    'keys.exportPublic': async () => {
      const own = await s.keyStore.ownKey();
      if (!own)
        throw new FerryError('NOT_FOUND', 'This machine has no signing key yet.', {
          hint: 'Generate one first (Settings → Keys).',
        });
      const target = await s.dialogs.saveFile({
        title: 'Save the public key',
        defaultName: `ferry-${own.fingerprint}.pub`,
      });
      if (!target) return { saved: null };
      await writeFileAtomic(target, own.publicKeyPem);
      return { saved: target };
    },
    'keys.trust': ({ pem, name }) =>
      s.keyStore.trust(pem, { ...(name ? { name } : {}), source: 'pasted key' }),
    'keys.trustFile': async () => {
      const file = await s.dialogs.pickFile({
        purpose: 'key',
        title: 'Choose a public key to trust',
        extensions: ['pub', 'pem'],
      });
      if (!file) return null;
      const st = await fs.stat(file);
      if (!st.isFile() || st.size > MAX_KEY_FILE) {
        throw new FerryError('CONFIG', `${file} is not a public key file (too large or not a file).`, {
          artifact: file,
        });
      }
      return s.keyStore.trust(await fs.readFile(file, 'utf8'), { source: file });
    },
    'keys.untrust': async ({ fingerprint }) => ({ removed: await s.keyStore.untrust(fingerprint) }),
  };
}
