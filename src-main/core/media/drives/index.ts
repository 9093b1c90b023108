import path from 'node:path';
import { z } from 'zod';

/**
 * Removable drives, for the export target picker. The listing comes from a `DriveSource` so the
 * app and CLI use systeminformation while tests present drives backed by real folders and
 * file-system images (on CI machines nothing is ever reported as removable USB).
 */

export const DriveSchema = z.object({
  /** Stable while the drive stays plugged in: device plus mount point. */
  id: z.string(),
  device: z.string(),
  label: z.string(),
  mountPoint: z.string(),
  /** Bytes. */
  size: z.number().nonnegative(),
  free: z.number().nonnegative(),
  /** Lower-case file system name as the OS reports it: vfat, exfat, ntfs, ext4, fuseblk, apfs… */
  fsType: z.string(),
  removable: z.boolean(),
  /** Holds the OS, the user's home or Ferry's own data: never a target unless forced. */
  system: z.boolean(),
});
export type Drive = z.infer<typeof DriveSchema>;

export interface DriveSource {
  list(): Promise<Drive[]>;
}

/** Mount points that belong to the running system on each OS. */
const SYSTEM_MOUNTS = new Set([
  '/',
  '/boot',
  '/boot/efi',
  '/usr',
  '/var',
  '/home',
  '/System/Volumes/Data',
  '/System/Volumes/VM',
  '/System/Volumes/Preboot',
]);

export function isSystemMount(mountPoint: string): boolean {
  if (SYSTEM_MOUNTS.has(mountPoint)) return true;
  // Windows: the drive the OS boots from.
  if (/^[A-Za-z]:\\?$/.test(mountPoint)) {
    const sysDrive = (process.env.SystemDrive ?? 'C:').toUpperCase();
    return mountPoint.slice(0, 2).toUpperCase() === sysDrive;
  }
  return false;
}

/** The longest mount point that contains `p`. */
export function containingMount(mountPoints: string[], p: string): string | undefined {
  const target = path.resolve(p);
  let best: string | undefined;
  for (const m of mountPoints) {
    const rel = path.relative(m, target);
    const inside = rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
    if (inside && (best === undefined || m.length > best.length)) best = m;
  }
  return best;
}

/** The drive a path lives on, if any listed drive contains it. */
export function driveFor(drives: Drive[], p: string): Drive | undefined {
  const m = containingMount(
    drives.map((d) => d.mountPoint),
    p,
  );
  return drives.find((d) => d.mountPoint === m);
}

/**
 * The OS's drives through systeminformation: mounted file systems (fsSize) joined with block
 * devices (blockDevices) for label, removability and the real file system of FUSE mounts.
 * `homes` are paths whose drive counts as a system drive (home, Ferry's data dir).
 */
export function systemDriveSource(homes: string[] = []): DriveSource {
  return {
    async list(): Promise<Drive[]> {
      const si = await import('systeminformation');
      const [sizes, blocks] = await Promise.all([si.fsSize(), si.blockDevices()]);
      const drives: Drive[] = [];
      for (const s of sizes) {
        if (!s.mount) continue;
        const block = blocks.find((b) => b.mount === s.mount || b.name === s.fs || `/dev/${b.name}` === s.fs);
        const fsType = (block?.fsType || s.type || '').toLowerCase();
        const removable = !!block?.removable || /usb/i.test(block?.protocol ?? '');
        drives.push({
          id: `${s.fs}@${s.mount}`,
          device: s.fs,
          label: block?.label || block?.name || path.basename(s.mount) || s.mount,
          mountPoint: s.mount,
          size: s.size,
          free: s.available,
          fsType,
          removable,
          system: false,
        });
      }
      return markSystem(drives, homes);
    },
  };
}

/** Mark the drives that hold the OS, the home folder or the given paths. */
export function markSystem(drives: Drive[], holds: string[] = []): Drive[] {
  const mounts = drives.map((d) => d.mountPoint);
  const held = new Set(holds.map((h) => containingMount(mounts, h)).filter((m): m is string => !!m));
  return drives.map((d) => ({
    ...d,
    system: d.system || isSystemMount(d.mountPoint) || held.has(d.mountPoint),
  }));
}

/** A fixed list (tests, and the app's "folder" pseudo-drives). */
export function staticDriveSource(drives: Drive[] | (() => Promise<Drive[]> | Drive[])): DriveSource {
  return { list: async () => (typeof drives === 'function' ? await drives() : drives) };
}

export interface DriveChange {
  added: Drive[];
  removed: Drive[];
  /** Free space or label changed. */
  changed: Drive[];
  drives: Drive[];
}

export function diffDrives(before: Drive[], after: Drive[]): Omit<DriveChange, 'drives'> {
  const old = new Map(before.map((d) => [d.id, d]));
  const now = new Map(after.map((d) => [d.id, d]));
  return {
    added: after.filter((d) => !old.has(d.id)),
    removed: before.filter((d) => !now.has(d.id)),
    changed: after.filter((d) => {
      const o = old.get(d.id);
      return !!o && (o.free !== d.free || o.label !== d.label || o.size !== d.size || o.fsType !== d.fsType);
    }),
  };
}

/**
 * Poll a drive source and report drives coming and going (no OS offers a portable plug event;
 * a poll every couple of seconds is what systeminformation itself recommends). Returns a stop
 * function; stops by itself when the signal fires.
 */
export function watchDrives(
  source: DriveSource,
  onChange: (c: DriveChange) => void,
  opts: { intervalMs?: number; signal?: AbortSignal; onError?: (err: unknown) => void } = {},
): () => void {
  let last: Drive[] | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    if (stopped) return;
    try {
      const now = await source.list();
      if (stopped) return;
      const d = diffDrives(last ?? [], now);
      if (last === undefined || d.added.length || d.removed.length || d.changed.length)
        onChange({ ...d, drives: now });
      last = now;
    } catch (err) {
      opts.onError?.(err);
    }
    if (!stopped) timer = setTimeout(tick, opts.intervalMs ?? 2000);
  };
  const stop = () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
  opts.signal?.addEventListener('abort', stop, { once: true });
  void tick();
  return stop;
}
