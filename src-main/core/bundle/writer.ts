import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../base/errors/index.js';
import { copyFileHashed, fsyncDir, fsyncFile, writeFileAtomic } from '../base/fs/atomic.js';
import {
  MANIFEST_FILE,
  manifestVersionFor,
  PARTIAL_DIR,
  SIGNATURE_FILE,
  parseManifest,
  serializeManifest,
  type Artifact,
  type FileEntry,
  type Manifest,
} from './manifest.js';
import { assertBundlePath, resolveNoSymlinks } from './paths.js';
import { kindOf } from '../kinds/index.js';
import {
  OCI_DIR,
  ociBlobPath,
  buildOciIndex,
  OCI_LAYOUT_FILE,
  OCI_INDEX_FILE,
  type OciIndexEntry,
} from './oci-layout.js';

export const TOOL = 'ferry 0.1.0';

/** Signs the manifest bytes; provided by core/keys so the bundle does not depend on key storage. */
export interface ManifestSigner {
  sign(manifestBytes: Buffer): Promise<Buffer> | Buffer;
}

type JournalLine =
  | { t: 'file'; entry: FileEntry }
  | { t: 'artifact'; artifact: Artifact }
  | { t: 'drop'; artifact?: string; file?: string }
  | { t: 'meta'; kubespray?: Manifest['kubespray']; base?: Manifest['base']; id?: string };

/**
 * Builds a bundle directory (format v1). Files arrive already verified by their producer (fetch,
 * export, tests) and are moved into place by rename; every move is recorded in a journal under
 * `.ferry-partial/`, so a crash at any point leaves a bundle that is recognisably unfinished
 * (no manifest) and that the next run resumes without redoing finished work. `finalize` writes
 * the OCI index, then the manifest atomically, then the signature.
 */
export class BundleWriter {
  private files = new Map<string, FileEntry>();
  private artifacts = new Map<string, Artifact>();
  private meta: { id: string; kubespray?: Manifest['kubespray']; base?: Manifest['base'] };
  private journal: fs.FileHandle | undefined;

  private constructor(readonly dir: string) {
    this.meta = { id: randomUUID() };
  }

  get partialDir(): string {
    return path.join(this.dir, PARTIAL_DIR);
  }

  /**
   * Open a bundle folder for writing: a new one, an unfinished one (resumed from its journal) or
   * a finished one (its manifest becomes the starting state and is removed until finalize, so a
   * crash in between never leaves a manifest that does not match the files).
   */
  static async open(dir: string): Promise<BundleWriter> {
    const w = new BundleWriter(path.resolve(dir));
    await fs.mkdir(w.dir, { recursive: true });
    const st = await fs.lstat(w.dir);
    if (!st.isDirectory()) throw new FerryError('USAGE', `${w.dir} is not a folder.`, { artifact: w.dir });
    await fs.mkdir(w.partialDir, { recursive: true });
    // A process killed inside writeFileAtomic of the manifest or its signature leaves the temp
    // file beside them; nothing else writes these names, and verify would call it extra.
    for (const name of await fs.readdir(w.dir))
      if (/^\.manifest\.json(\.sig)?\.[0-9a-f]{12}\.tmp$/.test(name))
        await fs.rm(path.join(w.dir, name), { force: true });
    const manifestPath = path.join(w.dir, MANIFEST_FILE);
    let existing: Manifest | undefined;
    try {
      existing = parseManifest(await fs.readFile(manifestPath));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const journalPath = path.join(w.partialDir, 'journal.jsonl');
    if (existing) {
      w.meta = { id: existing.id, kubespray: existing.kubespray, base: existing.base };
      for (const f of existing.files) w.files.set(f.path, f);
      for (const a of existing.artifacts) w.artifacts.set(a.id, a);
      // Journal first, then drop the manifest: the state is never lost.
      await fs.rm(journalPath, { force: true });
      w.journal = await fs.open(journalPath, 'a');
      await w.append({ t: 'meta', id: w.meta.id, kubespray: w.meta.kubespray, base: w.meta.base });
      for (const f of w.files.values()) await w.append({ t: 'file', entry: f }, false);
      for (const a of w.artifacts.values()) await w.append({ t: 'artifact', artifact: a }, false);
      await w.journal.sync();
      await fs.rm(manifestPath, { force: true });
      await fs.rm(path.join(w.dir, SIGNATURE_FILE), { force: true });
      await fsyncDir(w.dir);
    } else {
      await w.replayJournal(journalPath);
      w.journal = await fs.open(journalPath, 'a');
      await w.append({ t: 'meta', id: w.meta.id, kubespray: w.meta.kubespray, base: w.meta.base });
    }
    return w;
  }

  private async replayJournal(journalPath: string): Promise<void> {
    let text: string;
    try {
      text = await fs.readFile(journalPath, 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let j: JournalLine;
      try {
        j = JSON.parse(line);
      } catch {
        continue; // a torn last line from a crash
      }
      if (j.t === 'file') this.files.set(j.entry.path, j.entry);
      else if (j.t === 'artifact') this.artifacts.set(j.artifact.id, j.artifact);
      else if (j.t === 'drop') {
        if (j.artifact) this.artifacts.delete(j.artifact);
        if (j.file) this.files.delete(j.file);
      } else if (j.t === 'meta')
        this.meta = { id: j.id ?? this.meta.id, kubespray: j.kubespray, base: j.base };
    }
    // A journaled file that is gone or has another size since is forgotten and fetched again.
    for (const [p, f] of [...this.files]) {
      try {
        const st = await fs.lstat(path.join(this.dir, ...p.split('/')));
        if (!st.isFile() || st.size !== f.size) this.files.delete(p);
      } catch {
        this.files.delete(p);
      }
    }
  }

  private async append(line: JournalLine, sync = true): Promise<void> {
    if (!this.journal) throw new FerryError('INTERNAL', 'Bundle writer is closed.');
    await this.journal.write(JSON.stringify(line) + '\n');
    if (sync) await this.journal.sync();
  }

  get id(): string {
    return this.meta.id;
  }

  setKubespray(k: Manifest['kubespray']): Promise<void> {
    this.meta.kubespray = k;
    return this.append({ t: 'meta', ...this.meta });
  }

  setBase(base: Manifest['base']): Promise<void> {
    this.meta.base = base;
    return this.append({ t: 'meta', ...this.meta });
  }

  /** The verified entry for a path, if the bundle already holds it. */
  file(relPath: string): FileEntry | undefined {
    return this.files.get(relPath);
  }

  hasBlob(digest: string): boolean {
    return this.files.has(ociBlobPath(digest));
  }

  artifact(id: string): Artifact | undefined {
    return this.artifacts.get(id);
  }

  listArtifacts(): Artifact[] {
    return [...this.artifacts.values()];
  }

  /** A fresh temp path on the bundle's own file system, so commit is a rename. */
  tempPath(hint = 'download'): string {
    return path.join(
      this.partialDir,
      `${hint.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80)}.${randomUUID()}.part`,
    );
  }

  /**
   * A stable temp path for resuming a download of `key` (e.g. its URL or digest): the same key
   * always maps to the same file, so a crashed download continues from its partial bytes.
   */
  resumePath(key: string): string {
    return path.join(
      this.partialDir,
      'resume',
      createHash('sha256').update(key).digest('hex').slice(0, 32) + '.part',
    );
  }

  /**
   * Move a verified temp file into the bundle. `entry` is what the producer measured while
   * writing it (size and sha256); the producer is responsible for having checked it.
   */
  async commitFile(tmp: string, relPath: string, hash: { size: number; sha256: string }): Promise<FileEntry> {
    assertBundlePath(relPath);
    const dest = await resolveNoSymlinks(this.dir, relPath);
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await fsyncFile(tmp);
    await fs.rename(tmp, dest);
    await fsyncDir(path.dirname(dest));
    const entry: FileEntry = { path: relPath, size: hash.size, sha256: hash.sha256 };
    this.files.set(relPath, entry);
    await this.append({ t: 'file', entry });
    return entry;
  }

  /** Copy a local file into the bundle, hashing it on the way; optionally check a published sha256. */
  async addFileFromPath(
    src: string,
    relPath: string,
    opts: {
      expectSha256?: string;
      signal?: AbortSignal | undefined;
      onBytes?: ((n: number) => void) | undefined;
    } = {},
  ): Promise<FileEntry> {
    const tmp = this.tempPath(path.basename(relPath));
    const h = await copyFileHashed(src, tmp, opts);
    if (opts.expectSha256 && h.sha256 !== opts.expectSha256) {
      await fs.rm(tmp, { force: true });
      throw new FerryError('CHECKSUM', `${src} has sha256 ${h.sha256}, expected ${opts.expectSha256}.`, {
        artifact: relPath,
        hint: 'The file is not the one the plan names. Check the source or the checksum in the profile.',
      });
    }
    return this.commitFile(tmp, relPath, h);
  }

  /** Small generated files (plan.json): written and hashed in memory. */
  async addBytes(relPath: string, data: Buffer | string): Promise<FileEntry> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    const tmp = this.tempPath(path.basename(relPath));
    await fs.writeFile(tmp, buf);
    return this.commitFile(tmp, relPath, {
      size: buf.length,
      sha256: createHash('sha256').update(buf).digest('hex'),
    });
  }

  /** Record a blob the producer wrote and verified against its digest. */
  async commitBlob(tmp: string, digest: string, size: number): Promise<FileEntry> {
    return this.commitFile(tmp, ociBlobPath(digest), { size, sha256: digest.slice('sha256:'.length) });
  }

  /** Small blobs (manifests, configs) held in memory; the digest is computed here. */
  async addBlobBytes(data: Buffer): Promise<{ digest: string; entry: FileEntry }> {
    const digest = 'sha256:' + createHash('sha256').update(data).digest('hex');
    const rel = ociBlobPath(digest);
    const have = this.files.get(rel);
    if (have) return { digest, entry: have };
    return { digest, entry: await this.addBytes(rel, data) };
  }

  async addArtifact(a: Artifact): Promise<void> {
    for (const p of a.paths) assertBundlePath(p);
    this.artifacts.set(a.id, a);
    await this.append({ t: 'artifact', artifact: a });
  }

  /** Drop an artifact (e.g. one a new plan no longer names); its files stay until removeFile. */
  async removeArtifact(id: string): Promise<void> {
    if (!this.artifacts.delete(id)) return;
    await this.append({ t: 'drop', artifact: id });
  }

  /** Forget a file and delete it from the folder (journal first, so a crash never resurrects it). */
  async removeFile(relPath: string): Promise<void> {
    assertBundlePath(relPath);
    if (!this.files.delete(relPath)) return;
    await this.append({ t: 'drop', file: relPath });
    await fs.rm(await resolveNoSymlinks(this.dir, relPath), { force: true });
  }

  listFiles(): FileEntry[] {
    return [...this.files.values()];
  }

  /** Absolute path of a committed blob, for producers that read back what they wrote (configs). */
  blobFile(digest: string): string {
    return path.join(this.dir, ...ociBlobPath(digest).split('/'));
  }

  /**
   * Finish the bundle: OCI layout files, then the manifest (atomic), then its signature. Files
   * no artifact refers to are reported by verify as extras, so everything written must belong
   * to an artifact; the OCI layout files and plan are filed under 'meta' artifacts here.
   */
  async finalize(opts: { signer?: ManifestSigner | undefined; createdAt?: Date } = {}): Promise<Manifest> {
    // index.json names exactly the image artifacts (blobs committed by their producer), each
    // under its full original reference.
    const images: OciIndexEntry[] = [];
    for (const a of this.artifacts.values()) {
      const entry = kindOf(a).ociIndexEntry?.(a);
      if (entry) images.push(entry);
    }
    if (images.length > 0 || this.files.has(`${OCI_DIR}/${OCI_INDEX_FILE}`)) {
      const layout = Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }) + '\n');
      const index = buildOciIndex(images);
      await this.addBytes(`${OCI_DIR}/${OCI_LAYOUT_FILE}`, layout);
      await this.addBytes(`${OCI_DIR}/${OCI_INDEX_FILE}`, index);
      await this.addArtifact({
        id: 'meta:oci-layout',
        kind: 'meta',
        name: 'OCI image layout',
        paths: [`${OCI_DIR}/${OCI_LAYOUT_FILE}`, `${OCI_DIR}/${OCI_INDEX_FILE}`],
      });
    }
    const artifacts = [...this.artifacts.values()].sort((a, b) => a.id.localeCompare(b.id));
    const manifest: Manifest = {
      format: 'ferry-bundle',
      version: manifestVersionFor(artifacts),
      id: this.meta.id,
      createdAt: (opts.createdAt ?? new Date()).toISOString(),
      tool: TOOL,
      ...(this.meta.kubespray ? { kubespray: this.meta.kubespray } : {}),
      ...(this.meta.base ? { base: this.meta.base } : {}),
      artifacts,
      files: [...this.files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    };
    const bytes = serializeManifest(manifest);
    parseManifest(bytes); // never write what we would refuse to read
    await this.journal?.close();
    this.journal = undefined;
    // The manifest is the commit point: temp files and journal go only after it is durable.
    await writeFileAtomic(path.join(this.dir, MANIFEST_FILE), bytes);
    if (opts.signer) {
      const sig = await opts.signer.sign(bytes);
      await writeFileAtomic(path.join(this.dir, SIGNATURE_FILE), sig);
    }
    await fs.rm(this.partialDir, { recursive: true, force: true });
    await fsyncDir(this.dir);
    return manifest;
  }

  /** Close without finishing: the journal stays, the next open resumes. */
  async close(): Promise<void> {
    await this.journal?.close();
    this.journal = undefined;
  }
}
