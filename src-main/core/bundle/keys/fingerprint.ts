import { createHash } from 'node:crypto';

// Crockford's base32: no I, L, O or U, so a fingerprint read aloud cannot be misheard as another.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A key's fingerprint: SHA-256 of the raw 32-byte Ed25519 public key, the first 80 bits in
 * Crockford base32, as four groups of four ('7KQ2-M9XD-...'), short enough to compare by eye.
 */
export function fingerprint(rawPublicKey: Buffer): string {
  const h = createHash('sha256').update(rawPublicKey).digest();
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of h.subarray(0, 10)) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out.match(/.{4}/g)!.join('-');
}
