import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExportJournal, type JournalHeader } from '../../../src-main/core/media/export/journal.js';

/**
 * The export journal on a drive that fills up: a file verified while the next copy meets ENOSPC
 * stays counted (its line waits and is written once the failed copy freed its temp file), and
 * a line the drive tore in half never hides the lines written after it.
 */
const header: JournalHeader = { bundleId: 'b', sourceKey: 'k', mode: 'folder', partSize: 0 };
let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-journal-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function file(name: string, bytes: number): Promise<string> {
  const abs = path.join(dir, name);
  await fs.writeFile(abs, Buffer.alloc(bytes, 7));
  return abs;
}

/** Makes the journal's next write fail as a full drive does, after writing `partial` bytes. */
function fullDrive(j: ExportJournal, partial = 0): () => void {
  const fh = (j as unknown as { fh: fs.FileHandle }).fh;
  const write = fh.write.bind(fh);
  (fh as { write: unknown }).write = async (text: string) => {
    if (partial) await write(text.slice(0, partial));
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  };
  return () => {
    (fh as { write: unknown }).write = write;
  };
}

describe('the export journal on a full drive', () => {
  it('keeps a verified line the drive refused and writes it once there is room', async () => {
    const j = await ExportJournal.open(dir, header);
    const a = await file('a', 100);
    const room = fullDrive(j);
    await expect(j.record(a, 'a', 100, 'aa')).resolves.toBeUndefined();
    // Not on the media yet: a rerun now would not know it.
    expect(await ExportJournal.verifiedBytesOnMedia(dir, header)).toBe(0);
    room();
    await j.flush();
    expect(await ExportJournal.verifiedBytesOnMedia(dir, header)).toBe(100);
    await j.close();
  });

  it('a line torn by the full drive leaves the lines after it readable', async () => {
    const j = await ExportJournal.open(dir, header);
    const a = await file('a', 100);
    const b = await file('b', 50);
    const room = fullDrive(j, 20);
    await j.record(a, 'a', 100, 'aa');
    room();
    await j.record(b, 'b', 50, 'bb');
    await j.close();
    // Both a (rewritten whole after the torn start) and b count.
    expect(await ExportJournal.verifiedBytesOnMedia(dir, header)).toBe(150);
  });

  it('any other write error is the caller’s to see', async () => {
    const j = await ExportJournal.open(dir, header);
    const a = await file('a', 10);
    const fh = (j as unknown as { fh: fs.FileHandle }).fh;
    (fh as { write: unknown }).write = async () => {
      throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
    };
    await expect(j.record(a, 'a', 10, 'aa')).rejects.toThrow(/EIO/);
    await fs.rm(path.join(dir, '.ferry-partial'), { recursive: true, force: true });
  });
});
