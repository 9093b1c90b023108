/**
 * The metadata files a repomd names (primary, filelists, modules), fetched through Ferry's
 * download layer (mirrors, proxy, client certificate, retries) and checked against repomd's
 * checksum while they stream. A verified file is kept in the cache under its checksum, so
 * planning again reads it from disk, and a cached file is re-checked as it is read.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline, Transform, type Readable } from 'node:stream';
import { FerryError } from '../../base/errors/index.js';
import { discardPartial, downloadToFile } from '../../fetch/download/download-file.js';
import { mirrorUrl } from '../../fetch/download/mirrors.js';
import type { RepoRef, RepomdContext, RepomdEntry } from './repomd.js';

/** Checksum types whose digest the download layer computes while the bytes stream. */
const STREAMED = new Set(['sha256', 'sha512']);

function cachePath(cacheDir: string, e: RepomdEntry): string {
  const ext = /\.(gz|xz|zst|bz2)$/.exec(e.href)?.[0] ?? '';
  // `indexes/`, as the deb kind's cache, so pruneIndexCache drops what no plan read for a month.
  return path.join(cacheDir, 'indexes', `${e.checksum.type}-${e.checksum.value}${ext}`);
}

/**
 * The local path of a verified metadata file: from the cache when there, else downloaded with
 * its repomd checksum (and size) checked as it streams. A mismatch refuses the file, naming it
 * and the repository; nothing unverified is left in the cache.
 */
export async function fetchMetadata(ctx: RepomdContext, repo: RepoRef, e: RepomdEntry): Promise<string> {
  const what = `${repo.label} ${e.href}`;
  if (!STREAMED.has(e.checksum.type)) {
    throw new FerryError(
      'INTEGRITY',
      `${what}: repomd gives a ${e.checksum.type || 'missing'} checksum, which Ferry does not accept.`,
      { artifact: what, hint: 'use a mirror whose repodata has sha256 checksums (createrepo_c’s default)' },
    );
  }
  const file = cachePath(ctx.cacheDir, e);
  const have = await fs.stat(file).then(
    (st) => e.size === undefined || st.size === e.size,
    () => false,
  );
  if (!have) {
    const part = `${file}.part`;
    await fs.mkdir(path.dirname(file), { recursive: true });
    try {
      await downloadToFile(ctx.client, {
        url: mirrorUrl(`${repo.baseurl.replace(/\/+$/, '')}/${e.href}`, ctx.mirrors),
        dest: part,
        ...(e.checksum.type === 'sha256'
          ? { expectSha256: e.checksum.value }
          : { expectSha512: e.checksum.value }),
        ...(e.size !== undefined ? { expectSize: e.size } : {}),
        label: what,
        // One connection: the raw segmented path would not carry a client certificate (CDN).
        segments: false,
        checksumHint: `the mirror serves another ${e.type} than its repomd.xml names: the repository is being updated or was altered; try again or use another mirror`,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
    } catch (err) {
      await discardPartial(part);
      throw err;
    }
    await fs.rename(part, file);
    await fs.rm(`${part}.json`, { force: true });
  }
  // Marks the file as in use, for pruneIndexCache.
  const t = new Date();
  await fs.utimes(file, t, t).catch(() => undefined);
  return file;
}

/**
 * A stream of a cached metadata file that checks its checksum again as it is read, so a cache
 * file damaged on disk is refused (and removed) instead of being parsed as truth. The error is
 * raised on the stream at its end, before the reader can take the last records as complete.
 */
export function verifiedStream(file: string, e: RepomdEntry, what: string): Readable {
  const h = createHash(e.checksum.type);
  const check = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      const got = h.digest('hex');
      if (got === e.checksum.value) return cb();
      void fs.rm(file, { force: true });
      cb(
        new FerryError('INTEGRITY', `${what}: the cached copy does not match repomd.xml (${got}).`, {
          artifact: what,
          hint: 'the cached file was removed; plan again to download it afresh',
        }),
      );
    },
  });
  pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), check, (err) => {
    if (err && !check.destroyed) check.destroy(err);
  });
  return check;
}
