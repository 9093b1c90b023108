import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';

export function settingsHandlers(
  s: AppServices,
): Pick<Handlers, 'settings.get' | 'settings.set' | 'settings.pickStore'> {
  return {
    'settings.get': () => s.settings.get(),
    'settings.set': (patch) => s.settings.update(patch),
    'settings.pickStore': async () => {
      const dir = await s.dialogs.pickFolder({ purpose: 'store', title: 'Choose the store folder' });
      return dir ? s.settings.update({ storeDir: dir }) : s.settings.get();
    },
  };
}
