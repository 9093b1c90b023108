/**
 * Repository metadata comes in whatever compression the mirror chose when it ran createrepo_c:
 * gz (Rocky, Alma), xz, zst (Fedora, newer EL10 mirrors), rarely bz2, or plain. The suffix of
 * repomd's `<location href>` says which. Everything streams: a 20k-package filelists is hundreds
 * of megabytes decompressed and must never be held whole.
 */
import { pipeline, Readable } from 'node:stream';
import { ReadableStream as WebReadableStream } from 'node:stream/web';
import zlib from 'node:zlib';
import xz from 'xz-decompress';
import { FerryError } from '../../base/errors/index.js';

export type MetadataCompression = 'gz' | 'xz' | 'zst' | 'bz2' | 'none';

export function compressionOf(href: string): MetadataCompression {
  const h = href.toLowerCase();
  if (h.endsWith('.gz')) return 'gz';
  if (h.endsWith('.xz')) return 'xz';
  if (h.endsWith('.zst') || h.endsWith('.zstd')) return 'zst';
  if (h.endsWith('.bz2')) return 'bz2';
  return 'none';
}

function decodeError(href: string, e: unknown): FerryError {
  if (e instanceof FerryError) return e;
  return new FerryError('INTEGRITY', `${href}: cannot decompress (${(e as Error).message})`, {
    artifact: href,
    hint: 'the file is damaged or not what its name says; refresh the metadata or use another mirror',
    cause: e,
  });
}

/**
 * The decompressed bytes of one metadata file. Decoder failures surface as a FerryError
 * (INTEGRITY) naming the file; bz2 is refused up front (UNSUPPORTED) because Node has no bzip2
 * decoder and no EL mirror Ferry targets publishes only bz2.
 */
export function decompressedStream(body: Readable, href: string): Readable {
  const kind = compressionOf(href);
  if (kind === 'none') return body;
  if (kind === 'bz2') {
    body.destroy();
    throw new FerryError('UNSUPPORTED', `${href}: bzip2-compressed metadata is not supported`, {
      artifact: href,
      hint: 'use a mirror that publishes gz, xz or zst metadata (createrepo_c --compress-type=gz)',
    });
  }
  // The body's own failure (a network error, a checksum FerryError from a verifying tap) passes
  // through unchanged; only the decoder's is renamed as "cannot decompress <file>".
  let sourceError: unknown;
  body.on('error', (e) => {
    sourceError ??= e;
  });
  let decoded: AsyncIterable<Uint8Array>;
  if (kind === 'gz' || kind === 'zst') {
    // Large output chunks: fewer threadpool round trips and scanner calls (16 KiB default costs
    // about a third of the run in callbacks and idle waits on a 30 MB primary).
    const opts = { chunkSize: 1 << 18 };
    const decoder = kind === 'gz' ? zlib.createGunzip(opts) : zlib.createZstdDecompress(opts);
    pipeline(body, decoder, () => {});
    decoded = decoder;
  } else {
    // xz-decompress (WASM xz-embedded) takes and returns web streams; Node's are async-iterable.
    decoded = new xz.XzReadableStream(
      WebReadableStream.from(body) as never,
    ) as unknown as AsyncIterable<Uint8Array>;
  }
  async function* named(): AsyncGenerator<Uint8Array> {
    try {
      for await (const c of decoded) yield c;
    } catch (e) {
      throw sourceError ?? decodeError(href, e);
    }
    if (sourceError) throw sourceError;
  }
  return Readable.from(named(), { objectMode: false });
}
