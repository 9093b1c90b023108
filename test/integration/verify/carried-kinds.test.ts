import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleWriter } from '../../../src-main/core/bundle/index.js';
import { KeyStore } from '../../../src-main/core/bundle/keys/index.js';
import { verifyBundle } from '../../../src-main/core/bundle/verify/index.js';
import { importBundle } from '../../../src-main/core/media/import/index.js';
import { makeKeyStore, tempDir } from '../../helpers/bundle-fixtures.js';

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

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A v2 bundle with one deb and one wheel; the deb's record declares `debSha` as its digest. */
async function bundle(name: string, debSha?: string) {
  const dir = path.join(work, name);
  const w = await BundleWriter.open(dir);
  const deb = Buffer.from('!<arch>\nnot really a deb, but bytes with a digest\n');
  const whl = Buffer.from('PK not really a wheel');
  await w.addBytes('debs/debian-12/socat_1.7.4.4-2_amd64.deb', deb);
  await w.addBytes('python/simple/ansible/ansible-10.0.0-py3-none-any.whl', whl);
  await w.addArtifact({
    id: 'deb:debian-12:socat:amd64',
    kind: 'deb',
    os: 'debian-12',
    package: 'socat',
    version: '1.7.4.4-2',
    arch: 'amd64',
    sha256: debSha ?? sha(deb),
    size: deb.length,
    paths: ['debs/debian-12/socat_1.7.4.4-2_amd64.deb'],
  });
  await w.addArtifact({
    id: 'wheel:ansible-10.0.0-py3-none-any.whl',
    kind: 'wheel',
    project: 'ansible',
    version: '10.0.0',
    filename: 'ansible-10.0.0-py3-none-any.whl',
    sha256: sha(whl),
    paths: ['python/simple/ansible/ansible-10.0.0-py3-none-any.whl'],
  });
  const m = await w.finalize({ signer });
  await w.close();
  return { dir, manifest: m };
}

describe('v2 kinds carried as plain files', () => {
  it('verify as files, named by their kind', async () => {
    const b = await bundle('ok');
    expect(b.manifest.version).toBe(2);
    const r = await verifyBundle(b.dir, { keyStore: KeyStore.fromEnv(env) });
    expect(r.verified).toBe(true);
    expect(r.artifacts.map((a) => [a.kind, a.name, a.status]).sort()).toEqual([
      ['deb', 'socat 1.7.4.4-2 (amd64, debian-12)', 'ok'],
      ['wheel', 'ansible-10.0.0-py3-none-any.whl', 'ok'],
    ]);
  });

  it('a package record whose declared sha256 is not its file is damaged, and the bundle not intact', async () => {
    const b = await bundle('lying', 'e'.repeat(64));
    const r = await verifyBundle(b.dir, { keyStore: KeyStore.fromEnv(env) });
    expect(r.ok).toBe(false);
    expect(r.verified).toBe(false);
    const deb = r.artifacts.find((a) => a.kind === 'deb')!;
    expect(deb.status).toBe('damaged');
    expect(deb.problems[0]).toMatchObject({
      path: 'debs/debian-12/socat_1.7.4.4-2_amd64.deb',
      status: 'wrong-digest',
      expectedSha256: 'e'.repeat(64),
    });
    expect(deb.hint).toMatch(/Copy the bundle again/);
    // The file's bytes themselves match the file list: only the record is wrong.
    expect(r.counts.ok).toBe(r.counts.files);
    expect(r.artifacts.find((a) => a.kind === 'wheel')!.status).toBe('ok');
  });

  it('import takes the carried files, and refuses a lying record before copying anything', async () => {
    const keyStore = KeyStore.fromEnv(env);
    const store = path.join(work, 'store');
    const good = await importBundle((await bundle('import-ok')).dir, { store, keyStore });
    expect(good.status).toBe('complete');
    expect(good.artifacts.map((a) => a.state)).toEqual(['good', 'good']);
    const lying = await bundle('import-lying', 'e'.repeat(64));
    await expect(importBundle(lying.dir, { store, keyStore })).rejects.toMatchObject({
      code: 'INTEGRITY',
      artifact: 'deb:debian-12:socat:amd64',
    });
    await expect(fs.readdir(path.join(store, 'bundles'))).resolves.not.toContain(lying.manifest.id);
  });
});
