import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { jobHooks } from '../../base/jobs/hooks.js';
import { FerryError, throwIfAborted } from '../../base/errors/index.js';
import { fsyncDir, tempName, writeFileAtomic } from '../../base/fs/atomic.js';
import {
  MANIFEST_FILE,
  SIGNATURE_FILE,
  parseManifest,
  serializeManifest,
  type Manifest,
} from '../../bundle/manifest.js';
import { resolveInside } from '../../bundle/paths.js';
import { artifactName } from '../../bundle/verify/verify-bundle.js';
import {
  ARCHIVE_INDEX,
  archivePartName,
  tarLayout,
  type ArchiveIndex,
  type Segment,
} from '../../bundle/archive-format.js';
import { ExportJournal } from './journal.js';
import { realIo, withMediaRetry } from './media-io.js';
import { type ExportOptions, type ExportResult } from './options.js';
import { checkDrive, checkWritable, targetInfo, DEFAULT_FAT_PART, preflight } from './preflight.js';
import { ReadBackPool, type ReadBackMode } from './readback.js';
import { SourceRehash } from './source-rehash.js';
import { beforeFirstWrite, prepareSource, prepareTargetDir } from './source.js';
import { maxFileSize } from './target.js';

const CHUNK = 4 << 20;

/** Parse '700M', '4G', '1.5GiB', '1048576' into bytes. */
export function parseSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(s);
  if (!m) throw new FerryError('USAGE', `'${s}' is not a size; use e.g. 700M, 4G or 1048576.`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[
    m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'
  ];
  const n = Math.floor(Number(m[1]) * mult);
  if (n < 1024 * 1024)
    throw new FerryError('USAGE', `--split ${s} is too small; parts must be at least 1 MiB.`);
  return n;
}

/**
 * Export the bundle as tar parts plus an index (archive-format.ts). Each part is written to a temp
 * file, fsynced, renamed, then read back from the media in a worker and compared with the hash
 * taken while writing it; the index is written last and is the export's commit point.
 */
export async function exportArchive(bundleDir: string, opts: ExportOptions): Promise<ExportResult> {
  const started = Date.now();
  const h = jobHooks(opts);
  const src = await prepareSource(bundleDir, opts, h);
  const to = path.resolve(opts.to);
  const drive = await checkDrive(to, opts.drives, !!opts.force, (m) => h.log('warn', m));
  const created = await prepareTargetDir(to, src.manifest.id);
  // Everything up to the journal is a check: a refusal removes the folder it created, so a
  // refused export leaves nothing on the target.
  const { manifestBytes, signature, layout, parts, partSize, count } = await beforeFirstWrite(
    to,
    created,
    async () => {
      const target = await targetInfo(to, opts.target, drive);
      let manifestBytes: Buffer;
      let sigBytes: Buffer | undefined;
      let signature: ExportResult['signature'];
      if (src.unchanged) {
        manifestBytes = src.bundle.manifestBytes;
        sigBytes = src.bundle.signatureBytes;
        signature = sigBytes ? 'kept' : 'unsigned';
      } else {
        manifestBytes = serializeManifest(src.manifest as Manifest);
        parseManifest(manifestBytes);
        sigBytes = src.signer ? Buffer.from(await src.signer.sign(manifestBytes)) : undefined;
        signature = sigBytes ? 're-signed' : 'unsigned';
        if (!sigBytes)
          h.log(
            'warn',
            'The delta manifest could not be signed (no trusted source or no signing key): the export is unsigned.',
          );
      }
      const entries = [
        { rel: MANIFEST_FILE, size: manifestBytes.length, bytes: manifestBytes },
        ...(sigBytes ? [{ rel: SIGNATURE_FILE, size: sigBytes.length, bytes: sigBytes }] : []),
        ...src.files.map((f) => ({ rel: f.path, size: f.size, src: resolveInside(src.bundle.dir, f.path) })),
      ];
      const layout = tarLayout(entries);
      const limit = target.maxFileSize !== undefined ? target.maxFileSize : maxFileSize(target.fsType);
      const partSize =
        opts.split ?? (limit !== null ? Math.min(DEFAULT_FAT_PART, limit) : Math.max(layout.size, 1));
      if (limit !== null && partSize > limit) {
        throw new FerryError(
          'USAGE',
          `--split ${partSize} is larger than ${target.fsType} allows per file (${limit} bytes).`,
          {
            hint: 'Use a smaller --split, e.g. --split 4000M, or leave it out.',
          },
        );
      }
      const count = Math.max(1, Math.ceil(layout.size / partSize));
      const parts = Array.from({ length: count }, (_, i) => ({
        name: archivePartName(i, count),
        start: i * partSize,
        size: Math.min(partSize, layout.size - i * partSize),
      }));
      const pseudo = parts.map((p) => ({ path: p.name, size: p.size, sha256: '0'.repeat(64) }));
      // A resumed export counts the parts already verified on the media (see ExportJournal).
      const onMedia = await ExportJournal.verifiedBytesOnMedia(to, {
        bundleId: src.manifest.id,
        sourceKey: src.sourceKey,
        mode: 'archive',
        partSize,
      });
      preflight({
        target,
        files: pseudo,
        alreadyThere: Math.min(onMedia, layout.size),
        split: false,
        marginBytes: opts.marginBytes,
      });
      await checkWritable(to);
      return { target, manifestBytes, sigBytes, signature, layout, parts, partSize, count };
    },
  );
  const journal = await ExportJournal.open(to, {
    bundleId: src.manifest.id,
    sourceKey: src.sourceKey,
    mode: 'archive',
    partSize,
  });
  const pool = new ReadBackPool(undefined, opts.direct !== false);
  const modes: Record<ReadBackMode, number> = { direct: 0, buffered: 0 };
  // Each source file is hashed as its bytes stream into the parts, to catch a damaged source
  // without a second read; a resumed export that skipped some of its bytes hashes it afresh.
  const rehash = new SourceRehash(src.bundle.dir);
  try {
    await fs.rm(path.join(to, ARCHIVE_INDEX), { force: true });
    await fsyncDir(to);

    h.progress.setPhase('exporting');
    h.progress.bytesTotal = 2 * layout.size;
    h.progress.bytesDone = 0;
    h.progress.itemsTotal = count;
    h.progress.itemsDone = 0;
    for (const p of parts)
      h.item({ type: 'part', id: p.name, name: p.name, state: 'waiting', bytes: p.size });

    const partSha = new Map<string, string>();
    let written = 0;
    let reused = 0;
    const inflight = new Set<Promise<void>>();
    let failure: unknown;
    for (const p of parts) {
      if (failure) break;
      throwIfAborted(h.signal);
      const abs = path.join(to, p.name);
      const known = await journal.verifiedHash(abs, p.name, p.size);
      if (known) {
        partSha.set(p.name, known);
        for (const s of segmentsIn(layout.segments, p.start, p.start + p.size))
          if (s.seg.kind === 'file') rehash.skip(s.seg.rel);
        reused += p.size;
        h.progress.addBytes(2 * p.size);
        h.progress.itemsDone++;
        h.item({ type: 'part', id: p.name, name: p.name, state: 'good', bytes: p.size });
        continue;
      }
      h.item({ type: 'part', id: p.name, name: p.name, state: 'copying', bytes: p.size });
      h.progress.current = p.name;
      let sha: string;
      try {
        sha = await withMediaRetry(p.name, to, () => writePart(p, abs), {
          retries: opts.retries,
          delayMs: opts.retryDelayMs,
          signal: h.signal,
          onRetry: (err, n) =>
            h.log('warn', `Retrying ${p.name} after ${(err as Error).message} (attempt ${n}).`),
        });
      } catch (err) {
        // Parts already written still get their read-back recorded, so a rerun keeps them.
        await Promise.allSettled(inflight);
        throw err;
      }
      written += p.size;
      const rb = (async () => {
        const back = await pool.read(abs, { signal: h.signal, onBytes: (n) => h.progress.addBytes(n) });
        modes[back.mode]++;
        if (back.sha256 !== sha || back.size !== p.size) {
          throw new FerryError('IO', `${p.name} read back from the drive differs from what was written.`, {
            artifact: p.name,
            hint: 'The drive is unreliable. Run the same command again to rewrite that part, or use another drive.',
          });
        }
        partSha.set(p.name, sha);
        await journal.record(abs, p.name, p.size, sha);
        h.progress.itemsDone++;
        h.item({ type: 'part', id: p.name, name: p.name, state: 'good', bytes: p.size });
        h.report();
      })().catch((err) => {
        failure ??= err;
      });
      inflight.add(rb);
      void rb.finally(() => inflight.delete(rb));
      while (inflight.size >= pool.size * 2) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    if (failure) throw failure;

    await rehash.check(src.files, h.signal);

    const index: ArchiveIndex = {
      format: 'ferry-archive',
      version: 1,
      bundleId: src.manifest.id,
      manifestSha256: createHash('sha256').update(manifestBytes).digest('hex'),
      tarSize: layout.size,
      partSize,
      parts: parts.map((p) => ({ name: p.name, size: p.size, sha256: partSha.get(p.name)! })),
    };
    const indexBytes = Buffer.from(JSON.stringify(index, null, 2) + '\n');
    await withMediaRetry(ARCHIVE_INDEX, to, async () => {
      await writeFileAtomic(path.join(to, ARCHIVE_INDEX), indexBytes);
      const back = await pool.read(path.join(to, ARCHIVE_INDEX));
      if (back.sha256 !== createHash('sha256').update(indexBytes).digest('hex')) {
        throw Object.assign(new Error('index read back differs'), { code: 'EIO' });
      }
    });
    await journal.finish();
    for (const a of src.manifest.artifacts)
      h.item({ type: 'artifact', id: a.id, name: artifactName(a), state: 'good', bytes: 0 });
    h.progress.setPhase('done');
    h.report();
    return {
      to,
      bundleId: src.manifest.id,
      mode: 'archive',
      files: count,
      bytesWritten: written,
      bytesReused: reused,
      readBack: modes,
      signature,
      ...(signature === 're-signed' && src.signerName !== undefined ? { signer: src.signerName } : {}),
      split: [],
      archiveParts: count,
      ...(src.delta ? { delta: src.delta } : {}),
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await journal.close();
    await pool.close();
  }

  async function writePart(p: { name: string; start: number; size: number }, abs: string): Promise<string> {
    const io = opts.io ?? realIo;
    const tmp = path.join(journal.partialDir, path.basename(tempName(abs)));
    const hash = createHash('sha256');
    // Per-file running hashes are forked so a retried part does not hash bytes twice; they become
    // the files' running hashes only once the part is on the media.
    const attempts: Array<{ rel: string; hash: Hash | undefined; end: number }> = [];
    let out: fs.FileHandle | undefined;
    try {
      out = await fs.open(tmp, 'wx', 0o644);
      let pos = 0;
      for (const { seg, from, to: end } of segmentsIn(layout.segments, p.start, p.start + p.size)) {
        throwIfAborted(h.signal);
        if (seg.kind === 'bytes') {
          const b = seg.buf.subarray(from, end);
          hash.update(b);
          await io.write(out, b, b.length, pos);
          pos += b.length;
          h.progress.addBytes(b.length);
          continue;
        }
        const fork = rehash.begin(seg.rel, from);
        const inp = await fs.open(seg.src, 'r');
        try {
          const buf = Buffer.allocUnsafe(CHUNK);
          for (let off = from; off < end;) {
            const { bytesRead } = await inp.read(buf, 0, Math.min(CHUNK, end - off), off);
            if (bytesRead === 0) {
              throw new FerryError(
                'INTEGRITY',
                `${seg.rel} in the source bundle is shorter than its manifest says.`,
                {
                  artifact: seg.rel,
                  hint: 'The bundle on this machine is damaged. Run `ferry verify` on it.',
                },
              );
            }
            const b = buf.subarray(0, bytesRead);
            hash.update(b);
            fork?.update(b);
            await io.write(out, b, bytesRead, pos);
            pos += bytesRead;
            off += bytesRead;
            h.progress.addBytes(bytesRead);
            h.report();
          }
        } finally {
          await inp.close();
        }
        attempts.push({ rel: seg.rel, hash: fork, end });
      }
      await out.sync();
      await out.close();
      out = undefined;
      await fs.rename(tmp, abs);
      await fsyncDir(to);
      for (const a of attempts) rehash.commit(a.rel, a.hash, a.end);
      return hash.digest('hex');
    } catch (err) {
      await out?.close().catch(() => undefined);
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      h.progress.addBytes(0);
      throw err;
    }
  }
}

/** The pieces of the segments that fall in [start, end) of the stream, with offsets inside each segment. */
function* segmentsIn(
  segments: Segment[],
  start: number,
  end: number,
): Generator<{ seg: Segment; from: number; to: number }> {
  let at = 0;
  for (const seg of segments) {
    const len = seg.kind === 'bytes' ? seg.buf.length : seg.size;
    const s0 = at;
    const s1 = at + len;
    at = s1;
    if (s1 <= start) continue;
    if (s0 >= end) break;
    yield { seg, from: Math.max(start, s0) - s0, to: Math.min(end, s1) - s0 };
  }
}
