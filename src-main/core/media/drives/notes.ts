import { maxFileSize } from '../export/target.js';
import type { Drive } from './index.js';

/**
 * What a technician should know about a drive before exporting to it, in the app's drive list and
 * `ferry drives` alike: FAT32 splits large files (the export's own limit, from export/target), a
 * system drive is refused without --force, and a fixed disk is probably not the stick they meant.
 */
export function driveNotes(d: Pick<Drive, 'fsType' | 'system' | 'removable'>): string[] {
  const notes: string[] = [];
  if (maxFileSize(d.fsType) !== null)
    notes.push('FAT32: files over 4 GiB are split into parts; exFAT or NTFS avoids that.');
  if (d.system) notes.push('This drive holds the system or your home folder.');
  if (!d.removable) notes.push('Not a removable drive.');
  return notes;
}
