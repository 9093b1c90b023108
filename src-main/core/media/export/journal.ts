import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { PARTIAL_DIR } from '../../bundle/manifest.js';
import { fsyncDir, writeFileAtomic } from '../../base/fs/atomic.js';

/**
 * What an unfinished export has already written and read back, kept on the media itself under
 * `.ferry-partial/` so that rerunning `ferry export` (on any machine) copies only what is missing
 * or wrong. A file counts as done only if it still has the size and mtime it had when verified.
 */

const HeaderSchema = z.object({
  bundleId: z.string(),
  /** Identifies the exact source (manifest bytes, delta base): a different one starts over. */
  sourceKey: z.string(),
  mode: z.enum(['folder', 'archive']),
  partSize: z.number(),
});
export type JournalHeader = z.infer<typeof HeaderSchema>;

const LineSchema = z.object({ path: z.string(), size: z.number(), sha256: z.string(), mtimeMs: z.number() });
type Line = z.infer<typeof LineSchema>;

/** The journal's verified lines into `done`; a torn last line (a pulled drive) is skipped. */
async function readLines(file: string, done: Map<string, Line>): Promise<void> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    try {
      const l = LineSchema.parse(JSON.parse(raw));
      done.set(l.path, l);
    } catch {
      // a torn last line from a pulled drive
    }
  }
}

export class ExportJournal {
  private done = new Map<string, Line>();
  private fh: fs.FileHandle | undefined;
  /** Verified lines not yet on the media (a full drive refused them). */
  private unwritten: Line[] = [];
  private torn = false;

  private constructor(
    readonly dir: string,
    readonly header: JournalHeader,
  ) {}

  get partialDir(): string {
    return path.join(this.dir, PARTIAL_DIR);
  }

  static async open(dir: string, header: JournalHeader): Promise<ExportJournal> {
    const j = new ExportJournal(dir, header);
    await fs.mkdir(j.partialDir, { recursive: true });
    const hPath = path.join(j.partialDir, 'export.json');
    const lPath = path.join(j.partialDir, 'export.jsonl');
    let same = false;
    try {
      const old = HeaderSchema.parse(JSON.parse(await fs.readFile(hPath, 'utf8')));
      same =
        old.sourceKey === header.sourceKey && old.mode === header.mode && old.partSize === header.partSize;
    } catch {
      same = false;
    }
    if (same) {
      await readLines(lPath, j.done);
    } else {
      await fs.rm(lPath, { force: true });
      await writeFileAtomic(hPath, JSON.stringify(header) + '\n');
    }
    // Temp files of an interrupted copy are never reused: their content was not verified.
    for (const n of await fs.readdir(j.partialDir))
      if (n.endsWith('.tmp')) await fs.rm(path.join(j.partialDir, n), { force: true });
    j.fh = await fs.open(lPath, 'a');
    return j;
  }

  /**
   * Read-only look at an earlier export's journal, for preflight before anything is written: the
   * bytes it recorded as verified that still have their size and mtime (the same test
   * `verifiedHash` applies), counted only when the journal belongs to this exact source. A resume
   * after ENOSPC must count them, or the disk it filled can never take the rest.
   */
  static async verifiedBytesOnMedia(dir: string, header: JournalHeader): Promise<number> {
    const partial = path.join(dir, PARTIAL_DIR);
    try {
      const old = HeaderSchema.parse(
        JSON.parse(await fs.readFile(path.join(partial, 'export.json'), 'utf8')),
      );
      if (old.sourceKey !== header.sourceKey || old.mode !== header.mode || old.partSize !== header.partSize)
        return 0;
    } catch {
      return 0;
    }
    const j = new ExportJournal(dir, header);
    await readLines(path.join(partial, 'export.jsonl'), j.done);
    let n = 0;
    for (const l of j.done.values()) {
      const rel = path.normalize(l.path);
      if (path.isAbsolute(rel) || rel.startsWith('..')) continue;
      if (await j.verifiedHash(path.join(dir, rel), l.path, l.size)) n += l.size;
    }
    return n;
  }

  /** Bytes the journal says are on the media and verified (used by preflight before checking). */
  get journaledBytes(): number {
    let n = 0;
    for (const l of this.done.values()) n += l.size;
    return n;
  }

  /** The sha256 `rel` had when it was verified, if it still looks untouched since. */
  async verifiedHash(abs: string, rel: string, size: number): Promise<string | undefined> {
    const l = this.done.get(rel);
    if (!l || l.size !== size) return undefined;
    try {
      const st = await fs.lstat(abs);
      return st.isFile() && st.size === size && Math.abs(st.mtimeMs - l.mtimeMs) < 1 ? l.sha256 : undefined;
    } catch {
      return undefined;
    }
  }

  async record(abs: string, rel: string, size: number, sha256: string): Promise<void> {
    const st = await fs.lstat(abs);
    const l: Line = { path: rel, size, sha256, mtimeMs: st.mtimeMs };
    this.done.set(rel, l);
    this.unwritten.push(l);
    try {
      await this.flush();
    } catch (err) {
      // The read-back of one file can finish while the copy of the next one fills the drive:
      // the journal line then meets ENOSPC too. The file is verified all the same, so the line
      // waits (flush() again once the failed copy has removed its temp file) instead of the
      // verified bytes being forgotten and copied again by the rerun.
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    }
  }

  /** Writes (and syncs) the lines a full drive refused before; throws what the drive says. */
  async flush(): Promise<void> {
    if (!this.unwritten.length) return;
    // After a refused write part of a line may be on the media: start afresh on a new line so
    // the torn one stays alone (readLines skips it) and these are read whole.
    const text = (this.torn ? '\n' : '') + this.unwritten.map((l) => JSON.stringify(l) + '\n').join('');
    try {
      await this.fh!.write(text);
    } catch (err) {
      this.torn = true;
      throw err;
    }
    this.torn = false;
    this.unwritten = [];
    await this.fh!.sync();
  }

  /**
   * The export is whole: the journal and any temp files go, then the folder's entries are made
   * durable, so a drive pulled after this shows either the finished export or the unfinished one.
   */
  async finish(): Promise<void> {
    await this.close();
    await fs.rm(this.partialDir, { recursive: true, force: true });
    await fsyncDir(this.dir);
  }

  async close(): Promise<void> {
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
  }
}
