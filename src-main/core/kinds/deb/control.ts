import fs from 'node:fs/promises';
import { ReadableStream as WebReadableStream } from 'node:stream/web';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import xz from 'xz-decompress';
import { FerryError } from '../../base/errors/index.js';

/**
 * The control file of a .deb, read from the verified file itself, as dpkg-scanpackages does:
 * Ferry's Packages index is made of these, so every field apt resolves on (Depends, Provides,
 * Multi-Arch, …) comes from the very bytes whose sha256 matched the distribution's signed stanza.
 *
 * A .deb is an ar archive: `debian-binary`, `control.tar[.gz|.xz|.zst]`, `data.tar…` (Ubuntu
 * compresses with zstd since 21.10, Debian with xz). Only the head of the file up to the end of
 * the control member is read; the control tar is a few KiB.
 */

const AR_MAGIC = '!<arch>\n';
const AR_HEADER = 60;
/** A control member is a few KiB; anything far larger is not a .deb Ferry should parse. */
const MAX_CONTROL = 16 << 20;

function bad(file: string, why: string): FerryError {
  return new FerryError('INTEGRITY', `${file} is not a Debian package: ${why}.`, {
    artifact: file,
    hint: 'The file matched its archive checksum, so the archive itself carries it; report it to the archive.',
  });
}

async function readAt(fh: fs.FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fh.read(buf, 0, len, pos);
  return buf.subarray(0, bytesRead);
}

async function unxz(data: Buffer): Promise<Buffer> {
  const stream = new xz.XzReadableStream(
    WebReadableStream.from([data]) as never,
  ) as unknown as AsyncIterable<Uint8Array>;
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/** The `control` member of a tar (ustar/GNU; control tars hold short names only). */
function controlFromTar(tar: Buffer, file: string): string {
  let off = 0;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    const type = String.fromCharCode(h[156] || 48);
    const body = off + 512;
    if ((type === '0' || type === '\0') && (name === './control' || name === 'control'))
      return tar.subarray(body, body + size).toString('utf8');
    off = body + Math.ceil(size / 512) * 512;
  }
  throw bad(file, 'its control archive has no control file');
}

/** The control file text of a .deb on disk. */
export async function readDebControl(file: string): Promise<string> {
  const fh = await fs.open(file, 'r');
  try {
    if ((await readAt(fh, 0, 8)).toString('latin1') !== AR_MAGIC) throw bad(file, 'no ar header');
    let pos = 8;
    for (let i = 0; i < 4; i++) {
      const h = await readAt(fh, pos, AR_HEADER);
      if (h.length < AR_HEADER || h.subarray(58, 60).toString('latin1') !== '`\n')
        throw bad(file, 'a damaged ar member header');
      const name = h.subarray(0, 16).toString('latin1').trim().replace(/\/$/, '');
      const size = Number(h.subarray(48, 58).toString('latin1').trim());
      if (!Number.isSafeInteger(size) || size < 0) throw bad(file, 'a bad ar member size');
      const body = pos + AR_HEADER;
      if (name.startsWith('control.tar')) {
        if (size > MAX_CONTROL) throw bad(file, `a control archive of ${size} bytes`);
        const raw = await readAt(fh, body, size);
        if (raw.length !== size) throw bad(file, 'it is cut short');
        const ext = name.slice('control.tar'.length);
        const tar =
          ext === ''
            ? raw
            : ext === '.gz'
              ? gunzipSync(raw)
              : ext === '.xz'
                ? await unxz(raw)
                : ext === '.zst'
                  ? zstdDecompressSync(raw)
                  : undefined;
        if (!tar) throw bad(file, `an unknown control compression '${ext}'`);
        return controlFromTar(tar, file);
      }
      pos = body + size + (size % 2);
    }
    throw bad(file, 'no control archive among its first members');
  } finally {
    await fh.close();
  }
}
