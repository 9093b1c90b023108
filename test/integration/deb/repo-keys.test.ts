import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as openpgp from 'openpgp';
import { runCli } from '../../../src-main/cli/main.js';
import { ensureRepoSigner, repoKeyInfo } from '../../../src-main/core/bundle/keys/repo-key.js';

async function ferry(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (out += c));
  const code = await runCli(args, { stdout, stderr, env, signal: new AbortController().signal });
  return { code, out };
}

describe('the OpenPGP repository key beside the bundle-signing key', () => {
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-repo-keys-'));
    env = { HOME: tmp, FERRY_CONFIG_DIR: path.join(tmp, 'cfg') };
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('ferry keys generate makes both; ferry keys list shows the repository key by its OpenPGP fingerprint', async () => {
    const g = await ferry(['keys', 'generate', '--name', 'laptop'], env);
    expect(g.code).toBe(0);
    const info = await repoKeyInfo(path.join(tmp, 'cfg', 'keys'));
    expect(info?.fingerprint).toMatch(/^[0-9A-F]{40}$/);
    expect(g.out).toContain(info!.fingerprint);
    const l = await ferry(['keys', 'list'], env);
    expect(l.out).toMatch(new RegExp(`^${info!.fingerprint}  repo `, 'm'));
    const j = JSON.parse((await ferry(['keys', 'list', '--json'], env)).out);
    expect(j).toContainEqual(expect.objectContaining({ fingerprint: info!.fingerprint, kind: 'repository' }));
    // A v4 Ed25519 key (what Debian 12's gpgv reads), private part kept 0600.
    const key = await openpgp.readKey({ armoredKey: info!.armoredPublicKey });
    expect(key.keyPacket.version).toBe(4);
    expect(fs.statSync(path.join(tmp, 'cfg', 'keys', 'repo-signing.asc')).mode & 0o777).toBe(0o600);
  });

  it('keys generate keeps an existing repository key unless --force, which replaces both', async () => {
    const before = (await repoKeyInfo(path.join(tmp, 'cfg', 'keys')))!.fingerprint;
    expect((await ferry(['keys', 'generate'], env)).code).not.toBe(0);
    expect((await repoKeyInfo(path.join(tmp, 'cfg', 'keys')))!.fingerprint).toBe(before);
    expect((await ferry(['keys', 'generate', '--force'], env)).code).toBe(0);
    expect((await repoKeyInfo(path.join(tmp, 'cfg', 'keys')))!.fingerprint).not.toBe(before);
  });

  it('a fetch on a machine without keys makes the repository key on first use', async () => {
    const dir = path.join(tmp, 'fresh-keys');
    const s = await ensureRepoSigner(dir);
    expect((await ensureRepoSigner(dir)).fingerprint).toBe(s.fingerprint);
    const signed = await s.clearsign('Origin: Ferry\n');
    const v = await openpgp.verify({
      message: await openpgp.readCleartextMessage({ cleartextMessage: signed }),
      verificationKeys: await openpgp.readKey({ binaryKey: s.binaryKeyring }),
    });
    await expect(v.signatures[0].verified).resolves.toBe(true);
  });
});
