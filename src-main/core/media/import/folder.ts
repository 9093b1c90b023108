import fs from 'node:fs/promises';
import { MANIFEST_FILE, SIGNATURE_FILE, storedPaths, type FileEntry } from '../../bundle/manifest.js';
import { openBundle, walkBundleTree } from '../../bundle/reader.js';
import { resolveInside } from '../../bundle/paths.js';
import { jobHooks } from '../../base/jobs/hooks.js';
import { FerryError } from '../../base/errors/index.js';
import { HashPool } from '../../bundle/verify/hash-pool.js';
import { defaultStoreDir, Store } from '../store/store.js';
import { checkBase, checkRecords, gateSignature, type ImportOptions, type ImportReport } from './common.js';
import { CopyHashPool } from './copy-pool.js';
import { ImportSession } from './session.js';

/** Files in flight beyond one per copy worker, so a worker never waits on the main thread between files. */
const EXTRA_IN_FLIGHT = 2;

/**
 * Import a bundle folder (on media, or anywhere) into the store. The source is only ever opened
 * for reading. Each file is read once by a worker thread (one per core) that hashes it while
 * writing it to the store's temp folder; it is committed as a blob only if it matches the signed
 * manifest; anything else is quarantined and named, and the rest imports.
 */
export async function importFolder(sourceDir: string, opts: ImportOptions): Promise<ImportReport> {
  const h = jobHooks(opts);
  const bundle = await openBundle(sourceDir);
  const signature = await gateSignature(bundle.manifestBytes, bundle.signatureBytes, opts, h);
  const store = new Store(opts.store ?? defaultStoreDir());
  const unlock = await store.lock();
  // What an earlier import killed mid-copy left in the store's temp folder goes now (issue 12).
  await store
    .removeDeadTemp()
    .catch((e: Error) => h.log('warn', `Could not clear old temp files in ${store.tmpDir}: ${e.message}`));
  const ownPool = !opts.pool;
  const pool = opts.pool ?? new HashPool();
  const copier = new CopyHashPool();
  // The hash pool's workers are unref'd; keep a CLI process alive while it waits on them.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    checkRecords(bundle.manifest);
    await checkBase(store, bundle.manifest);
    // Links, devices and other non-files in the source are refused here, before any copy.
    const tree = await walkBundleTree(bundle.dir, h.signal);
    const onDisk = new Map(tree.map((t) => [t.path, t.size]));
    const stored = new Set(bundle.manifest.files.flatMap((f) => storedPaths(f).map((p) => p.path)));
    const extras = tree
      .map((t) => t.path)
      .filter((p) => !stored.has(p) && p !== MANIFEST_FILE && p !== SIGNATURE_FILE);
    if (extras.length)
      h.log(
        'warn',
        `${extras.length} file(s) on the media are not in the manifest and are not imported: ${extras.slice(0, 5).join(', ')}.`,
      );

    const session = new ImportSession(
      store,
      bundle.manifest,
      bundle.manifestBytes,
      bundle.signatureBytes,
      signature,
      bundle.dir,
      h,
    );
    session.begin();

    const importOne = async (f: FileEntry): Promise<void> => {
      session.checking(f);
      if (await store.hasBlob(f.sha256, f.size)) {
        session.filesShared++;
        h.progress.addBytes(f.size);
        session.done(f, { state: 'good' });
        return;
      }
      const pieces = storedPaths(f);
      const absent = pieces.filter((p) => onDisk.get(p.path) === undefined);
      if (absent.length) {
        h.progress.addBytes(f.size);
        session.done(f, {
          state: 'missing',
          message: f.parts ? `missing part(s) ${absent.map((p) => p.path).join(', ')}` : 'not on the media',
        });
        return;
      }
      const wrongSize = pieces.filter((p) => onDisk.get(p.path) !== p.size);
      if (wrongSize.length) {
        h.progress.addBytes(f.size);
        session.done(f, {
          state: 'damaged',
          message: wrongSize
            .map((p) => `${p.path} is ${onDisk.get(p.path)} bytes, expected ${p.size}`)
            .join('; '),
        });
        return;
      }
      const tmp = store.tempPath();
      try {
        const got = await copier.copy(
          pieces.map((p) => resolveInside(bundle.dir, p.path)),
          tmp,
          { signal: h.signal, onBytes: (n) => h.progress.addBytes(n) },
        );
        if (got.sha256 === f.sha256 && got.size === f.size) {
          await store.commitBlob(tmp, f.sha256);
          session.filesCopied++;
          session.bytesCopied += f.size;
          session.done(f, { state: 'good' });
          return;
        }
        const where = f.parts ? await namePart(pool, bundle.dir, f, h.signal) : undefined;
        const q = await store.quarantine(tmp, bundle.manifest.id, f.path, session.stamp);
        session.done(f, {
          state: 'damaged',
          message: `sha256 ${got.sha256.slice(0, 16)}… instead of ${f.sha256.slice(0, 16)}…${where ? ` (bad part: ${where})` : ''}`,
          quarantined: q,
        });
      } catch (err) {
        await fs.rm(tmp, { force: true });
        if (err instanceof FerryError && err.code === 'CANCELLED') throw err;
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOSPC') {
          throw new FerryError('NO_SPACE', `The store at ${store.root} is full while importing ${f.path}.`, {
            artifact: f.path,
            hint: 'Free space (`ferry store gc`) and import again: what was imported is kept.',
            cause: err,
          });
        }
        session.done(f, { state: 'damaged', message: `unreadable: ${(err as Error).message}` });
      }
    };

    // Largest first so both cores stay busy to the end.
    const queue = [...bundle.manifest.files].sort((a, b) => b.size - a.size);
    let failure: unknown;
    await Promise.all(
      Array.from({ length: copier.size + EXTRA_IN_FLIGHT }, async () => {
        while (queue.length && !failure) {
          const f = queue.shift()!;
          try {
            await importOne(f);
          } catch (err) {
            failure ??= err;
          }
        }
      }),
    );
    if (failure) throw failure;
    return await session.finish(extras);
  } finally {
    clearInterval(keepAlive);
    await copier.close();
    if (ownPool) await pool.close();
    await unlock();
  }
}

/** Which part of a split file is bad (only asked after the whole file failed). */
async function namePart(
  pool: HashPool,
  dir: string,
  f: FileEntry,
  signal?: AbortSignal,
): Promise<string | undefined> {
  for (const p of f.parts ?? []) {
    const h = await pool.hash({ file: resolveInside(dir, p.path) }, signal).catch(() => undefined);
    if (!h || h.sha256 !== p.sha256) return p.path;
  }
  return undefined;
}
