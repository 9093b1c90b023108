import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { jobHooks } from '../../base/jobs/hooks.js';
import { FerryError, throwIfAborted } from '../../base/errors/index.js';
import { fsyncDir, writeFileAtomic } from '../../base/fs/atomic.js';
import {
  MANIFEST_FILE,
  PARTIAL_DIR,
  SIGNATURE_FILE,
  parseManifest,
  serializeManifest,
  type FileEntry,
  type Manifest,
} from '../../bundle/manifest.js';
import { resolveInside } from '../../bundle/paths.js';
import { artifactName } from '../../bundle/verify/verify-bundle.js';
import { ExportJournal } from './journal.js';
import { copyRange, withMediaRetry } from './media-io.js';
import { type ExportOptions, type ExportResult, type Hooks } from './options.js';
import { checkDrive, checkWritable, targetInfo, partSizeFor, preflight, splitEntry } from './preflight.js';
import { ReadBackPool, type ReadBackMode } from './readback.js';
import { SourceRehash, sourceDamaged } from './source-rehash.js';
import { beforeFirstWrite, prepareSource, prepareTargetDir, type ExportSource } from './source.js';
import type { TargetInfo } from './target.js';
import { markToolsExecutable } from '../../kinds/index.js';

/** One file written to the media: a whole bundle file or one part of a split one. */
interface Unit {
  rel: string;
  src: string;
  offset: number;
  size: number;
  /** Expected sha256 of these bytes; for a new part, measured by the read-back. */
  sha256?: string;
  file: FileEntry;
  isPart: boolean;
}

/**
 * Export a bundle folder to a target folder (a drive), as a bundle folder:
 * preflight → copy each file with fsync → read it back from the media and hash it → manifest and
 * signature last. Rerunning resumes from the journal on the media.
 */
export async function exportFolder(bundleDir: string, opts: ExportOptions): Promise<ExportResult> {
  const started = Date.now();
  const h = jobHooks(opts);
  const src = await prepareSource(bundleDir, opts, h);
  const to = path.resolve(opts.to);
  if (isInside(src.bundle.dir, to) || isInside(to, src.bundle.dir)) {
    throw new FerryError('USAGE', `The target ${to} and the bundle ${src.bundle.dir} overlap.`, {
      hint: 'Export to a folder outside the bundle.',
    });
  }
  const drive = await checkDrive(to, opts.drives, !!opts.force, (m) => h.log('warn', m));
  const created = await prepareTargetDir(to, src.manifest.id);
  const { target, pre0 } = await beforeFirstWrite(to, created, async () => {
    const target: TargetInfo = await targetInfo(to, opts.target, drive);
    // A resumed export (say after ENOSPC) already has verified bytes on the media: count them
    // here, before the journal is opened, or the disk it filled refuses the rest.
    const onMedia = await ExportJournal.verifiedBytesOnMedia(to, {
      bundleId: src.manifest.id,
      sourceKey: src.sourceKey,
      mode: 'folder',
      partSize: partSizeFor(target, opts.partSize),
    });
    const pre0 = preflight({
      target,
      files: src.files,
      alreadyThere: Math.min(
        onMedia,
        src.files.reduce((s, f) => s + f.size, 0),
      ),
      split: opts.splitLarge !== false,
      partSize: opts.partSize,
      marginBytes: opts.marginBytes,
    });
    await checkWritable(to);
    return { target, pre0 };
  });
  const journal = await ExportJournal.open(to, {
    bundleId: src.manifest.id,
    sourceKey: src.sourceKey,
    mode: 'folder',
    partSize: pre0.partSize,
  });
  const pool = new ReadBackPool(undefined, opts.direct !== false);
  try {
    // Second pass with what the journal says is already there: a resumed export needs less room.
    const pre = preflight({
      target,
      files: src.files,
      alreadyThere: Math.min(
        journal.journaledBytes,
        src.files.reduce((s, f) => s + f.size, 0),
      ),
      split: opts.splitLarge !== false,
      partSize: opts.partSize,
      marginBytes: opts.marginBytes,
    });
    // Parts verified by an earlier finished export of this bundle keep their sha256, so a rerun
    // reads them back instead of copying them again.
    const earlierParts = new Map<string, string>();
    try {
      const old = parseManifest(await fs.readFile(path.join(to, MANIFEST_FILE)));
      if (old.id === src.manifest.id) {
        for (const f of old.files)
          for (const p of f.parts ?? []) earlierParts.set(`${f.sha256}\0${p.path}\0${p.size}`, p.sha256);
      }
    } catch {
      // none, or unreadable: everything is checked the slow way
    }
    // From here on the target is an unfinished export: no manifest until everything is verified.
    await fs.rm(path.join(to, MANIFEST_FILE), { force: true });
    await fs.rm(path.join(to, SIGNATURE_FILE), { force: true });
    await fsyncDir(to);

    const splitSet = new Set(pre.split.map((s) => s.path));
    const units: Unit[] = [];
    for (const f of src.files) {
      const abs = resolveInside(src.bundle.dir, f.path);
      if (splitSet.has(f.path)) {
        for (const p of splitEntry(f, pre.partSize)) {
          const known = earlierParts.get(`${f.sha256}\0${p.path}\0${p.size}`);
          units.push({
            rel: p.path,
            src: abs,
            offset: p.offset,
            size: p.size,
            file: f,
            isPart: true,
            ...(known ? { sha256: known } : {}),
          });
        }
      } else
        units.push({
          rel: f.path,
          src: abs,
          offset: 0,
          size: f.size,
          sha256: f.sha256,
          file: f,
          isPart: false,
        });
    }
    const result = await copyUnits(units, { to, journal, pool, src, h, opts });
    await removeStale(to, units, src.manifest, h);
    // Modes are not in the manifest: Ferry's own executables must run from the copy.
    await markToolsExecutable(to, src.manifest);

    // Manifest last: unchanged bytes when nothing changed, else the new manifest, re-signed.
    let manifestBytes: Buffer;
    let sigBytes: Buffer | undefined;
    let signature: ExportResult['signature'];
    if (src.unchanged && pre.split.length === 0) {
      manifestBytes = src.bundle.manifestBytes;
      sigBytes = src.bundle.signatureBytes;
      signature = sigBytes ? 'kept' : 'unsigned';
    } else {
      const files: FileEntry[] = src.files.map((f) =>
        splitSet.has(f.path)
          ? {
              ...f,
              parts: units
                .filter((u) => u.file === f)
                .map((u) => ({ path: u.rel, size: u.size, sha256: result.hashes.get(u.rel)! })),
            }
          : f,
      );
      const m: Manifest = { ...src.manifest, files };
      manifestBytes = serializeManifest(m);
      parseManifest(manifestBytes); // never write what we would refuse to read
      sigBytes = src.signer ? Buffer.from(await src.signer.sign(manifestBytes)) : undefined;
      signature = sigBytes ? 're-signed' : 'unsigned';
      if (!sigBytes) {
        h.log(
          'warn',
          src.sourceSignature.status === 'trusted'
            ? 'The manifest changed (split files or delta) and this machine has no signing key: the export is unsigned. Run `ferry keys generate` to sign exports.'
            : 'The manifest changed (split files or delta) and the source is not signed by a key this machine trusts: the export is unsigned.',
        );
      }
    }
    await withMediaRetry(MANIFEST_FILE, to, async () => {
      await writeFileAtomic(path.join(to, MANIFEST_FILE), manifestBytes);
      if (sigBytes) await writeFileAtomic(path.join(to, SIGNATURE_FILE), sigBytes);
      const back = await pool.read(path.join(to, MANIFEST_FILE));
      const want = createHash('sha256').update(manifestBytes).digest('hex');
      if (back.sha256 !== want) throw Object.assign(new Error('manifest read back differs'), { code: 'EIO' });
    });
    await journal.finish();
    h.progress.setPhase('done');
    h.report();
    const signer =
      signature === 'kept' ? describeSigner(src) : signature === 're-signed' ? src.signerName : undefined;
    return {
      to,
      bundleId: src.manifest.id,
      mode: 'folder',
      files: units.length,
      bytesWritten: result.written,
      bytesReused: result.reused,
      readBack: result.modes,
      signature,
      ...(signer !== undefined ? { signer } : {}),
      split: pre.split.map((s) => ({ path: s.path, parts: s.parts })),
      ...(src.delta ? { delta: src.delta } : {}),
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await journal.close();
    await pool.close();
  }
}

function describeSigner(src: ExportSource): string | undefined {
  const s = src.sourceSignature;
  return s.status === 'trusted' ? s.signer : s.status === 'unknown-key' ? s.fingerprint : undefined;
}

function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

async function copyUnits(
  units: Unit[],
  c: {
    to: string;
    journal: ExportJournal;
    pool: ReadBackPool;
    src: ExportSource;
    h: Hooks;
    opts: ExportOptions;
  },
): Promise<{
  written: number;
  reused: number;
  modes: Record<ReadBackMode, number>;
  hashes: Map<string, string>;
}> {
  const { to, journal, pool, src, h, opts } = c;
  const modes: Record<ReadBackMode, number> = { direct: 0, buffered: 0 };
  const hashes = new Map<string, string>();
  let written = 0;
  let reused = 0;
  const total = units.reduce((s, u) => s + u.size, 0);
  h.progress.setPhase('exporting');
  // Each byte is written once and read back once.
  h.progress.bytesTotal = 2 * total;
  h.progress.bytesDone = 0;
  h.progress.itemsTotal = src.manifest.artifacts.length;
  h.progress.itemsDone = 0;

  // Per-artifact tiles: an artifact is good once every unit of every file it names is verified.
  const unitsOfPath = new Map<string, Unit[]>();
  for (const u of units) unitsOfPath.set(u.file.path, [...(unitsOfPath.get(u.file.path) ?? []), u]);
  const left = new Map<string, number>();
  const artifactsOfPath = new Map<string, string[]>();
  for (const a of src.manifest.artifacts) {
    const own = a.paths.flatMap((p) => unitsOfPath.get(p) ?? []);
    left.set(a.id, own.length);
    for (const p of a.paths) artifactsOfPath.set(p, [...(artifactsOfPath.get(p) ?? []), a.id]);
    const bytes = own.reduce((s, u) => s + u.size, 0);
    h.item({
      type: 'artifact',
      id: a.id,
      name: artifactName(a),
      state: own.length ? 'waiting' : 'skipped',
      bytes,
    });
  }
  const names = new Map(src.manifest.artifacts.map((a) => [a.id, artifactName(a)]));
  const started = new Set<string>();
  const unitDone = (u: Unit) => {
    for (const id of artifactsOfPath.get(u.file.path) ?? []) {
      const n = (left.get(id) ?? 0) - 1;
      left.set(id, n);
      if (n === 0) {
        h.progress.itemsDone++;
        h.item({ type: 'artifact', id, name: names.get(id)!, state: 'good', bytes: 0 });
      }
    }
    h.report();
  };
  const unitStarted = (u: Unit) => {
    for (const id of artifactsOfPath.get(u.file.path) ?? []) {
      if (started.has(id)) continue;
      started.add(id);
      h.item({ type: 'artifact', id, name: names.get(id)!, state: 'copying', bytes: 0 });
    }
  };

  const verifyOnMedia = async (u: Unit, abs: string): Promise<boolean> => {
    const back = await pool.read(abs, { signal: h.signal, onBytes: (n) => h.progress.addBytes(n) });
    modes[back.mode]++;
    if (back.size !== u.size) return false;
    if (u.sha256 !== undefined && back.sha256 !== u.sha256) return false;
    if (u.isPart) hashes.set(u.rel, back.sha256);
    return true;
  };

  // Parts of a split file are hashed as they are copied so that, together, they are checked
  // against the manifest's sha256 of the whole file without reading the source twice.
  const rehash = new SourceRehash(src.bundle.dir);

  const copy = async (u: Unit, abs: string): Promise<void> => {
    throwIfAborted(h.signal);
    h.progress.current = u.rel;
    unitStarted(u);
    // A retried copy restarts the part, so the running hash is forked per attempt.
    let attemptHash: Hash | undefined;
    await withMediaRetry(
      u.rel,
      to,
      () => {
        attemptHash = u.isPart ? rehash.begin(u.file.path, u.offset) : undefined;
        return copyRange(u.src, u.offset, u.size, abs, {
          io: opts.io,
          signal: h.signal,
          tempDir: journal.partialDir,
          onData: attemptHash ? (b) => attemptHash!.update(b) : undefined,
          onBytes: (n) => {
            h.progress.addBytes(n);
            h.report();
          },
        });
      },
      {
        retries: opts.retries,
        delayMs: opts.retryDelayMs,
        signal: h.signal,
        onRetry: (err, n) =>
          h.log('warn', `Retrying ${u.rel} after ${(err as Error).message} (attempt ${n}).`),
      },
    );
    if (u.isPart) rehash.commit(u.file.path, attemptHash, u.offset + u.size);
    written += u.size;
  };

  const readBack = async (u: Unit, abs: string): Promise<boolean> => {
    const ok = await withMediaRetry(u.rel, to, () => verifyOnMedia(u, abs), {
      retries: opts.retries,
      delayMs: opts.retryDelayMs,
      signal: h.signal,
    });
    if (ok) {
      await journal.record(abs, u.rel, u.size, u.sha256 ?? hashes.get(u.rel)!);
      unitDone(u);
    }
    return ok;
  };

  // Writes are sequential (a stick is slowest when it seeks between files); read-backs run in the
  // worker pool behind the writer, at most a few files behind so a failing drive stops us early.
  const inflight = new Set<Promise<void>>();
  const wrong: Array<{ u: Unit; abs: string }> = [];
  let failure: unknown;
  const settle = () => {
    if (failure) throw failure;
  };
  for (const u of units) {
    settle();
    throwIfAborted(h.signal);
    const abs = resolveInside(to, u.rel);
    const known = await journal.verifiedHash(abs, u.rel, u.size);
    if (known && (u.sha256 === undefined || known === u.sha256)) {
      if (u.isPart) {
        hashes.set(u.rel, known);
        rehash.skip(u.file.path);
      }
      reused += u.size;
      h.progress.addBytes(2 * u.size);
      unitDone(u);
      continue;
    }
    // A file already there with the right size (a finished export rerun, a lost journal) is read
    // back rather than copied again.
    const st = await fs.lstat(abs).catch(() => undefined);
    if (st?.isFile() && st.size === u.size && u.sha256 !== undefined) {
      h.progress.addBytes(u.size);
      if (await readBack(u, abs)) {
        if (u.isPart) rehash.skip(u.file.path);
        reused += u.size;
        continue;
      }
      h.progress.addBytes(-2 * u.size);
    }
    try {
      await copy(u, abs);
    } catch (err) {
      // Files already written still get their read-back recorded, so a rerun keeps them; the
      // failed copy has removed its temp file, so lines a full drive refused fit now.
      await Promise.allSettled(inflight);
      await journal.flush().catch(() => undefined);
      throw err;
    }
    const p = readBack(u, abs).then(
      (ok) => {
        if (!ok) wrong.push({ u, abs });
      },
      (err) => {
        failure ??= err;
      },
    );
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    while (inflight.size >= pool.size * 2) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  settle();

  // What read back wrong: a damaged source cannot be fixed by copying again; a flaky drive can, once.
  for (const { u, abs } of wrong) {
    if (!(await rehash.sourceMatches(u.file, h.signal))) throw sourceDamaged(u.file.path);
    h.log('warn', `${u.rel} read back wrong from the drive; writing it again.`);
    h.progress.addBytes(-2 * u.size);
    await fs.rm(abs, { force: true });
    if (u.isPart) rehash.skip(u.file.path);
    await copy(u, abs);
    if (!(await readBack(u, abs))) {
      throw new FerryError(
        'IO',
        `The drive returned different bytes for ${u.rel} than were written, twice.`,
        {
          artifact: u.rel,
          hint: 'The drive is unreliable. Use another drive; finished files are kept if you rerun on this one.',
        },
      );
    }
  }

  // A split file is complete when its verified parts are, together, the file the manifest names.
  await rehash.check(new Set(units.filter((u) => u.isPart).map((u) => u.file)), h.signal);
  return { written, reused, modes, hashes };
}

/**
 * A rerun with another split decision (other file system, other part size) leaves the old form of
 * a file behind: its parts, or the whole file. Those are Ferry's own leftovers and go; anything
 * else in the folder is left alone and reported by verify as extra.
 */
async function removeStale(to: string, units: Unit[], m: Manifest, h: Hooks): Promise<void> {
  const planned = new Set(units.map((u) => u.rel));
  const ours = new Set(m.files.map((f) => f.path));
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (!rel && (e.name === PARTIAL_DIR || e.name === MANIFEST_FILE || e.name === SIGNATURE_FILE)) continue;
      if (e.isDirectory()) await walk(path.join(dir, e.name), r);
      else if (e.isFile() && !planned.has(r)) {
        const base = r.replace(/\.ferry-part-\d{3,}$/, '');
        if (ours.has(base)) {
          await fs.rm(path.join(dir, e.name), { force: true });
          h.log('info', `Removed ${r}, left over from an earlier export in another layout.`);
        }
      }
    }
  };
  await walk(to, '');
}
