import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleWriter, MANIFEST_FILE, PARTIAL_DIR } from '../../../src-main/core/bundle/index.js';
import { KeyStore } from '../../../src-main/core/bundle/keys/index.js';
import { verifyBundle } from '../../../src-main/core/bundle/verify/index.js';
import { runCli } from '../../../src-main/cli/main.js';
import { captureStreams, makeKeyStore, makeSampleBundle, tempDir } from '../../helpers/bundle-fixtures.js';

let signer: Awaited<ReturnType<KeyStore['signer']>>;
let env: NodeJS.ProcessEnv;
let work: string;

beforeAll(async () => {
  const ks = await makeKeyStore('connected-laptop');
  env = ks.env;
  signer = await ks.store.signer();
  work = await tempDir();
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function fresh(name: string, opts: { signed?: boolean } = {}) {
  const dir = path.join(work, name);
  const b = await makeSampleBundle(dir, { signer: opts.signed === false ? undefined : signer });
  return b;
}

async function cli(args: string[], e = env) {
  const io = captureStreams();
  const code = await runCli(args, { ...io, env: e, signal: new AbortController().signal });
  return { code, out: io.stdout.text(), err: io.stderr.text() };
}

describe('ferry verify on an intact bundle', () => {
  it('reports trusted and verified, exit 0, with every artifact ok', async () => {
    const b = await fresh('intact');
    const r = await verifyBundle(b.dir, { keyStore: KeyStore.fromEnv(env) });
    expect(r.signature).toMatchObject({ status: 'trusted', signer: 'connected-laptop' });
    expect(r.verified).toBe(true);
    expect(r.artifacts.every((a) => a.status === 'ok')).toBe(true);
    expect(r.counts.files).toBe(r.counts.ok);
    const { code, out } = await cli(['verify', b.dir]);
    expect(code).toBe(0);
    expect(out).toContain('VERIFIED');
  });

  it('prints only JSON with --json', async () => {
    const b = await fresh('json');
    const { code, out } = await cli(['verify', '--json', b.dir]);
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report.verified).toBe(true);
    expect(report.artifacts.map((a: { kind: string }) => a.kind).sort()).toEqual([
      'file',
      'file',
      'file',
      'image',
      'image',
      'meta',
    ]);
  });
});

describe('signature cases', () => {
  it('an unknown key is refused unless --allow-untrusted, and the fingerprint is named', async () => {
    const b = await fresh('unknown');
    const other = await makeKeyStore('offline-box');
    const { code, err } = await cli(['verify', b.dir], other.env);
    expect(code).toBe(1);
    expect(err).toContain(signer!.fingerprint);
    expect(err).toMatch(/does not trust/);
    const allowed = await cli(['verify', '--allow-untrusted', '--json', b.dir], other.env);
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.out)).toMatchObject({
      ok: true,
      verified: false,
      signature: { status: 'unknown-key' },
    });
  });

  it('trusting the exported key on the other side makes it trusted, same fingerprint both sides', async () => {
    const b = await fresh('trust');
    const other = await makeKeyStore('offline-box-2');
    const exported = await cli(['keys', 'export'], env);
    const pubFile = path.join(work, 'laptop.pub');
    await fs.writeFile(pubFile, exported.out);
    const t = await cli(['keys', 'trust', pubFile], other.env);
    expect(t.code).toBe(0);
    expect(t.out).toContain(signer!.fingerprint);
    const listed = JSON.parse((await cli(['keys', 'list', '--json'], other.env)).out);
    expect(listed.map((k: { fingerprint: string }) => k.fingerprint)).toContain(signer!.fingerprint);
    expect((await cli(['verify', b.dir], other.env)).code).toBe(0);
  });

  it('unsigned bundles need --allow-unsigned', async () => {
    const b = await fresh('unsigned', { signed: false });
    const r = await cli(['verify', b.dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not signed/);
    expect((await cli(['verify', '--allow-unsigned', b.dir])).code).toBe(0);
  });

  it('a manifest changed after signing is a bad signature, whatever the flags', async () => {
    const b = await fresh('tampered');
    const mp = path.join(b.dir, MANIFEST_FILE);
    const m = JSON.parse(await fs.readFile(mp, 'utf8'));
    m.createdAt = '2020-01-01T00:00:00.000Z';
    await fs.writeFile(mp, JSON.stringify(m, null, 2) + '\n');
    const r = await cli(['verify', '--allow-untrusted', '--allow-unsigned', b.dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/signature is bad.*changed after it was signed/);
  });
});

describe('damage is reported per artifact', () => {
  it('missing, truncated, bit-flipped and extra files', async () => {
    const b = await fresh('damaged');
    const [small, mid, big] = b.files;
    await fs.rm(path.join(b.dir, small.path));
    await fs.truncate(path.join(b.dir, mid.path), 10);
    const fh = await fs.open(path.join(b.dir, big.path), 'r+');
    const one = Buffer.alloc(1);
    await fh.read(one, 0, 1, 12345);
    one[0] ^= 0x01;
    await fh.write(one, 0, 1, 12345);
    await fh.close();
    await fs.writeFile(path.join(b.dir, 'files', 'planted.sh'), 'echo hi');
    const { code, out } = await cli(['verify', '--json', b.dir]);
    expect(code).toBe(1);
    const r = JSON.parse(out);
    const byKey = Object.fromEntries(r.artifacts.map((a: { id: string }) => [a.id, a]));
    expect(byKey[`file:${small.url}`]).toMatchObject({
      status: 'missing',
      problems: [{ status: 'missing' }],
    });
    expect(byKey[`file:${mid.url}`]).toMatchObject({
      status: 'damaged',
      problems: [{ status: 'wrong-size', actualSize: 10 }],
    });
    expect(byKey[`file:${big.url}`].problems[0]).toMatchObject({ status: 'wrong-digest' });
    expect(byKey[`file:${big.url}`].problems[0].actualSha256).not.toBe(
      byKey[`file:${big.url}`].problems[0].expectedSha256,
    );
    expect(byKey[`file:${big.url}`].hint).toContain(big.url);
    expect(r.extras).toEqual(['files/planted.sh']);
    expect(r.counts).toMatchObject({ missing: 1, wrongSize: 1, wrongDigest: 1, extra: 1 });
    const text = await cli(['verify', b.dir]);
    expect(text.out).toContain('NOT VERIFIED');
    expect(text.out).toContain(big.path);
  });

  it('a damaged shared layer marks every image that uses it', async () => {
    const b = await fresh('shared-layer');
    const m = JSON.parse(await fs.readFile(path.join(b.dir, MANIFEST_FILE), 'utf8'));
    const images = m.artifacts.filter((a: { kind: string }) => a.kind === 'image');
    const shared = images[0].paths.find((p: string) => images[1].paths.includes(p));
    await fs.appendFile(path.join(b.dir, shared), 'x');
    const r = await verifyBundle(b.dir, { keyStore: KeyStore.fromEnv(env) });
    expect(r.artifacts.filter((a) => a.kind === 'image').map((a) => a.status)).toEqual([
      'damaged',
      'damaged',
    ]);
  });
});

describe('hostile bundles are refused before anything is hashed', () => {
  async function expectHostile(dir: string, pattern: RegExp) {
    const r = await cli(['verify', '--allow-unsigned', '--allow-untrusted', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(pattern);
  }

  it('a symlink inside the bundle', async () => {
    const b = await fresh('symlink');
    await fs.symlink('/etc/passwd', path.join(b.dir, 'files', 'link'));
    await expectHostile(b.dir, /symbolic link/);
  });

  it('a listed path that goes through a symlinked folder', async () => {
    const b = await fresh('symlink-dir');
    const victim = path.join(b.dir, 'files', 'dl.example.test');
    await fs.rename(victim, path.join(work, 'moved-away'));
    await fs.symlink(path.join(work, 'moved-away'), victim);
    await expectHostile(b.dir, /symbolic link/);
  });

  it('a FIFO inside the bundle', async () => {
    const b = await fresh('fifo');
    execFileSync('mkfifo', [path.join(b.dir, 'files', 'pipe')]);
    await expectHostile(b.dir, /FIFO/);
  });

  it('absolute and .. paths, duplicates, non-JSON and oversized manifests', async () => {
    for (const [name, mutate, pattern] of [
      ['abs', (m: any) => (m.files[0].path = '/etc/passwd'), /is absolute/],
      ['dotdot', (m: any) => (m.files[0].path = 'files/../../x'), /contains '\.\.'/],
      ['dup', (m: any) => m.files.push({ ...m.files[0] }), /twice/],
    ] as const) {
      const b = await fresh(`hostile-${name}`, { signed: false });
      const mp = path.join(b.dir, MANIFEST_FILE);
      const m = JSON.parse(await fs.readFile(mp, 'utf8'));
      mutate(m);
      await fs.writeFile(mp, JSON.stringify(m));
      await expectHostile(b.dir, pattern);
    }
    const b = await fresh('notjson', { signed: false });
    await fs.writeFile(path.join(b.dir, MANIFEST_FILE), 'not json at all');
    await expectHostile(b.dir, /not valid JSON/);
    const big = await fresh('huge', { signed: false });
    const fh = await fs.open(path.join(big.dir, MANIFEST_FILE), 'r+');
    await fh.truncate(65 * 1024 * 1024);
    await fh.close();
    await expectHostile(big.dir, /over the .* limit/);
  });
});

describe('an unfinished bundle', () => {
  it('is never taken for a complete one, and resumes from its journal', async () => {
    const dir = path.join(work, 'unfinished');
    const w = await BundleWriter.open(dir);
    await w.addBytes('files/h/a', Buffer.from('first file'));
    await w.addArtifact({ id: 'file:a', kind: 'file', key: 'a', url: 'https://h/a', paths: ['files/h/a'] });
    await w.close(); // a crash: no finalize
    const r = await cli(['verify', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/unfinished bundle/);
    expect(r.err).toMatch(/Run the same command again to resume/);
    const again = await BundleWriter.open(dir);
    expect(again.file('files/h/a')).toMatchObject({ size: 10 });
    expect(again.artifact('file:a')).toBeTruthy();
    await again.finalize();
    await expect(fs.access(path.join(dir, PARTIAL_DIR))).rejects.toThrow();
    expect((await cli(['verify', '--allow-unsigned', dir])).code).toBe(0);
  });

  it('a journaled file whose bytes went away is forgotten, not trusted', async () => {
    const dir = path.join(work, 'unfinished-2');
    const w = await BundleWriter.open(dir);
    await w.addBytes('files/h/b', Buffer.from('0123456789'));
    await w.close();
    await fs.truncate(path.join(dir, 'files/h/b'), 3);
    const again = await BundleWriter.open(dir);
    expect(again.file('files/h/b')).toBeUndefined();
    await again.close();
  });

  it('reopening a finished bundle keeps its content and removes the manifest until finalize', async () => {
    const b = await fresh('reopen');
    const w = await BundleWriter.open(b.dir);
    await expect(fs.access(path.join(b.dir, MANIFEST_FILE))).rejects.toThrow();
    expect(w.listArtifacts().length).toBeGreaterThan(4);
    await w.finalize({ signer: signer! });
    const r = await verifyBundle(b.dir, { keyStore: KeyStore.fromEnv(env) });
    expect(r.verified).toBe(true);
    expect(r.artifacts.filter((a) => a.kind === 'image')).toHaveLength(2);
  });
});

describe('keys', () => {
  it('the private key is mode 0600 and the fingerprint reads as four groups of four', async () => {
    const { store } = await makeKeyStore('k');
    const st = await fs.stat(path.join(store.dir, 'signing.key'));
    expect(st.mode & 0o777).toBe(0o600);
    const own = await store.ownKey();
    expect(own!.fingerprint).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
  });

  it('generate refuses to replace a key without --force', async () => {
    const { env: e } = await makeKeyStore('k2');
    const r = await cli(['keys', 'generate'], e);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/already exists/);
  });

  it('trust refuses a file that is not a public key', async () => {
    const f = path.join(work, 'junk.pub');
    await fs.writeFile(f, 'hello');
    const r = await cli(['keys', 'trust', f]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/not a PEM public key/);
  });
});
