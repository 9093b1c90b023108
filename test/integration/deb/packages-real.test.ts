import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLocalPackages } from '../../../src-main/core/kinds/deb/packages.js';
import { packagesIndexes, readKeyring, verifyInRelease } from '../../../src-main/core/kinds/deb/release.js';
import { bookwormArchive, bookwormUnavailable } from '../../helpers/deb-archive.js';
import { lacks, lacksCondition } from '../../helpers/tools.js';

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

describe.skipIf(
  lacks('lz4') ||
    lacksCondition(!!bookwormUnavailable(), bookwormUnavailable() ?? '') ||
    lacksCondition(!fs.existsSync(KEYRING), KEYRING),
)('real bookworm Packages indexes', () => {
  it('streams every suite verified against its InRelease, each form giving the same records', async () => {
    const keyring = await readKeyring(fs.readFileSync(KEYRING));
    for (const s of bookwormArchive()) {
      const raw = fs.readFileSync(path.join(s.dir, 'InRelease'), 'utf8');
      const date = new Date(/^Date: (.+)$/m.exec(raw)![1].replace('UTC', 'GMT'));
      const v = await verifyInRelease(raw, {
        suite: s.suite,
        keyring,
        now: new Date(date.getTime() + 3600e3),
      });
      const all = packagesIndexes(v.release, 'main', 'amd64', s.suite);
      const plainFile = path.join(s.dir, 'main/binary-amd64/Packages');
      const text = fs.readFileSync(plainFile, 'utf8');
      // An independent reading of the same file: one Package line and one SHA256 line per stanza.
      const names = [...text.matchAll(/^Package: (\S+)$/gm)].map((m) => m[1]);
      const hashes = [...text.matchAll(/^SHA256: (\S+)$/gm)].map((m) => m[1]);
      const forms = all.filter((c) => fs.existsSync(path.join(s.dir, c.path)));
      expect(forms.length).toBeGreaterThan(0);
      let first: string[] | undefined;
      for (const c of forms) {
        const ps = await readLocalPackages(s.dir, v.release, [c], `debian ${s.suite}`);
        expect(ps.map((p) => p.package)).toEqual(names);
        expect(ps.map((p) => p.sha256)).toEqual(hashes);
        const keys = ps.map((p) => `${p.package} ${p.version} ${p.depends.length}`);
        if (first) expect(keys).toEqual(first);
        first = keys;
      }
    }
  }, 120_000);
});
