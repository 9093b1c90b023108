import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FerryError } from '../../../src-main/core/base/errors/index.js';
import {
  packagesIndexes,
  parseRelease,
  readKeyring,
  verifyInRelease,
  type Keyring,
} from '../../../src-main/core/kinds/deb/release.js';
import { clearsign, releaseText, testSigningKey } from '../../helpers/deb-sign.js';

const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');
const DATE = new Date('2026-07-11T10:16:37Z');

const fields = {
  Origin: 'Ferry',
  Label: 'Ferry-Security',
  Suite: 'oldstable-security',
  Codename: 'bookworm-security',
  Date: 'Sat, 11 Jul 2026 10:16:37 UTC',
  'Valid-Until': 'Sat, 18 Jul 2026 10:16:37 UTC',
  Architectures: 'amd64 arm64',
  Components: 'updates/main updates/contrib',
};
const files = {
  'main/binary-amd64/Packages': 'Package: a\n',
  'main/binary-amd64/Packages.xz': 'xz-bytes',
  'contrib/binary-amd64/Packages': '',
};

async function rejection(p: Promise<unknown>): Promise<FerryError> {
  try {
    await p;
  } catch (e) {
    return e as FerryError;
  }
  throw new Error('expected a refusal');
}

describe('InRelease verification', () => {
  let signed: string;
  let keyring: Keyring;
  let other: Keyring;
  let key: Awaited<ReturnType<typeof testSigningKey>>;
  beforeAll(async () => {
    key = await testSigningKey();
    signed = await clearsign(releaseText(fields, files, sha), key.privateKey, DATE);
    keyring = await readKeyring(key.binaryKeyring);
    other = await readKeyring((await testSigningKey('someone else')).binaryKeyring);
  });

  it('returns the signed Release, its dates and hashes', async () => {
    const v = await verifyInRelease(signed, {
      suite: 'ferry bookworm-security',
      keyring,
      now: new Date('2026-07-12T00:00:00Z'),
    });
    expect(v.signers).toEqual([key.publicKey.getKeyID().toHex()]);
    expect(v.release.codename).toBe('bookworm-security');
    expect(v.release.date?.toISOString()).toBe('2026-07-11T10:16:37.000Z');
    expect(v.release.files.get('main/binary-amd64/Packages')).toEqual({
      sha256: sha('Package: a\n'),
      size: 11,
    });
  });

  it('reads armoured keyrings as well as binary ones', async () => {
    const armoured = await readKeyring(Buffer.from(key.publicKey.armor()));
    const v = await verifyInRelease(signed, { suite: 's', keyring: armoured, now: DATE });
    expect(v.signers).toHaveLength(1);
  });

  it('refuses an InRelease altered after signing, naming the suite', async () => {
    const tampered = signed.replace('Label: Ferry-Security', 'Label: Ferry-Insecure');
    expect(tampered).not.toBe(signed);
    const e = await rejection(
      verifyInRelease(tampered, { suite: 'ferry bookworm-security', keyring, now: DATE }),
    );
    expect(e.code).toBe('SIGNATURE');
    expect(e.details?.reason).toBe('bad-signature');
    expect(e.message).toMatch(/ferry bookworm-security.*bad signature/);
  });

  it('refuses a Release signed by a key outside the keyring', async () => {
    const e = await rejection(
      verifyInRelease(signed, { suite: 'ferry bookworm', keyring: other, now: DATE }),
    );
    expect(e.details?.reason).toBe('no-trusted-key');
    expect(e.hint).toMatch(/keyring/);
  });

  it('refuses text that is not clearsigned', async () => {
    const e = await rejection(
      verifyInRelease(releaseText(fields, files, sha), { suite: 'x', keyring, now: DATE }),
    );
    expect(e.details?.reason).toBe('unsigned');
  });

  it('refuses a Release past its Valid-Until and says to refresh', async () => {
    const e = await rejection(
      verifyInRelease(signed, {
        suite: 'ferry bookworm-security',
        keyring,
        now: new Date('2026-07-18T10:16:38Z'),
      }),
    );
    expect(e.details?.reason).toBe('expired');
    expect(e.message).toMatch(/ferry bookworm-security expired on 2026-07-18/);
    expect(e.hint).toMatch(/refresh/);
    // One second earlier it is still valid.
    await verifyInRelease(signed, { suite: 's', keyring, now: new Date('2026-07-18T10:16:37Z') });
  });

  it('refuses a Release dated in the future', async () => {
    const e = await rejection(
      verifyInRelease(signed, { suite: 'ferry bookworm', keyring, now: new Date('2026-07-11T10:16:00Z') }),
    );
    expect(e.details?.reason).toBe('future');
    expect(e.hint).toMatch(/clock/);
  });

  it('refuses a Release whose Date field is ahead of the clock even when its signature is not', async () => {
    const early = await clearsign(
      releaseText(fields, files, sha),
      key.privateKey,
      new Date('2026-07-10T00:00:00Z'),
    );
    const e = await rejection(
      verifyInRelease(early, { suite: 'ferry bookworm', keyring, now: new Date('2026-07-11T09:00:00Z') }),
    );
    expect(e.details?.reason).toBe('future');
    expect(e.message).toMatch(/dated 2026-07-11T10:16:37/);
  });
});

describe('Packages index lookup', () => {
  const r = parseRelease(releaseText(fields, files, sha), 'ferry bookworm-security');

  it('maps the security archive updates/main to files under main/, best compression first', () => {
    for (const asked of ['main', 'updates/main']) {
      expect(packagesIndexes(r, asked, 'amd64', 's').map((c) => [c.path, c.compression])).toEqual([
        ['main/binary-amd64/Packages.xz', 'xz'],
        ['main/binary-amd64/Packages', 'none'],
      ]);
    }
  });

  it('falls back to the uncompressed index when that is all the Release lists', () => {
    expect(packagesIndexes(r, 'contrib', 'amd64', 's').map((c) => c.compression)).toEqual(['none']);
  });

  it('names the suite when a component or architecture is missing', () => {
    expect(() => packagesIndexes(r, 'universe', 'amd64', 'ferry jammy')).toThrow(
      /ferry jammy has no component universe/,
    );
    expect(() => packagesIndexes(r, 'main', 'riscv64', 'ferry jammy')).toThrow(/no architecture riscv64/);
    expect(() => packagesIndexes(r, 'main', 'arm64', 'ferry jammy')).toThrow(
      /no Packages index for main\/binary-arm64/,
    );
  });

  it('refuses a Release without SHA256 hashes', () => {
    expect(() =>
      parseRelease(
        'Suite: x\nMD5Sum:\n d41d8cd98f00b204e9800998ecf8427e 0 main/binary-amd64/Packages\n',
        'old',
      ),
    ).toThrow(/old lists no SHA256/);
  });
});
