import type { Handlers } from '../dispatcher.js';
import type { PickPurpose } from '../picks.js';
import type { AppServices } from '../services.js';
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
  // No filters: entitlement files are NNN.pem / NNN-key.pem, a Satellite CA is .crt, and RPM keys
  // are usually named RPM-GPG-KEY-… with no extension at all.
  rpmClientCert: { title: 'Choose the client certificate for the RPM repositories (PEM)' },
  rpmClientKey: { title: 'Choose the key of the client certificate (PEM)' },
  rpmCa: { title: "Choose the CA certificate of the RPM repositories' hosts (PEM)" },
  rpmKey: { title: "Choose the RPM repository's signing key" },
};

/** dialog.*: the OS folder and file pickers; what is picked comes back as a token (picks.ts). */
export function dialogHandlers(s: AppServices): Pick<Handlers, 'dialog.pickFolder' | 'dialog.pickFile'> {
  return {
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
