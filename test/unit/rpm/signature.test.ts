import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHeaderSignature } from '../../../src-main/core/kinds/rpm/signature.js';

/**
 * The header signature check on hand-made packages: a lead, a signature header whose RSAHEADER
 * tag holds a detached OpenPGP signature over the main header's bytes, then that main header.
 * (Real rpmsign-signed packages: test/integration/rpm/carry-dnf.test.ts.)
 */

const MAGIC = Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0]);

/** A header structure: magic, index count, store size, one index entry per tag, the store. */
function headerStruct(tags: Array<{ tag: number; type: number; data: Buffer }>): Buffer {
  const index = Buffer.alloc(16 * tags.length);
  const parts: Buffer[] = [];
  let off = 0;
  tags.forEach((t, i) => {
    index.writeUInt32BE(t.tag, i * 16);
    index.writeUInt32BE(t.type, i * 16 + 4);
    index.writeUInt32BE(off, i * 16 + 8);
    index.writeUInt32BE(t.data.length, i * 16 + 12);
    parts.push(t.data);
    off += t.data.length;
  });
  const counts = Buffer.alloc(8);
  counts.writeUInt32BE(tags.length, 0);
  counts.writeUInt32BE(off, 4);
  return Buffer.concat([MAGIC, counts, index, ...parts]);
}

async function rpmFile(
  dir: string,
  name: string,
  key: openpgp.PrivateKey | undefined,
  alter?: (main: Buffer) => void,
): Promise<{ file: string; range: { start: number; end: number } }> {
  const lead = Buffer.alloc(96);
  lead.writeUInt32BE(0xedabeedb, 0);
  // A main header with one string tag (NAME): what the signature covers, magic included.
  const main = headerStruct([{ tag: 1000, type: 6, data: Buffer.from('ferry-core\0') }]);
  const sigTags = key
    ? [
        {
          tag: 268,
          type: 7,
          data: Buffer.from(
            await openpgp.sign({
              message: await openpgp.createMessage({ binary: main }),
              signingKeys: key,
              detached: true,
              format: 'binary',
            }),
          ),
        },
      ]
    : [{ tag: 1000, type: 7, data: Buffer.alloc(4) }];
  const sig = headerStruct(sigTags);
  const pad = Buffer.alloc((8 - (sig.length % 8)) % 8);
  alter?.(main);
  const start = lead.length + sig.length + pad.length;
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.concat([lead, sig, pad, main, Buffer.from('payload')]));
  return { file, range: { start, end: start + main.length } };
}

describe('the .rpm header signature check', () => {
  let dir: string;
  let key: openpgp.PrivateKey;
  let other: openpgp.PrivateKey;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-rpm-sig-'));
    const gen = (name: string) =>
      openpgp
        .generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ name }], format: 'object' })
        .then((k) => k.privateKey);
    key = await gen('distribution');
    other = await gen('someone else');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('accepts a header signed by a carried key, naming the key', async () => {
    const { file, range } = await rpmFile(dir, 'ok.rpm', key);
    expect(await checkHeaderSignature(file, range, [key.toPublic()])).toEqual({
      ok: true,
      keyId: key.getKeyID().toHex().toUpperCase(),
    });
  });

  it('refuses a header changed after signing', async () => {
    const { file, range } = await rpmFile(dir, 'altered.rpm', key, (main) => {
      main[main.length - 3] ^= 0x20;
    });
    const r = await checkHeaderSignature(file, range, [key.toPublic()]);
    expect(r).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('says which key signed a package signed by no carried key', async () => {
    const { file, range } = await rpmFile(dir, 'other.rpm', other);
    const r = await checkHeaderSignature(file, range, [key.toPublic()]);
    expect(r).toEqual({
      ok: false,
      reason: 'unknown-key',
      detail: `signed by key ${other.getKeyID().toHex().toUpperCase()}`,
    });
  });

  it('tells an unsigned package and a file that is no package apart', async () => {
    const unsigned = await rpmFile(dir, 'unsigned.rpm', undefined);
    expect(await checkHeaderSignature(unsigned.file, unsigned.range, [key.toPublic()])).toMatchObject({
      ok: false,
      reason: 'unsigned',
    });
    const junk = path.join(dir, 'junk.rpm');
    fs.writeFileSync(junk, Buffer.alloc(200, 0x41));
    expect(await checkHeaderSignature(junk, { start: 100, end: 150 }, [key.toPublic()])).toMatchObject({
      ok: false,
      reason: 'malformed',
    });
  });
});
