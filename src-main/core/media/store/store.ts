import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { dataDir } from '../../base/config/dirs.js';
import { FerryError } from '../../base/errors/index.js';
import { fsyncDir, writeFileAtomic } from '../../base/fs/atomic.js';
import { parseManifest, type Manifest } from '../../bundle/manifest.js';

/**
 * The local content-addressed store that `ferry import` fills:
 *
 *   <store>/blobs/sha256/<hex>              every file of every bundle, stored once by content
 *   <store>/bundles/<id>/<v>/manifest.json      the bundle's manifest, exact bytes as signed
 *   <store>/bundles/<id>/<v>/manifest.json.sig  its detached signature, if any
 *   <store>/bundles/<id>/<v>/record.json        import record: when, from where, signature, status
 *
 * <v> is the first 16 hex digits of the manifest's sha256: a bundle refetched incrementally keeps
 * its id, so its versions (and a delta naming the exact version it builds on) sit side by side.
 *   <store>/quarantine/<id>/<stamp>/<path>  damaged bytes kept for inspection, never served
 *   <store>/tmp/                            imports in flight (same file system: commit = rename)
 *
 * A blob is only ever renamed into blobs/ after its sha256 matched a signed manifest, so the
 * store never holds a blob under the wrong name, and bundles sharing artifacts share blobs.
 */

export const RecordSchema = z.object({
  bundleId: z.string(),
  manifestSha256: z.string(),
  importedAt: z.string(),
  source: z.string(),
  signature: z.object({
    status: z.string(),
    fingerprint: z.string().optional(),
    signer: z.string().optional(),
  }),
  /** complete: every file present and verified; incomplete: see damaged/missing. */
  status: z.enum(['complete', 'incomplete']),
  damaged: z.array(z.object({ path: z.string(), sha256: z.string(), quarantined: z.string().optional() })),
  missing: z.array(z.object({ path: z.string(), sha256: z.string() })),
  base: z.object({ id: z.string(), manifestSha256: z.string() }).optional(),
  bytes: z.number(),
});
export type BundleRecord = z.infer<typeof RecordSchema>;

export interface StoredBundle {
  record: BundleRecord;
  manifest: Manifest;
  manifestBytes: Buffer;
  signatureBytes?: Buffer;
  dir: string;
}

export function defaultStoreDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(dataDir(env), 'store');
}

/** A folder name for a bundle id: the id itself when it is tame, else a hash of it. */
export function bundleDirName(id: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id) && !id.endsWith('.')
    ? id
    : 'id-' + createHash('sha256').update(id).digest('hex').slice(0, 40);
}

export class Store {
  readonly root: string;
  constructor(root: string) {
    this.root = path.resolve(root);
  }

  get blobsDir(): string {
    return path.join(this.root, 'blobs', 'sha256');
  }
  get tmpDir(): string {
    return path.join(this.root, 'tmp');
  }
  blobPath(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256))
      throw new FerryError('HOSTILE', `'${sha256.slice(0, 80)}' is not a sha256.`);
    return path.join(this.blobsDir, sha256);
  }
  bundleDir(id: string, manifestSha256: string): string {
    return path.join(this.root, 'bundles', bundleDirName(id), manifestSha256.slice(0, 16));
  }

  async init(): Promise<void> {
    for (const d of [
      this.blobsDir,
      this.tmpDir,
      path.join(this.root, 'bundles'),
      path.join(this.root, 'quarantine'),
    ]) {
      await fs.mkdir(d, { recursive: true });
    }
  }

  /**
   * A fresh temp path inside the store, named after this process (`<pid>-<uuid>.tmp`) so a later
   * import can tell a dead import's leftovers from the temp files of one still running.
   */
  tempPath(): string {
    return path.join(this.tmpDir, `${process.pid}-${randomUUID()}.tmp`);
  }

  /**
   * Remove the temp files imports that died (SIGKILL, power loss) left behind; called with the
   * store lock held. The lock alone would be enough if it were airtight, but its stale-lock
   * takeover can race (two processes both see a dead holder), so each temp file is also checked
   * against its owner's pid: a file whose process is alive is never touched. A recycled pid only
   * keeps leftovers until a later import or `store gc`; it never deletes live work. Names without a
   * pid come from a Ferry before this rule; no running import writes them, so they go too.
   */
  async removeDeadTemp(): Promise<{ files: number; bytes: number }> {
    const res = { files: 0, bytes: 0 };
    for (const name of await fs.readdir(this.tmpDir).catch(() => [] as string[])) {
      const m = /^(\d+)-[0-9a-f-]+\.tmp$/.exec(name);
      if (m && pidAlive(Number(m[1]))) continue;
      const p = path.join(this.tmpDir, name);
      const st = await fs.lstat(p).catch(() => undefined);
      if (!st) continue;
      await fs.rm(p, { recursive: true, force: true });
      res.files++;
      res.bytes += st.size;
    }
    return res;
  }

  async hasBlob(sha256: string, size: number): Promise<boolean> {
    try {
      const st = await fs.lstat(this.blobPath(sha256));
      return st.isFile() && st.size === size;
    } catch {
      return false;
    }
  }

  /** Move a verified temp file in as the blob for `sha256` (the caller checked the hash). */
  async commitBlob(tmp: string, sha256: string): Promise<void> {
    const dest = this.blobPath(sha256);
    const fh = await fs.open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, dest);
    await fsyncDir(this.blobsDir);
  }

  /** Keep damaged bytes out of the blobs, under the bundle path they claimed to be. */
  async quarantine(tmp: string, bundleId: string, rel: string, stamp: string): Promise<string> {
    const safe = rel
      .split('/')
      .map((s) => s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120) || '_')
      .join(path.sep);
    const dest = path.join(this.root, 'quarantine', bundleDirName(bundleId), stamp, safe);
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await fs.rename(tmp, dest);
    return dest;
  }

  async writeBundle(
    manifestBytes: Buffer,
    signatureBytes: Buffer | undefined,
    record: BundleRecord,
  ): Promise<void> {
    const dir = this.bundleDir(record.bundleId, record.manifestSha256);
    await fs.mkdir(dir, { recursive: true });
    await writeFileAtomic(path.join(dir, 'manifest.json'), manifestBytes);
    if (signatureBytes) await writeFileAtomic(path.join(dir, 'manifest.json.sig'), signatureBytes);
    else await fs.rm(path.join(dir, 'manifest.json.sig'), { force: true });
    await this.writeRecord(record);
  }

  async writeRecord(record: BundleRecord): Promise<void> {
    await writeFileAtomic(
      path.join(this.bundleDir(record.bundleId, record.manifestSha256), 'record.json'),
      JSON.stringify(record, null, 2) + '\n',
    );
  }

  /** One version of a bundle (exact manifest sha256), or its latest imported version. */
  async get(id: string, manifestSha256?: string): Promise<StoredBundle | undefined> {
    if (manifestSha256) {
      const b = await this.load(this.bundleDir(id, manifestSha256)).catch(() => undefined);
      return b && b.record.manifestSha256 === manifestSha256 ? b : undefined;
    }
    const all = (await this.list()).filter((b) => b.record.bundleId === id);
    return all[all.length - 1];
  }

  private async load(dir: string): Promise<StoredBundle | undefined> {
    let recText: string;
    try {
      recText = await fs.readFile(path.join(dir, 'record.json'), 'utf8');
    } catch {
      return undefined;
    }
    const record = RecordSchema.parse(JSON.parse(recText));
    const manifestBytes = await fs.readFile(path.join(dir, 'manifest.json'));
    const manifest = parseManifest(manifestBytes, path.join(dir, 'manifest.json'));
    const signatureBytes = await fs.readFile(path.join(dir, 'manifest.json.sig')).catch(() => undefined);
    return { record, manifest, manifestBytes, ...(signatureBytes ? { signatureBytes } : {}), dir };
  }

  async list(): Promise<StoredBundle[]> {
    let names: string[] = [];
    try {
      names = await fs.readdir(path.join(this.root, 'bundles'));
    } catch {
      return [];
    }
    const out: StoredBundle[] = [];
    for (const n of names.sort()) {
      const versions = await fs.readdir(path.join(this.root, 'bundles', n)).catch(() => [] as string[]);
      for (const v of versions.sort()) {
        const b = await this.load(path.join(this.root, 'bundles', n, v)).catch(() => undefined);
        if (b) out.push(b);
      }
    }
    return out.sort((a, b) => a.record.importedAt.localeCompare(b.record.importedAt));
  }

  /** Remove one version of a bundle, or all its versions; the blobs go at the next gc. */
  async remove(id: string, manifestSha256?: string): Promise<number> {
    const victims = (await this.list()).filter(
      (b) =>
        b.record.bundleId === id && (!manifestSha256 || b.record.manifestSha256.startsWith(manifestSha256)),
    );
    for (const b of victims) await fs.rm(b.dir, { recursive: true, force: true });
    await fs
      .rm(path.join(this.root, 'bundles', bundleDirName(id)), { recursive: false })
      .catch(() => undefined);
    return victims.length;
  }

  /**
   * Take the store for an operation that must not overlap gc (import, gc, rm). A lock left by a
   * process that died is taken over.
   */
  async lock(): Promise<() => Promise<void>> {
    await this.init();
    const file = path.join(this.root, '.lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await fs.open(file, 'wx');
        await fh.write(String(process.pid));
        await fh.close();
        return async () => {
          await fs.rm(file, { force: true });
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const pid = Number(await fs.readFile(file, 'utf8').catch(() => ''));
        if (pidAlive(pid)) {
          throw new FerryError('IO', `The store ${this.root} is in use by process ${pid}.`, {
            hint: 'Wait for the other import or gc to finish, then run this again.',
          });
        }
        await fs.rm(file, { force: true });
      }
    }
    throw new FerryError('IO', `Cannot lock the store ${this.root}.`);
  }
}

/** Whether process `pid` exists (EPERM: it does, under another user). This host's pids only. */
function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
