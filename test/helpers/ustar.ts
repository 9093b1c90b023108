/**
 * Tars written by hand, field by field as POSIX ustar lays them out, for fixtures whose bytes
 * must not depend on the tar library the code under test reads them with: regular files only,
 * mode 0644, owner 0, the checksum summed over the header with its own field as spaces.
 */

export interface TarFile {
  name: string;
  content: Buffer;
}

/** One regular file's 512-byte header; `mtime` in seconds (0 unless a fixture needs a date). */
export function ustarHeader(name: string, size: number, mtime = 0): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write(mtime.toString(8).padStart(11, '0') + '\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

/** The files in order, each padded to a 512-byte block, then the two zero blocks that end a tar. */
export function ustar(files: readonly TarFile[], mtime = 0): Buffer {
  const parts: Buffer[] = [];
  for (const f of files)
    parts.push(
      ustarHeader(f.name, f.content.length, mtime),
      f.content,
      Buffer.alloc((512 - (f.content.length % 512)) % 512),
    );
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
