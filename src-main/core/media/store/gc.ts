import fs from 'node:fs/promises';
import path from 'node:path';
import { Store } from './store.js';

export interface GcResult {
  removedBlobs: number;
  removedBytes: number;
  keptBlobs: number;
  removedTemp: number;
  removedQuarantine: number;
  dryRun: boolean;
}

/**
 * Remove blobs no stored bundle lists (after `ferry store rm`, or left by an interrupted import),
 * temp files, and with `quarantine` the quarantined bytes. A delta's base files are listed by the
 * base's own manifest, so they stay as long as the base does.
 */
export async function gcStore(
  store: Store,
  opts: { dryRun?: boolean; quarantine?: boolean } = {},
): Promise<GcResult> {
  const unlock = await store.lock();
  try {
    const live = new Set<string>();
    for (const b of await store.list()) for (const f of b.manifest.files) live.add(f.sha256);
    const res: GcResult = {
      removedBlobs: 0,
      removedBytes: 0,
      keptBlobs: 0,
      removedTemp: 0,
      removedQuarantine: 0,
      dryRun: !!opts.dryRun,
    };
    for (const name of await fs.readdir(store.blobsDir).catch(() => [] as string[])) {
      if (live.has(name)) {
        res.keptBlobs++;
        continue;
      }
      const p = path.join(store.blobsDir, name);
      const st = await fs.lstat(p);
      res.removedBlobs++;
      res.removedBytes += st.size;
      if (!opts.dryRun) await fs.rm(p, { force: true });
    }
    for (const name of await fs.readdir(store.tmpDir).catch(() => [] as string[])) {
      res.removedTemp++;
      if (!opts.dryRun) await fs.rm(path.join(store.tmpDir, name), { recursive: true, force: true });
    }
    if (opts.quarantine) {
      const q = path.join(store.root, 'quarantine');
      for (const name of await fs.readdir(q).catch(() => [] as string[])) {
        res.removedQuarantine++;
        if (!opts.dryRun) await fs.rm(path.join(q, name), { recursive: true, force: true });
      }
    }
    return res;
  } finally {
    await unlock();
  }
}
