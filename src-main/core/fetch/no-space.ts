import fs from 'node:fs/promises';
import { FerryError } from '../base/errors/index.js';
import { formatBytes } from '../base/jobs/progress.js';
import type { FetchResult } from './options.js';

/**
 * NO_SPACE for a fetch: names the bundle folder, what the unfinished artifacts still need (their
 * size less the partial bytes already on the disk, which the rerun keeps) and what is free.
 */
export async function noSpaceError(
  dir: string,
  sizes: Map<string, { total?: number; have: number; partial?: string }>,
  result: FetchResult,
  cause?: unknown,
): Promise<FerryError> {
  let needed = 0;
  let unknown = 0;
  for (const s of sizes.values()) {
    if (s.total === undefined) {
      unknown++;
      continue;
    }
    let held = s.have;
    if (s.partial) {
      // Bytes received are not bytes written when the disk filled: what the partial holds counts.
      held = await fs
        .lstat(s.partial)
        .then((st) => (st.isFile() ? st.size : 0))
        .catch(() => 0);
    }
    needed += Math.max(0, s.total - held);
  }
  const free = await fs
    .statfs(dir)
    .then((st) => st.bavail * st.bsize)
    .catch(() => undefined);
  const finished = result.counts.present + result.counts.fetched;
  const need =
    needed > 0
      ? `the bundle still needs ${formatBytes(needed)} more${unknown ? ` (and ${unknown} artifacts of unknown size)` : ''}`
      : unknown
        ? `${unknown} artifacts of unknown size are still to download`
        : 'there is no room left to write the manifest';
  return new FerryError(
    'NO_SPACE',
    `The disk holding ${dir} is full: ${need}${free !== undefined ? `, ${formatBytes(free)} is free` : ''}. ${result.counts.failed || sizes.size} of ${result.counts.total} artifacts are not finished.`,
    {
      artifact: dir,
      cause,
      details: {
        neededBytes: needed,
        ...(free !== undefined ? { freeBytes: free } : {}),
        ...(unknown ? { unknownSizes: unknown } : {}),
        failures: result.failures,
        counts: result.counts,
      },
      hint: `Free ${needed > 0 ? `at least ${formatBytes(Math.max(0, needed - (free ?? 0)))} ` : 'some space '}on that disk (or fetch to a larger one), then run the same command again: the ${finished} finished artifacts and the partial downloads are kept.`,
    },
  );
}
