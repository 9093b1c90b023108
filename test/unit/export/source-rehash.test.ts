import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import { SourceRehash } from '../../../src-main/core/media/export/source-rehash.js';

// The one source re-hash folder and archive export share (core/media/export/source-rehash.ts).
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function bundleWith(
  bytes: Buffer,
): Promise<{ dir: string; file: { path: string; size: number; sha256: string } }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-rehash-'));
  await fs.mkdir(path.join(dir, 'files'));
  await fs.writeFile(path.join(dir, 'files/a.bin'), bytes);
  return { dir, file: { path: 'files/a.bin', size: bytes.length, sha256: sha(bytes) } };
}

describe('SourceRehash', () => {
  const bytes = Buffer.from('0123456789abcdefghij');

  it('checks a file from the bytes written, in pieces, without reading the source', async () => {
    const { dir, file } = await bundleWith(bytes);
    const r = new SourceRehash(dir);
    // A failed first attempt at the second piece must not count its bytes.
    const a = r.begin(file.path, 0)!;
    a.update(bytes.subarray(0, 8));
    r.commit(file.path, a, 8);
    const failed = r.begin(file.path, 8)!;
    failed.update(bytes.subarray(8, 14));
    const retry = r.begin(file.path, 8)!;
    retry.update(bytes.subarray(8));
    r.commit(file.path, retry, bytes.length);
    // The source is now different on disk: only the streamed bytes were used.
    await fs.writeFile(path.join(dir, file.path), Buffer.alloc(bytes.length));
    await expect(r.check([file])).resolves.toBeUndefined();
  });

  it('refuses streamed bytes that are not the manifest’s', async () => {
    const { dir, file } = await bundleWith(bytes);
    const r = new SourceRehash(dir);
    const a = r.begin(file.path, 0)!;
    a.update(Buffer.from('X'));
    a.update(bytes.subarray(1));
    r.commit(file.path, a, bytes.length);
    const err = await r.check([file]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FerryError);
    expect((err as FerryError).code).toBe('INTEGRITY');
    expect((err as FerryError).message).toContain('files/a.bin');
  });

  it('reads the source again when the run skipped or cannot follow some of its bytes', async () => {
    const { dir, file } = await bundleWith(bytes);
    const skipped = new SourceRehash(dir);
    skipped.skip(file.path);
    expect(skipped.begin(file.path, 8)).toBeUndefined();
    await expect(skipped.check([file])).resolves.toBeUndefined();

    // A run that starts mid-file (the first part was reused) has no running hash.
    const midway = new SourceRehash(dir);
    expect(midway.begin(file.path, 8)).toBeUndefined();
    midway.commit(file.path, undefined, bytes.length);
    await fs.writeFile(path.join(dir, file.path), Buffer.alloc(bytes.length));
    const err = await midway.check([file]).catch((e: unknown) => e);
    expect((err as FerryError).code).toBe('INTEGRITY');
    expect(await midway.sourceMatches(file)).toBe(false);
  });
});
