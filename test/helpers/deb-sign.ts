import * as openpgp from 'openpgp';

/** A throw-away OpenPGP signing key for synthetic archives (Ubuntu layouts, tamper tests). */
export async function testSigningKey(name = 'Ferry test archive'): Promise<{
  privateKey: openpgp.PrivateKey;
  publicKey: openpgp.PublicKey;
  binaryKeyring: Uint8Array;
}> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy',
    userIDs: [{ name }],
    format: 'object',
    date: new Date('2020-01-01T00:00:00Z'),
  });
  return { privateKey, publicKey, binaryKeyring: publicKey.write() };
}

export async function clearsign(
  text: string,
  privateKey: openpgp.PrivateKey,
  date = new Date(),
): Promise<string> {
  const message = await openpgp.createCleartextMessage({ text });
  return openpgp.sign({ message, signingKeys: privateKey, date });
}

/** A Release text in the archive's own layout, for the given files (path → bytes). */
export function releaseText(
  fields: Record<string, string>,
  files: Record<string, Uint8Array | string>,
  sha256: (b: Uint8Array | string) => string,
): string {
  const head = Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  const lines = Object.entries(files).map(
    ([p, b]) =>
      ` ${sha256(b)} ${String(typeof b === 'string' ? Buffer.byteLength(b) : b.length).padStart(8)} ${p}`,
  );
  return `${head}\nSHA256:\n${lines.join('\n')}\n`;
}
