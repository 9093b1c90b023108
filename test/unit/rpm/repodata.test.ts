import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import * as openpgp from 'openpgp';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import type { RpmHeader, RpmHeaderDep } from '../../../src-main/core/kinds/rpm/header.js';
import { buildRpmRepodata, isPrimaryFile, repodataDeps } from '../../../src-main/core/kinds/rpm/repodata.js';
import { testSigningKey } from '../../helpers/deb-sign.js';

/**
 * repodata.ts on hand-made headers: the createrepo_c rules that the fixture's packages do not all
 * reach (rpmlib, duplicates, own files, escaping, the changelog limit), the repomd checksums of
 * each file, and the detached signature verifying with the signer's key.
 */

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const dep = (name: string, rawFlags = 0, more: Partial<RpmHeaderDep> = {}): RpmHeaderDep => ({
  name,
  rawFlags,
  ...more,
});

function header(over: Partial<RpmHeader> = {}): RpmHeader {
  return {
    name: 'p',
    version: '1.0',
    release: '1.el9',
    arch: 'x86_64',
    sourcePackage: false,
    summary: 'A & B <c>',
    description: 'x\u0001y "quoted"',
    buildTime: 1700000000,
    installedSize: 10,
    archiveSize: 20,
    headerRange: { start: 100, end: 200 },
    provides: [dep('p', 8, { flags: 'EQ', ver: '1.0', rel: '1.el9' })],
    requires: [],
    conflicts: [],
    obsoletes: [],
    recommends: [],
    suggests: [],
    supplements: [],
    enhances: [],
    files: [],
    changelog: [],
    ...over,
  };
}

async function signer(): Promise<{ detachSign: (d: Uint8Array) => Promise<string>; key: openpgp.PublicKey }> {
  const k = await testSigningKey();
  return {
    key: k.publicKey,
    detachSign: async (data) =>
      openpgp.sign({
        message: await openpgp.createMessage({ binary: data }),
        signingKeys: k.privateKey,
        detached: true,
        format: 'armored',
      }),
  };
}

describe('repodataDeps (createrepo_c rules)', () => {
  it('drops rpmlib, own primary files, self-provided and duplicate requires; keeps pre', () => {
    const h = header({
      files: [{ path: '/usr/bin/p', type: 'file', mode: 0o100755, flags: 0 }],
      provides: [dep('config(p)', 8, { flags: 'EQ', ver: '1.0', rel: '1.el9' })],
      requires: [
        dep('rpmlib(PayloadIsZstd)', (1 << 24) | 8, { flags: 'LE', ver: '5.4.18', rel: '1' }),
        dep('/usr/bin/p'),
        dep('/usr/bin/other'),
        dep('config(p)', 8, { flags: 'EQ', ver: '1.0', rel: '1.el9' }),
        dep('q', 0),
        dep('q', 1 << 9, { pre: true }),
        dep('r', 12, { flags: 'GE', ver: '2' }),
      ],
    });
    expect(repodataDeps(h).requires.map((d) => [d.name, !!d.pre])).toEqual([
      ['/usr/bin/other', false],
      ['q', true],
      ['r', false],
    ]);
  });

  it('lists the primary files createrepo_c lists', () => {
    expect(
      ['/etc/x', '/usr/bin/x', '/usr/sbin/y', '/bin/z', '/usr/lib/sendmail', '/usr/share/x', '/etcx'].filter(
        isPrimaryFile,
      ),
    ).toEqual(['/etc/x', '/usr/bin/x', '/usr/sbin/y', '/bin/z', '/usr/lib/sendmail']);
  });
});

describe('buildRpmRepodata', () => {
  it('writes checksummed, escaped metadata and a detached signature that verifies', async () => {
    const s = await signer();
    const changelog = Array.from({ length: 12 }, (_, i) => ({
      author: `A <a@x> - ${12 - i}`,
      date: 2000 - i,
      text: `- e${12 - i}`,
    }));
    const files = await buildRpmRepodata(
      [
        {
          location: 'Packages/p/p-1.0-1.el9.x86_64.rpm',
          sha256: 'a'.repeat(64),
          size: 1234,
          mtime: 1700000001,
          header: header({
            changelog,
            requires: [dep('r', 12, { flags: 'GE', ver: '2', epoch: 1 })],
            files: [
              { path: '/etc/p.conf', type: 'file', mode: 0o100644, flags: 1 },
              { path: '/usr/share/p', type: 'dir', mode: 0o40755, flags: 0 },
              { path: '/var/log/p', type: 'ghost', mode: 0o100644, flags: 64 },
            ],
          }),
        },
      ],
      { signer: s, modules: '---\ndocument: modulemd\n...\n', revision: 'r1', timestamp: 1 },
    );
    const byName = new Map(files.map((f) => [f.path.replace(/^repodata\/[0-9a-f]{64}-/, 'repodata/'), f]));
    expect([...byName.keys()].sort()).toEqual([
      'repodata/filelists.xml.gz',
      'repodata/modules.yaml.gz',
      'repodata/other.xml.gz',
      'repodata/primary.xml.gz',
      'repodata/repomd.xml',
      'repodata/repomd.xml.asc',
    ]);
    const repomd = Buffer.from(byName.get('repodata/repomd.xml')!.data).toString('utf8');
    expect(repomd).toContain('<revision>r1</revision>');
    for (const f of files.filter((x) => !x.path.endsWith('repomd.xml') && !x.path.endsWith('.asc'))) {
      // The name carries the compressed file's sha256, and repomd lists both checksums and sizes.
      const digest = sha(f.data);
      expect(f.path).toContain(digest);
      const open = gunzipSync(f.data);
      const block = new RegExp(
        `<checksum type="sha256">${digest}</checksum>\\s*<open-checksum type="sha256">${sha(open)}</open-checksum>\\s*<location href="${f.path}"/>\\s*<timestamp>1</timestamp>\\s*<size>${f.data.length}</size>\\s*<open-size>${open.length}</open-size>`,
      );
      expect(repomd).toMatch(block);
    }
    const primary = gunzipSync(byName.get('repodata/primary.xml.gz')!.data).toString('utf8');
    expect(primary).toContain('<summary>A &amp; B &lt;c&gt;</summary>');
    expect(primary).toContain('<description>xy "quoted"</description>');
    expect(primary).toContain('<time file="1700000001" build="1700000000"/>');
    expect(primary).toContain('<rpm:entry name="r" flags="GE" epoch="1" ver="2"/>');
    expect(primary).toContain('<file>/etc/p.conf</file>');
    expect(primary).not.toContain('/usr/share/p');
    const filelists = gunzipSync(byName.get('repodata/filelists.xml.gz')!.data).toString('utf8');
    expect(filelists).toContain('<file type="dir">/usr/share/p</file>');
    expect(filelists).toContain('<file type="ghost">/var/log/p</file>');
    const other = gunzipSync(byName.get('repodata/other.xml.gz')!.data).toString('utf8');
    const dates = [...other.matchAll(/date="(\d+)"/g)].map((m) => Number(m[1]));
    expect(dates).toEqual([1991, 1992, 1993, 1994, 1995, 1996, 1997, 1998, 1999, 2000]);
    expect(other).toContain('author="A &lt;a@x&gt; - 12"');

    const asc = Buffer.from(byName.get('repodata/repomd.xml.asc')!.data).toString('utf8');
    const v = await openpgp.verify({
      message: await openpgp.createMessage({ binary: byName.get('repodata/repomd.xml')!.data }),
      signature: await openpgp.readSignature({ armoredSignature: asc }),
      verificationKeys: s.key,
    });
    await expect(v.signatures[0].verified).resolves.toBe(true);
  });

  it('refuses a location listed twice, naming it', async () => {
    const s = await signer();
    const e = { location: 'Packages/p/p.rpm', sha256: 'b'.repeat(64), size: 1, header: header() };
    const err = await buildRpmRepodata([e, e], { signer: s }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(FerryError);
    expect((err as FerryError).artifact).toBe('Packages/p/p.rpm');
  });
});
