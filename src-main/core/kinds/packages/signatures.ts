import type * as openpgp from 'openpgp';

type Verification = Awaited<ReturnType<typeof openpgp.verify>>['signatures'][number];

/** One index's signatures sorted the way apt and dnf read them. */
export interface SortedSignatures {
  /** Key ids (hex) of the signatures that verify. */
  good: string[];
  /** `<key id>: <why>` for each signature by a key we hold that does not verify: tampering. */
  bad: string[];
  /** Every signature's key id, for the message when none is good ('none' when unsigned). */
  ids: string;
}

/**
 * Sorts openpgp's verification results of an InRelease or a repomd.xml.asc: a signature by a key
 * we do not hold is ignored, as apt and dnf do (Debian signs with several keys, not all in every
 * keyring); one by a key we hold that does not verify is bad. `onBad` sees such a failure first
 * and may throw a more precise refusal (the InRelease's signature from the future).
 */
export async function sortSignatures(
  signatures: readonly Verification[],
  keys: readonly openpgp.Key[],
  onBad?: (sig: Verification) => Promise<void>,
): Promise<SortedSignatures> {
  const known = new Set(keys.flatMap((k) => k.getKeyIDs().map((id) => id.toHex())));
  const good: string[] = [];
  const bad: string[] = [];
  for (const sig of signatures) {
    const id = sig.keyID.toHex();
    try {
      await sig.verified;
      good.push(id);
    } catch (e) {
      if (!known.has(id)) continue;
      await onBad?.(sig);
      bad.push(`${id}: ${(e as Error).message}`);
    }
  }
  return { good, bad, ids: signatures.map((s) => s.keyID.toHex()).join(', ') || 'none' };
}
