import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import { jobHooks } from '../../base/jobs/hooks.js';
import { FerryError } from '../../base/errors/index.js';
import {
  MANIFEST_FILE,
  MAX_MANIFEST_BYTES,
  SIGNATURE_FILE,
  parseManifest,
  type FileEntry,
} from '../../bundle/manifest.js';
import { checkBundlePath, printable } from '../../bundle/paths.js';
import {
  ARCHIVE_INDEX,
  ARCHIVE_INDEX_MAX,
  parseArchiveIndex,
  type ArchiveIndex,
} from '../../bundle/archive-format.js';
import { refuseOddControlFile } from '../../bundle/reader.js';
import { HashPool } from '../../bundle/verify/hash-pool.js';
import { defaultStoreDir, Store } from '../store/store.js';
import {
  checkBase,
  checkRecords,
  gateSignature,
  sha256,
  type Hooks,
  type ImportOptions,
  type ImportReport,
} from './common.js';
import { ImportSession } from './session.js';

/** Pax headers longer than this are refused (node-tar's own default is 1 MiB). */
const MAX_META = 64 * 1024;
const MAX_SIG = 64 * 1024;

/**
 * Import an archive export: the index is checked, every part is hashed on all cores (a damaged
 * or missing part is named so it alone can be copied again), then the parts are read as one
 * stream through node-tar's parser. Archive paths are only ever used to look entries up in the
 * signed manifest; bytes are written to random temp names in the store and committed under
 * their sha256, so no entry can write anywhere else. Anything but plain files listed in the
 * manifest (links, devices, directories, absolute or '..' paths, duplicates, oversized headers)
 * makes the whole import refuse.
 */
export async function importArchive(sourceDir: string, opts: ImportOptions): Promise<ImportReport> {
  const h = jobHooks(opts);
  const dir = path.resolve(sourceDir);
  const indexPath = path.join(dir, ARCHIVE_INDEX);
  refuseOddControlFile(await fs.lstat(indexPath), ARCHIVE_INDEX, ARCHIVE_INDEX_MAX, { where: dir });
  const index = parseArchiveIndex(await fs.readFile(indexPath), ARCHIVE_INDEX);
  const ownPool = !opts.pool;
  const pool = opts.pool ?? new HashPool();
  // Worker threads are unref'd; keep a CLI process alive while it waits on them.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    const partFiles = index.parts.map((p) => path.join(dir, p.name));

    // Signature first: read just the manifest and signature entries at the head of the stream
    // (their bytes are pinned by the signature and by the index's manifest sha256).
    let head: { manifest: Buffer; signature?: Buffer };
    try {
      head = await readHead(partFiles, h.signal);
    } catch (err) {
      // A head that does not parse is most often a damaged or misplaced part: name it if so.
      await checkParts(dir, index, pool, h);
      throw err;
    }
    if (sha256(head.manifest) !== index.manifestSha256) {
      throw new FerryError('INTEGRITY', `The manifest inside the archive does not match ${ARCHIVE_INDEX}.`, {
        artifact: MANIFEST_FILE,
        hint: 'Copy the whole archive again from the connected side.',
      });
    }
    const manifest = parseManifest(head.manifest);
    if (manifest.id !== index.bundleId) {
      throw new FerryError(
        'INTEGRITY',
        `${ARCHIVE_INDEX} names bundle ${index.bundleId} but the archive holds ${manifest.id}.`,
        { artifact: ARCHIVE_INDEX },
      );
    }
    const signature = await gateSignature(head.manifest, head.signature, opts, h);
    // Then every part on all cores: a damaged or missing one is named before anything is imported.
    await checkParts(dir, index, pool, h);
    const store = new Store(opts.store ?? defaultStoreDir());
    const unlock = await store.lock();
    // What an earlier import killed mid-copy left in the store's temp folder goes now (issue 12).
    await store
      .removeDeadTemp()
      .catch((e: Error) => h.log('warn', `Could not clear old temp files in ${store.tmpDir}: ${e.message}`));
    try {
      checkRecords(manifest);
      await checkBase(store, manifest);
      for (const f of manifest.files) {
        if (f.parts)
          throw new FerryError(
            'HOSTILE',
            `${printable(f.path)} is listed as split inside an archive; Ferry refuses it.`,
            { artifact: f.path },
          );
      }
      const session = new ImportSession(store, manifest, head.manifest, head.signature, signature, dir, h);
      session.begin();
      const byPath = new Map(manifest.files.map((f) => [f.path, f]));
      const seen = new Set<string>();
      const tmps = new Set<string>();
      try {
        await streamEntries(partFiles, h, async (entry, raw) => {
          const rel = entry.path;
          const type = entry.type;
          const header = `'${printable(rel)}' (${type})`;
          if (type !== 'File' && type !== 'OldFile') {
            throw new FerryError(
              'HOSTILE',
              `The archive holds ${header}: only plain files belong in a bundle. Ferry refuses it.`,
              {
                artifact: printable(rel),
                hint: 'This archive was not written by Ferry or was tampered with. Get a fresh copy from the connected side.',
              },
            );
          }
          const why = checkBundlePath(rel) ?? (raw !== rel ? 'is rewritten by its header' : null);
          if (why) {
            throw new FerryError(
              'HOSTILE',
              `The archive entry '${printable(raw)}' ${why}; Ferry refuses it.`,
              {
                artifact: printable(raw),
                hint: 'This archive was not written by Ferry or was tampered with. Get a fresh copy from the connected side.',
              },
            );
          }
          if (rel === MANIFEST_FILE || rel === SIGNATURE_FILE) {
            if (seen.has(rel))
              throw new FerryError('HOSTILE', `The archive holds ${rel} twice; Ferry refuses it.`, {
                artifact: rel,
              });
            seen.add(rel);
            entry.resume();
            await endOf(entry);
            return;
          }
          const f = byPath.get(rel);
          if (!f) {
            throw new FerryError(
              'HOSTILE',
              `The archive holds '${printable(rel)}', which the signed manifest does not list; Ferry refuses it.`,
              {
                artifact: printable(rel),
                hint: 'Get a fresh copy from the connected side.',
              },
            );
          }
          if (seen.has(rel))
            throw new FerryError(
              'HOSTILE',
              `The archive holds '${printable(rel)}' twice; Ferry refuses it.`,
              { artifact: rel },
            );
          seen.add(rel);
          await importEntry(entry, f, store, session, h, tmps);
        });
      } finally {
        for (const t of tmps) await fs.rm(t, { force: true });
      }
      for (const f of manifest.files) {
        if (!seen.has(f.path)) {
          session.checking(f);
          if (await store.hasBlob(f.sha256, f.size)) {
            session.filesShared++;
            session.done(f, { state: 'good' });
          } else session.done(f, { state: 'missing', message: 'not in the archive' });
        }
      }
      return await session.finish([]);
    } finally {
      await unlock();
    }
  } finally {
    clearInterval(keepAlive);
    if (ownPool) await pool.close();
  }
}

/** Every part present with its size, then hashed on all cores; any bad part stops the import, named. */
async function checkParts(dir: string, index: ArchiveIndex, pool: HashPool, h: Hooks): Promise<void> {
  const bad: string[] = [];
  h.progress.setPhase('checking parts');
  h.progress.bytesTotal = index.tarSize;
  h.progress.bytesDone = 0;
  await Promise.all(
    index.parts.map(async (p) => {
      const abs = path.join(dir, p.name);
      const st = await fs.lstat(abs).catch(() => undefined);
      if (!st) {
        bad.push(`${p.name} is missing`);
        h.item({ type: 'part', id: p.name, name: p.name, state: 'missing' });
        return;
      }
      if (!st.isFile())
        throw new FerryError('HOSTILE', `${p.name} is not a regular file; Ferry refuses it.`, {
          artifact: p.name,
        });
      if (st.size !== p.size) {
        bad.push(`${p.name} is ${st.size} bytes, expected ${p.size}`);
        h.item({ type: 'part', id: p.name, name: p.name, state: 'damaged', message: 'wrong size' });
        return;
      }
      h.item({ type: 'part', id: p.name, name: p.name, state: 'checking' });
      const got = await pool.hash({ file: abs, onBytes: (n) => h.progress.addBytes(n) }, h.signal);
      if (got.sha256 !== p.sha256) {
        bad.push(`${p.name} is damaged (sha256 differs)`);
        h.item({ type: 'part', id: p.name, name: p.name, state: 'damaged', message: 'sha256 differs' });
      } else h.item({ type: 'part', id: p.name, name: p.name, state: 'good' });
      h.report();
    }),
  );
  if (bad.length) {
    throw new FerryError('INTEGRITY', `The archive is not whole: ${bad.sort().join('; ')}.`, {
      artifact: bad[0].split(' ')[0],
      hint: 'Copy just these parts again from the connected side (or a second copy of the media), then import again.',
      details: { parts: bad },
    });
  }
}

/** The parts, in order, as one byte stream (nothing is joined on disk). */
function partsStream(files: string[], signal?: AbortSignal): Readable {
  return Readable.from(
    (async function* () {
      for (const f of files) yield* createReadStream(f, { highWaterMark: 1 << 20, signal });
    })(),
  );
}

/**
 * Run node-tar's parser over the parts, handing each entry to `onEntry` one at a time (the parser
 * waits for each entry to be consumed). Every parser warning is fatal: a Ferry archive has none.
 */
async function streamEntries(
  files: string[],
  h: Hooks,
  onEntry: (entry: ReadEntry, rawPath: string) => Promise<void>,
  stopAfter?: number,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let failed = false;
    let count = 0;
    let chain = Promise.resolve();
    const input = partsStream(files, h.signal);
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      input.destroy();
      reject(err);
    };
    const parser = new Parser({
      strict: true,
      noResume: true,
      maxMetaEntrySize: MAX_META,
      onwarn: (code: string, message: string | Error) => {
        fail(
          new FerryError(
            'HOSTILE',
            `The archive is malformed (${code}: ${message instanceof Error ? message.message : message}); Ferry refuses it.`,
            {
              hint: 'Copy the archive again from the connected side.',
            },
          ),
        );
      },
    } as any);
    parser.on('ignoredEntry', (e: ReadEntry) => {
      fail(
        new FerryError(
          'HOSTILE',
          `The archive has an oversized or unusable header near '${printable(e.path)}'; Ferry refuses it.`,
        ),
      );
    });
    parser.on('entry', (entry: ReadEntry) => {
      if (failed) {
        entry.resume();
        return;
      }
      count++;
      const raw = (entry.header?.path as string | undefined) ?? entry.path;
      // Pax may override the path: the effective path is what is checked; a mismatch with the
      // ustar name is reported as the raw one for the message.
      const effective = entry.path;
      chain = chain
        .then(() => onEntry(entry, entry.extended?.path ? effective : raw))
        .catch((err) => {
          entry.resume();
          fail(err);
        });
      if (stopAfter !== undefined && count >= stopAfter) {
        void chain.then(() => {
          if (!failed) {
            failed = true;
            input.destroy();
            resolve();
          }
        });
      }
    });
    parser.on('error', (err: unknown) =>
      fail(
        err instanceof FerryError
          ? err
          : new FerryError(
              'HOSTILE',
              `The archive is malformed (${(err as Error).message}); Ferry refuses it.`,
              {
                hint: 'Copy the archive again from the connected side.',
                cause: err,
              },
            ),
      ),
    );
    parser.on('end', () => {
      void chain.then(() => {
        if (!failed) {
          failed = true;
          resolve();
        }
      });
    });
    input.on('error', fail);
    input.pipe(parser as any);
  });
}

function endOf(entry: ReadEntry): Promise<void> {
  return new Promise((resolve, reject) => {
    if (entry.emittedEnd) return resolve();
    entry.on('end', () => resolve());
    entry.on('error', reject);
  });
}

function collect(entry: ReadEntry, max: number, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (entry.size > max) {
      reject(
        new FerryError('HOSTILE', `${what} in the archive is ${entry.size} bytes; Ferry refuses it.`, {
          artifact: what,
        }),
      );
      return;
    }
    const chunks: Buffer[] = [];
    entry.on('data', (c: Buffer) => chunks.push(c));
    entry.on('end', () => resolve(Buffer.concat(chunks)));
    entry.on('error', reject);
    entry.resume();
  });
}

/** The manifest and signature entries at the head of the archive. */
async function readHead(
  files: string[],
  signal?: AbortSignal,
): Promise<{ manifest: Buffer; signature?: Buffer }> {
  let manifest: Buffer | undefined;
  let signature: Buffer | undefined;
  const h = { signal, progress: undefined as any, report() {}, item() {}, log() {} } as unknown as Hooks;
  let n = 0;
  await streamEntries(
    files,
    h,
    async (entry, raw) => {
      n++;
      if (n === 1) {
        if (raw !== MANIFEST_FILE || entry.type !== 'File') {
          throw new FerryError(
            'INTEGRITY',
            `The archive does not start with ${MANIFEST_FILE} (it starts with '${printable(raw)}').`,
            {
              hint: 'This is not a Ferry archive, or its parts are out of order.',
            },
          );
        }
        manifest = await collect(entry, MAX_MANIFEST_BYTES, MANIFEST_FILE);
      } else if (raw === SIGNATURE_FILE && entry.type === 'File') {
        signature = await collect(entry, MAX_SIG, SIGNATURE_FILE);
      } else {
        entry.resume();
      }
    },
    2,
  );
  if (!manifest)
    throw new FerryError('INTEGRITY', 'The archive holds no manifest.', { hint: 'Copy the archive again.' });
  return { manifest, ...(signature ? { signature } : {}) };
}

/** Stream one entry into a store temp file, hashing it; commit under its sha256 or quarantine. */
async function importEntry(
  entry: ReadEntry,
  f: FileEntry,
  store: Store,
  session: ImportSession,
  h: Hooks,
  tmps: Set<string>,
): Promise<void> {
  session.checking(f);
  if (entry.size !== f.size) {
    entry.resume();
    await endOf(entry);
    h.progress.addBytes(f.size);
    session.done(f, { state: 'damaged', message: `${entry.size} bytes in the archive, expected ${f.size}` });
    return;
  }
  if (await store.hasBlob(f.sha256, f.size)) {
    entry.resume();
    await endOf(entry);
    session.filesShared++;
    h.progress.addBytes(f.size);
    session.done(f, { state: 'good' });
    return;
  }
  const tmp = store.tempPath();
  tmps.add(tmp);
  const hash = createHash('sha256');
  const out = await fs.open(tmp, 'wx', 0o644);
  let size = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      let writing = Promise.resolve();
      entry.on('data', (c: Buffer) => {
        hash.update(c);
        size += c.length;
        h.progress.addBytes(c.length);
        // Back-pressure: pause the entry (and so the parser) while the chunk is written.
        entry.pause();
        writing = writing
          .then(() => out.write(c))
          .then(() => {
            entry.resume();
          }, reject);
      });
      entry.on('end', () => {
        writing.then(() => resolve(), reject);
      });
      entry.on('error', reject);
      entry.resume();
    });
    await out.sync();
  } finally {
    await out.close();
  }
  const sha = hash.digest('hex');
  if (sha === f.sha256 && size === f.size) {
    await store.commitBlob(tmp, f.sha256);
    tmps.delete(tmp);
    session.filesCopied++;
    session.bytesCopied += f.size;
    session.done(f, { state: 'good' });
  } else {
    const q = await store.quarantine(tmp, session.manifest.id, f.path, session.stamp);
    tmps.delete(tmp);
    session.done(f, {
      state: 'damaged',
      message: `sha256 ${sha.slice(0, 16)}… instead of ${f.sha256.slice(0, 16)}…`,
      quarantined: q,
    });
  }
}
