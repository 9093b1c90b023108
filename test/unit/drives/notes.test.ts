import { describe, expect, it } from 'vitest';
import { driveLines } from '../../../src-main/cli/commands/drives.js';
import { driveView } from '../../../src-main/ipc/handlers/drives.js';
import type { Drive } from '../../../src-main/core/media/drives/index.js';
import { driveNotes } from '../../../src-main/core/media/drives/notes.js';

const stick: Drive = {
  id: '/dev/sdb1@/media/USB',
  device: '/dev/sdb1',
  label: 'USB',
  mountPoint: '/media/USB',
  size: 16e9,
  free: 15e9,
  fsType: 'vfat',
  removable: true,
  system: false,
};

describe('what a drive list says about each drive', () => {
  it('FAT32 (vfat, msdos…) splits files over 4 GiB; exFAT and NTFS do not', () => {
    for (const fsType of ['vfat', 'fat32', 'msdos'])
      expect(driveNotes({ ...stick, fsType })).toEqual([
        'FAT32: files over 4 GiB are split into parts; exFAT or NTFS avoids that.',
      ]);
    for (const fsType of ['exfat', 'ntfs', 'ext4']) expect(driveNotes({ ...stick, fsType })).toEqual([]);
  });

  it('a system drive and a fixed disk are marked', () => {
    expect(driveNotes({ ...stick, fsType: 'ext4', system: true, removable: false })).toEqual([
      'This drive holds the system or your home folder.',
      'Not a removable drive.',
    ]);
  });

  it('the app and `ferry drives` say the same', () => {
    const d = { ...stick, system: true };
    expect(driveView(d).warnings).toEqual(driveNotes(d));
    const lines = driveLines(d);
    expect(lines[0]).toMatch(
      /\/media\/USB\s+USB\s+vfat\s+14\.0 GiB free of 14\.9 GiB\s+\/dev\/sdb1 removable SYSTEM$/,
    );
    expect(lines.slice(1).map((l) => l.trim())).toEqual(driveNotes(d));
  });
});
