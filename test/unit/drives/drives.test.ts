import { describe, expect, it } from 'vitest';
import {
  diffDrives,
  driveFor,
  markSystem,
  staticDriveSource,
  watchDrives,
  type Drive,
} from '../../../src-main/core/media/drives/index.js';

const drive = (over: Partial<Drive>): Drive => ({
  id: over.mountPoint ?? 'x',
  device: '/dev/sdb1',
  label: 'USB',
  mountPoint: '/media/usb',
  size: 32e9,
  free: 30e9,
  fsType: 'exfat',
  removable: true,
  system: false,
  ...over,
});

describe('drives', () => {
  it('marks the root, the home folder and the data folder drives as system drives', () => {
    const ds = markSystem(
      [
        drive({ mountPoint: '/' }),
        drive({ mountPoint: '/home' }),
        drive({ mountPoint: '/media/usb' }),
        drive({ mountPoint: '/srv/data' }),
      ],
      ['/srv/data/ferry'],
    );
    expect(ds.map((d) => [d.mountPoint, d.system])).toEqual([
      ['/', true],
      ['/home', true],
      ['/media/usb', false],
      ['/srv/data', true],
    ]);
  });

  it('finds the drive holding a path by the longest mount point', () => {
    const ds = [drive({ mountPoint: '/' }), drive({ mountPoint: '/media/usb' })];
    expect(driveFor(ds, '/media/usb/kubespray')?.mountPoint).toBe('/media/usb');
    expect(driveFor(ds, '/media/usb2/x')?.mountPoint).toBe('/');
  });

  it('diffs two listings into added, removed and changed', () => {
    const a = drive({ mountPoint: '/media/a' });
    const b = drive({ mountPoint: '/media/b' });
    const c = drive({ mountPoint: '/media/c' });
    const d = diffDrives([a, b], [{ ...b, free: 1 }, c]);
    expect(d.added.map((x) => x.mountPoint)).toEqual(['/media/c']);
    expect(d.removed.map((x) => x.mountPoint)).toEqual(['/media/a']);
    expect(d.changed.map((x) => x.mountPoint)).toEqual(['/media/b']);
  });

  it('watches a source and reports a drive coming and going', async () => {
    let current: Drive[] = [];
    const source = staticDriveSource(() => current);
    const events: Array<{ added: string[]; removed: string[] }> = [];
    const ac = new AbortController();
    watchDrives(
      source,
      (c) =>
        events.push({ added: c.added.map((d) => d.mountPoint), removed: c.removed.map((d) => d.mountPoint) }),
      { intervalMs: 10, signal: ac.signal },
    );
    await new Promise((r) => setTimeout(r, 30));
    current = [drive({ mountPoint: '/media/stick' })];
    await new Promise((r) => setTimeout(r, 40));
    current = [];
    await new Promise((r) => setTimeout(r, 40));
    ac.abort();
    expect(events[0]).toEqual({ added: [], removed: [] });
    expect(events).toContainEqual({ added: ['/media/stick'], removed: [] });
    expect(events).toContainEqual({ added: [], removed: ['/media/stick'] });
  });
});
