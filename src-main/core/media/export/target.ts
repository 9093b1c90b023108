import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { containingMount } from '../drives/index.js';

/**
 * What Ferry needs to know about an export target before the first byte: its file system (for
 * per-file size limits), free space and block size. Probed from the OS; tests inject it.
 */
export interface TargetInfo {
  /** Lower-case: vfat, exfat, ntfs, ext4, xfs, tmpfs, apfs… or 'unknown'. */
  fsType: string;
  /** Bytes available to this user. */
  free: number;
  /** Allocation unit, used to estimate slack per file. */
  blockSize: number;
  /** The device behind the mount, when known (for messages and drive matching). */
  device?: string;
  mountPoint?: string;
  /** Overrides the per-file limit derived from fsType (tests stand in a small limit for 4 GiB). */
  maxFileSize?: number | null;
}

export const GiB = 1024 ** 3;
/** FAT32 stores a file's size in 32 bits. */
export const FAT32_MAX_FILE = 4 * GiB - 1;

/** The largest file the file system can hold, or null when its limit does not matter here. */
export function maxFileSize(fsType: string): number | null {
  const t = fsType.toLowerCase();
  if (t === 'vfat' || t === 'fat32' || t === 'fat' || t === 'msdos' || t === 'fat16') return FAT32_MAX_FILE;
  return null;
}

const execFileP = promisify(execFile);

/** Linux: the mount entry for a path from /proc/self/mountinfo (fstype, device). */
async function linuxMount(
  dir: string,
): Promise<{ mountPoint: string; fsType: string; device: string } | undefined> {
  let text: string;
  try {
    text = await fs.readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  const mounts = text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [pre, post] = line.split(' - ');
      const f = pre.split(' ');
      const g = (post ?? '').split(' ');
      // mountinfo escapes spaces and other specials as octal.
      const unesc = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
      return { mountPoint: unesc(f[4] ?? ''), fsType: g[0] ?? '', device: unesc(g[1] ?? '') };
    });
  const best = containingMount(
    mounts.map((m) => m.mountPoint),
    dir,
  );
  // The last mount on a mount point is the visible one.
  return [...mounts].reverse().find((m) => m.mountPoint === best);
}

/** Probe the file system holding `dir` (which must exist). */
export async function probeTarget(dir: string): Promise<TargetInfo> {
  const st = await fs.statfs(dir);
  const info: TargetInfo = { fsType: 'unknown', free: st.bavail * st.bsize, blockSize: st.bsize };
  if (process.platform === 'linux') {
    const m = await linuxMount(path.resolve(dir));
    if (m) {
      info.fsType = m.fsType.toLowerCase();
      info.device = m.device;
      info.mountPoint = m.mountPoint;
      // FUSE drivers (exfat-fuse, ntfs-3g) mount as fuseblk: ask the device what it holds.
      if (info.fsType === 'fuseblk' && m.device.startsWith('/dev/')) {
        try {
          const { stdout } = await execFileP('blkid', ['-o', 'value', '-s', 'TYPE', m.device], {
            timeout: 5000,
          });
          if (stdout.trim()) info.fsType = stdout.trim().toLowerCase();
        } catch {
          // blkid may be missing or need root; fuseblk then stays, which has no size limit we know of.
        }
      }
    }
  } else {
    info.fsType = STATFS_TYPES[st.type] ?? 'unknown';
  }
  return info;
}

// statfs f_type magic numbers, for platforms without mountinfo.
const STATFS_TYPES: Record<number, string> = {
  0x4d44: 'vfat',
  0x2011bab0: 'exfat',
  0x5346544e: 'ntfs',
  0xef53: 'ext4',
};
