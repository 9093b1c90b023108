import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { Drive } from '../../../src-main/ipc/contract.js';
import {
  DriveList,
  DrivesAtRisk,
  drivesAtRisk,
} from '../../../src-renderer/src/views/connected/DriveStep.js';

/**
 * The drive is chosen after the download; whether the inserted drives will hold the bundle is
 * said before it starts (the download step), by the same rule the drive list warns with.
 */

const GiB = 2 ** 30;
const drive = (id: string, free: number, fsType: string, removable = true): Drive => ({
  id,
  label: id.toUpperCase(),
  mount: `/media/${id}`,
  fsType,
  size: 64 * GiB,
  free,
  removable,
  warnings: [],
});
const drives = [
  drive('small', 2 * GiB, 'exfat'),
  drive('fat', 60 * GiB, 'vfat'),
  drive('good', 60 * GiB, 'exfat'),
  // A fixed disk is no place for the bundle to travel on: not listed.
  drive('disk', 1 * GiB, 'ext4', false),
];

describe('drives that will not hold the bundle, before downloading', () => {
  it('names too small drives and FAT32 drives when a file is 4 GiB or more', () => {
    const need = { bytes: 10 * GiB, largestFile: 5 * GiB };
    const risky = drivesAtRisk(drives, need);
    expect(risky.map((r) => r.drive.id)).toEqual(['small', 'fat']);
    expect(risky[0].why.join()).toMatch(/needs 10(\.0)? GiB; this drive has 2(\.0)? GiB free/);
    expect(risky[1].why.join()).toMatch(/FAT32 cannot hold a file of 5(\.0)? GiB/);

    const html = renderToStaticMarkup(<DrivesAtRisk drives={drives} need={need} />);
    expect(html).toContain('These 2 drives will not hold the bundle');
    expect(html).toContain('SMALL');
    expect(html).toContain('FAT');
    expect(html).not.toContain('GOOD');
    expect(html).not.toContain('DISK');
  });

  it('the same words as the drive list: one rule', () => {
    const need = { bytes: 10 * GiB, largestFile: 5 * GiB };
    const list = renderToStaticMarkup(<DriveList drives={drives} onSelect={() => undefined} need={need} />);
    for (const r of drivesAtRisk(drives, need)) for (const w of r.why) expect(list).toContain(w);
  });

  it('while some artifact is not sized, what is known is a lower bound that still rules a drive out', () => {
    const risky = drivesAtRisk(drives, { bytes: null, knownBytes: 3 * GiB, largestFile: 1 * GiB });
    expect(risky.map((r) => r.drive.id)).toEqual(['small']);
    expect(risky[0].why.join()).toMatch(/at least 3(\.0)? GiB/);
  });

  it('says nothing before the sizes are known, or when every drive will do', () => {
    expect(renderToStaticMarkup(<DrivesAtRisk drives={drives} />)).toBe('');
    expect(
      renderToStaticMarkup(<DrivesAtRisk drives={drives} need={{ bytes: 1 * GiB, largestFile: GiB / 2 }} />),
    ).toBe('');
  });
});
