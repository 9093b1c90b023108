import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packagesIndexes, readKeyring, verifyInRelease } from '../../../src-main/core/kinds/deb/release.js';
import { bookwormArchive, bookwormUnavailable } from '../../helpers/deb-archive.js';
import { lacks, lacksCondition } from '../../helpers/tools.js';

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** gpgv is the oracle apt itself uses: its verdict on the same bytes must match ours. */
function gpgvAccepts(file: string): boolean {
  return spawnSync('gpgv', ['--keyring', KEYRING, file], { stdio: 'ignore' }).status === 0;
}

describe.skipIf(
  lacks('gpgv', 'lz4') ||
    lacksCondition(!!bookwormUnavailable(), bookwormUnavailable() ?? '') ||
    lacksCondition(!fs.existsSync(KEYRING), KEYRING),
)('real Debian 12 InRelease files', () => {
  it('verifies every bookworm suite with Debian’s archive keyring, as gpgv does', async () => {
    const keyring = await readKeyring(fs.readFileSync(KEYRING));
    for (const s of bookwormArchive()) {
      const file = path.join(s.dir, 'InRelease');
      const raw = fs.readFileSync(file, 'utf8');
      const date = new Date(/^Date: (.+)$/m.exec(raw)![1].replace('UTC', 'GMT'));
      // The cached indexes are one recorded moment: judge them as of an hour after their Date.
      const v = await verifyInRelease(raw, {
        suite: `debian ${s.suite}`,
        keyring,
        now: new Date(date.getTime() + 3600e3),
      });
      expect(gpgvAccepts(file)).toBe(true);
      expect(v.signers.length).toBeGreaterThan(0);
      expect(v.release.codename).toBe(s.suite);
      expect(v.text).toContain(`Codename: ${s.suite}`);
      const idx = packagesIndexes(v.release, 'main', 'amd64', s.suite);
      expect(idx.at(-1)!.path).toBe('main/binary-amd64/Packages');
      if (s.suite === 'bookworm-security') expect(v.release.components).toContain('updates/main');
    }
  });

  it('refuses a tampered real InRelease exactly when gpgv does', async () => {
    const keyring = await readKeyring(fs.readFileSync(KEYRING));
    const s = bookwormArchive()[0];
    const raw = fs.readFileSync(path.join(s.dir, 'InRelease'), 'utf8');
    const now = new Date(new Date(/^Date: (.+)$/m.exec(raw)![1].replace('UTC', 'GMT')).getTime() + 3600e3);
    // Point one index at other bytes, the attack the signature exists to stop.
    const tampered = raw.replace(
      /^ [0-9a-f]{64}( +\d+ main\/binary-amd64\/Packages)$/m,
      ` ${'0'.repeat(64)}$1`,
    );
    expect(tampered).not.toBe(raw);
    const dir = fs.mkdtempSync('/tmp/deb-release-');
    try {
      fs.writeFileSync(path.join(dir, 'InRelease'), tampered);
      expect(gpgvAccepts(path.join(dir, 'InRelease'))).toBe(false);
      await expect(
        verifyInRelease(tampered, { suite: 'debian bookworm', keyring, now }),
      ).rejects.toMatchObject({
        code: 'SIGNATURE',
        details: { reason: 'bad-signature' },
      });
      // And with the current time the security suite's week-long Valid-Until decides, not the signature.
      const sec = bookwormArchive()[2];
      const secRaw = fs.readFileSync(path.join(sec.dir, 'InRelease'), 'utf8');
      const until = new Date(/^Valid-Until: (.+)$/m.exec(secRaw)![1].replace('UTC', 'GMT'));
      await expect(
        verifyInRelease(secRaw, {
          suite: 'debian bookworm-security',
          keyring,
          now: new Date(until.getTime() + 1000),
        }),
      ).rejects.toMatchObject({ details: { reason: 'expired' } });
    } finally {
      execFileSync('rm', ['-rf', dir]);
    }
  });
});
