import type { Drive as CoreDrive } from '../../core/media/drives/index.js';
import type { Drive } from '../contract.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { driveNotes } from '../../core/media/drives/notes.js';
/** drives.list: the removable drives, with the notes the export step shows. */
export function drivesHandlers(s: AppServices): Pick<Handlers, 'drives.list'> {
  return {
    'drives.list': async () => (await s.drives.list()).map(driveView),
  };
}

export function driveView(d: CoreDrive): Drive {
  const warnings = driveNotes(d);
  return {
    id: d.id,
    label: d.label,
    mount: d.mountPoint,
    fsType: d.fsType || 'unknown',
    size: d.size,
    free: d.free,
    removable: d.removable,
    warnings,
  };
}
