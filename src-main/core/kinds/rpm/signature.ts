import fs from 'node:fs/promises';
import * as openpgp from 'openpgp';

/**
 * The header-only OpenPGP signature of an .rpm (signature header tag RSAHEADER 268, or
 * DSAHEADER 267 on old packages), checked with openpgp.js against the keys a plan carries, so
 * the connected side needs no rpm tooling. It covers the main header exactly as stored (its magic
 * included, rpm's rpmvs header digest), and the main header holds the payload digest, so a valid
 * header signature vouches for the whole package, as `rpmkeys --checksig` and dnf's gpgcheck
 * read it. Only the header bytes are read, never the payload.
 */

const LEAD_SIZE = 96;
const HEADER_MAGIC = 0x8eade801;
const RPMSIGTAG_DSA = 267;
const RPMSIGTAG_RSA = 268;
const BIN_TYPE = 7;

export type HeaderSignatureCheck =
  | { ok: true; keyId: string }
  | { ok: false; reason: 'unsigned' | 'bad-signature' | 'unknown-key' | 'malformed'; detail: string };

async function readAt(fh: fs.FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fh.read(buf, 0, len, pos);
  if (bytesRead !== len) throw new Error(`the file ends at byte ${pos + bytesRead}, inside its headers`);
  return buf;
}

/** The RSA (else DSA) header signature packet from the signature header, if there is one. */
async function headerSignaturePacket(fh: fs.FileHandle): Promise<Buffer | undefined> {
  const pre = await readAt(fh, LEAD_SIZE, 16);
  if (pre.readUInt32BE(0) !== HEADER_MAGIC) throw new Error('no signature header magic after the lead');
  const nindex = pre.readUInt32BE(8);
  const hsize = pre.readUInt32BE(12);
  // rpm's own limits for a signature header (hdrblob: 32 index entries' worth is far more than used).
  if (nindex > 0x10000 || hsize > 64 << 20) throw new Error('the signature header is implausibly large');
  const body = await readAt(fh, LEAD_SIZE + 16, nindex * 16 + hsize);
  const store = body.subarray(nindex * 16);
  let found: { tag: number; data: Buffer } | undefined;
  for (let i = 0; i < nindex; i++) {
    const tag = body.readUInt32BE(i * 16);
    const type = body.readUInt32BE(i * 16 + 4);
    const offset = body.readUInt32BE(i * 16 + 8);
    const count = body.readUInt32BE(i * 16 + 12);
    if ((tag !== RPMSIGTAG_RSA && tag !== RPMSIGTAG_DSA) || type !== BIN_TYPE) continue;
    if (offset + count > store.length)
      throw new Error(`signature tag ${tag} points outside the signature header`);
    if (!found || tag === RPMSIGTAG_RSA)
      found = { tag, data: Buffer.from(store.subarray(offset, offset + count)) };
  }
  return found?.data;
}

/**
 * Verify one .rpm's header signature. `headerRange` is the main header's byte range (header.ts
 * gives it); `keys` the carried public keys.
 */
export async function checkHeaderSignature(
  file: string,
  headerRange: { start: number; end: number },
  keys: readonly openpgp.Key[],
): Promise<HeaderSignatureCheck> {
  const fh = await fs.open(file, 'r');
  try {
    let packet: Buffer | undefined;
    let header: Buffer;
    try {
      packet = await headerSignaturePacket(fh);
      if (!packet) return { ok: false, reason: 'unsigned', detail: 'no RSA or DSA header signature' };
      header = await readAt(fh, headerRange.start, headerRange.end - headerRange.start);
    } catch (err) {
      return { ok: false, reason: 'malformed', detail: (err as Error).message };
    }
    let signature: openpgp.Signature;
    try {
      signature = await openpgp.readSignature({ binarySignature: packet });
    } catch (err) {
      return {
        ok: false,
        reason: 'malformed',
        detail: `the header signature does not parse: ${(err as Error).message}`,
      };
    }
    const issuer = signature.getSigningKeyIDs().map((id) => id.toHex().toUpperCase());
    const known = keys.filter((k) => k.getKeyIDs().some((id) => issuer.includes(id.toHex().toUpperCase())));
    if (known.length === 0)
      return {
        ok: false,
        reason: 'unknown-key',
        detail: `signed by key ${issuer.join(', ') || '(no issuer)'}`,
      };
    const message = await openpgp.createMessage({ binary: header });
    const r = await openpgp.verify({ message, signature, verificationKeys: [...known] });
    try {
      await r.signatures[0].verified;
      return { ok: true, keyId: r.signatures[0].keyID.toHex().toUpperCase() };
    } catch (err) {
      return { ok: false, reason: 'bad-signature', detail: (err as Error).message };
    }
  } finally {
    await fh.close();
  }
}
