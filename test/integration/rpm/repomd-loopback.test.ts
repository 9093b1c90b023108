import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../../src-main/core/fetch/download/http-client.js';
import { fetchMetadata, verifiedStream } from '../../../src-main/core/kinds/rpm/metadata.js';
import { loadRepomd, readPinnedKeys, type RepoRef } from '../../../src-main/core/kinds/rpm/repomd.js';
import { serveDir, type StaticServer } from '../../helpers/static-server.js';

/**
 * repomd.xml and its metadata over loopback: a repository signed with a throw-away key, as a
 * mirror publishes it, then the same with one byte changed in each file in turn.
 */
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const primaryXml = gzipSync(Buffer.from('<?xml version="1.0"?><metadata packages="0"></metadata>\n'));

function repomdFor(primary: Buffer, href: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1733300000</revision>
  <data type="primary">
    <checksum type="sha256">${sha(primary)}</checksum>
    <open-checksum type="sha256">${'0'.repeat(64)}</open-checksum>
    <location href="${href}"/>
    <timestamp>1733300000</timestamp>
    <size>${primary.length}</size>
    <open-size>60</open-size>
  </data>
</repomd>
`;
}

let dir: string;
let server: StaticServer;
let client: HttpClient;
let key: openpgp.PrivateKey;
let pub: string;
let otherPub: string;
let repo: RepoRef;
const href = `repodata/${sha(primaryXml)}-primary.xml.gz`;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpm-plan-repomd-'));
  const k = await openpgp.generateKey({
    userIDs: [{ name: 'Ferry test repo' }],
    type: 'ecc',
    curve: 'ed25519Legacy',
  });
  key = await openpgp.readPrivateKey({ armoredKey: k.privateKey });
  pub = k.publicKey;
  otherPub = (
    await openpgp.generateKey({ userIDs: [{ name: 'Someone else' }], type: 'ecc', curve: 'ed25519Legacy' })
  ).publicKey;
  const root = path.join(dir, 'os');
  fs.mkdirSync(path.join(root, 'repodata'), { recursive: true });
  const repomd = repomdFor(primaryXml, href);
  fs.writeFileSync(path.join(root, 'repodata/repomd.xml'), repomd);
  fs.writeFileSync(path.join(root, href), primaryXml);
  const sig = await openpgp.sign({
    message: await openpgp.createMessage({ binary: Buffer.from(repomd) }),
    signingKeys: key,
    detached: true,
  });
  fs.writeFileSync(path.join(root, 'repodata/repomd.xml.asc'), sig);
  server = await serveDir(dir);
  client = new HttpClient({ retry: { attempts: 1 } });
  repo = { id: 'baseos', baseurl: `${server.url}/os/`, label: 'rocky-9 baseos x86_64' };
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const ctx = () => ({ client, cacheDir: path.join(dir, `cache-${Math.random()}`) });

describe('repomd.xml: signature and checksums', () => {
  it('verifies a signed repomd and lists its primary', async () => {
    const keys = await readPinnedKeys(Buffer.from(pub), 'test key');
    const r = await loadRepomd(ctx(), repo, keys);
    expect(r.signed).toBe(true);
    expect(r.signers).toHaveLength(1);
    expect(r.repomd.revision).toBe('1733300000');
    expect(r.repomd.data.get('primary')).toMatchObject({
      href,
      checksum: { type: 'sha256', value: sha(primaryXml) },
    });
    expect(r.sha256).toBe(sha(fs.readFileSync(path.join(dir, 'os/repodata/repomd.xml'))));
  });

  it('refuses a repomd changed after signing, naming the repository and the file', async () => {
    const keys = await readPinnedKeys(Buffer.from(pub), 'test key');
    const text = fs.readFileSync(path.join(dir, 'os/repodata/repomd.xml'), 'utf8');
    server.overrides.set('/os/repodata/repomd.xml', text.replace('1733300000', '1733300001'));
    try {
      await expect(loadRepomd(ctx(), repo, keys)).rejects.toMatchObject({
        code: 'SIGNATURE',
        artifact: 'rocky-9 baseos x86_64 repodata/repomd.xml',
        message: expect.stringMatching(/bad signature/),
      });
    } finally {
      server.overrides.delete('/os/repodata/repomd.xml');
    }
  });

  it('refuses a repomd signed by a key it was not given', async () => {
    const keys = await readPinnedKeys(Buffer.from(otherPub), 'other key');
    await expect(loadRepomd(ctx(), repo, keys)).rejects.toMatchObject({
      code: 'SIGNATURE',
      hint: expect.stringMatching(/--rpm-key/),
    });
  });

  it('says when a repository publishes no signature, and still reads it', async () => {
    server.overrides.set('/os/repodata/repomd.xml.asc', null);
    const logs: string[] = [];
    try {
      const r = await loadRepomd({ ...ctx(), log: (m: string) => logs.push(m) }, repo, []);
      expect(r.signed).toBe(false);
      expect(logs.join('\n')).toMatch(/rocky-9 baseos x86_64: repomd.xml is not signed/);
    } finally {
      server.overrides.delete('/os/repodata/repomd.xml.asc');
    }
  });

  it('pinned keys: the published fingerprint passes, any other key file is refused', async () => {
    const fpr = (await openpgp.readKey({ armoredKey: pub })).getFingerprint().toUpperCase();
    await expect(readPinnedKeys(Buffer.from(pub), 'k', [fpr])).resolves.toHaveLength(1);
    await expect(
      readPinnedKeys(Buffer.from(otherPub), 'https://x/RPM-GPG-KEY-Rocky-9', [fpr]),
    ).rejects.toMatchObject({
      code: 'SIGNATURE',
      artifact: 'https://x/RPM-GPG-KEY-Rocky-9',
      message: expect.stringContaining(fpr),
    });
    // A key file that gained a second key is refused too.
    const both = Buffer.from(
      (await openpgp.readKey({ armoredKey: pub })).armor() +
        '\n' +
        (await openpgp.readKey({ armoredKey: otherPub })).armor(),
    );
    await expect(readPinnedKeys(both, 'k', [fpr])).rejects.toMatchObject({ code: 'SIGNATURE' });
    await expect(readPinnedKeys(Buffer.from('<html>'), 'k', [fpr])).rejects.toMatchObject({
      code: 'SIGNATURE',
    });
  });

  it('fetches primary against repomd’s checksum, caches it, and refuses a tampered one by name', async () => {
    const keys = await readPinnedKeys(Buffer.from(pub), 'test key');
    const c = ctx();
    const r = await loadRepomd(c, repo, keys);
    const entry = r.repomd.data.get('primary')!;
    const file = await fetchMetadata(c, repo, entry);
    expect(fs.readFileSync(file).equals(primaryXml)).toBe(true);
    // From the cache the second time: the server is not asked.
    const before = server.requests.filter((p) => p.endsWith('primary.xml.gz')).length;
    await fetchMetadata(c, repo, entry);
    expect(server.requests.filter((p) => p.endsWith('primary.xml.gz')).length).toBe(before);

    const bad = Buffer.from(primaryXml);
    bad[bad.length - 5] ^= 1;
    server.overrides.set(`/os/${href}`, bad);
    try {
      await expect(fetchMetadata(ctx(), repo, entry)).rejects.toMatchObject({
        code: 'CHECKSUM',
        artifact: expect.stringContaining(`rocky-9 baseos x86_64 ${href}`),
      });
    } finally {
      server.overrides.delete(`/os/${href}`);
    }
  });

  it('a cached copy damaged on disk is refused as it is read, and removed', async () => {
    const c = ctx();
    const r = await loadRepomd(c, repo, await readPinnedKeys(Buffer.from(pub), 'k'));
    const entry = r.repomd.data.get('primary')!;
    const file = await fetchMetadata(c, repo, entry);
    const good: Buffer[] = [];
    for await (const ch of verifiedStream(file, entry, 'primary')) good.push(ch as Buffer);
    expect(Buffer.concat(good).equals(primaryXml)).toBe(true);
    const b = fs.readFileSync(file);
    b[3] ^= 1;
    fs.writeFileSync(file, b);
    const read = async () => {
      for await (const _ of verifiedStream(file, entry, 'rocky-9 baseos primary')) void _;
    };
    await expect(read()).rejects.toMatchObject({ code: 'INTEGRITY', artifact: 'rocky-9 baseos primary' });
    await new Promise((r) => setTimeout(r, 50));
    expect(fs.existsSync(file)).toBe(false);
  });

  it('refuses a repomd that is not repository metadata', async () => {
    server.overrides.set('/os/repodata/repomd.xml', '<html><body>captive portal</body></html>');
    server.overrides.set('/os/repodata/repomd.xml.asc', null);
    try {
      await expect(loadRepomd(ctx(), repo, [])).rejects.toMatchObject({
        code: 'INTEGRITY',
        message: expect.stringMatching(/lists no primary/),
      });
    } finally {
      server.overrides.delete('/os/repodata/repomd.xml');
      server.overrides.delete('/os/repodata/repomd.xml.asc');
    }
  });
});
