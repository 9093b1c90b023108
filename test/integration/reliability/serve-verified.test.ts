import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_FILE, parseManifest, serializeManifest } from '../../../src-main/core/bundle/index.js';
import { filePathForUrl } from '../../../src-main/core/bundle/paths.js';
import { writeTestBundle } from '../../helpers/oci-fixtures.js';
import { ferrySync, get, ServeProcess } from './ferry-process.js';

/**
 * Issue 12 items 1-3: `ferry serve` serves only the bytes it verified, even when the bundle
 * changes on disk under it. Each test runs a real `ferry serve` process and changes the bundle
 * on disk with real renames, symlinks and writes at a chosen moment.
 */

const ETCD = 'https://github.com/etcd-io/etcd/releases/download/v3.5.25/etcd-v3.5.25-linux-amd64.tar.gz';
const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('serve serves only verified bytes (issue 12 items 1-3)', () => {
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  let running: ServeProcess[] = [];
  const serve = (args: string[]) => {
    const p = new ServeProcess(args, env);
    running.push(p);
    return p;
  };

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rel-serve-verified-'));
    env = {
      ...process.env,
      FERRY_CONFIG_DIR: path.join(tmp, 'config'),
      FERRY_DATA_DIR: path.join(tmp, 'data'),
    };
  });
  afterEach(async () => {
    await Promise.all(running.map((p) => p.stop()));
    running = [];
  });
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('a manifest swapped in while verifying is not what gets served (item 1)', async () => {
    const dir = path.join(tmp, 'swap-manifest');
    const bigRel = filePathForUrl('https://example.com/pad/big.bin');
    await writeTestBundle(dir, {
      files: [
        { url: ETCD, content: Buffer.alloc(4096, 1) },
        { url: 'https://example.com/pad/big.bin', content: Buffer.alloc(1) },
      ],
    });
    // A 1 GiB file (sparse, zeros) keeps the hashing busy long enough to swap the manifest
    // while it runs: after the manifest was read and signature-checked, before serving.
    const BIG = 1024 * 1024 * 1024;
    const bigAbs = path.join(dir, ...bigRel.split('/'));
    await fs.truncate(bigAbs, BIG);
    const h = createHash('sha256');
    const zeros = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < BIG / zeros.length; i++) h.update(zeros);
    const bigSha = h.digest('hex');
    const m = parseManifest(await fs.readFile(path.join(dir, MANIFEST_FILE)));
    const bigEntry = m.files.find((f) => f.path === bigRel)!;
    bigEntry.size = BIG;
    bigEntry.sha256 = bigSha;
    for (const a of m.artifacts)
      if (a.kind === 'file' && a.paths[0] === bigRel) a.checksum = `sha256:${bigSha}`;
    await fs.writeFile(path.join(dir, MANIFEST_FILE), serializeManifest(m));

    // The forged manifest keeps the id and lists a planted file with its right digest.
    const planted = Buffer.from('#!/bin/sh\necho planted\n');
    const plantedRel = filePathForUrl('https://example.com/planted.sh');
    const forged = parseManifest(serializeManifest(m));
    forged.files.push({ path: plantedRel, size: planted.length, sha256: hex(planted) });
    forged.artifacts.push({
      id: 'file:https://example.com/planted.sh',
      kind: 'file',
      key: 'planted',
      url: 'https://example.com/planted.sh',
      paths: [plantedRel],
    });

    const p = serve(['--bundle', dir, '--allow-unsigned']);
    // The big file open in the server process means verification is hashing: the manifest it
    // verifies against was read already.
    const fdDir = `/proc/${p.pid}/fd`;
    const end = Date.now() + 60_000;
    let hashing = false;
    while (!hashing && Date.now() < end && p.proc.exitCode === null) {
      for (const fd of await fs.readdir(fdDir).catch(() => [] as string[]))
        if ((await fs.readlink(path.join(fdDir, fd)).catch(() => '')) === bigAbs) hashing = true;
      if (!hashing) await new Promise((r) => setTimeout(r, 2));
    }
    expect(hashing).toBe(true);
    await fs.mkdir(path.dirname(path.join(dir, ...plantedRel.split('/'))), { recursive: true });
    await fs.writeFile(path.join(dir, ...plantedRel.split('/')), planted);
    await fs.writeFile(path.join(dir, 'manifest.json.new'), serializeManifest(forged));
    await fs.rename(path.join(dir, 'manifest.json.new'), path.join(dir, MANIFEST_FILE));
    // Still hashing when the swap landed, else the test proves nothing.
    let stillOpen = false;
    for (const fd of await fs.readdir(fdDir).catch(() => [] as string[]))
      if ((await fs.readlink(path.join(fdDir, fd)).catch(() => '')) === bigAbs) stillOpen = true;
    expect(stillOpen).toBe(true);

    const { files } = await p.ready();
    const r = await get(`${files}/example.com/planted.sh`);
    expect(r.status).toBe(404);
    expect(r.body.toString()).not.toContain('planted');
    // What was verified is still served.
    const ok = await get(`${files}/${filePathForUrl(ETCD).slice('files/'.length)}`);
    expect(ok.status).toBe(200);
    expect(ok.body.equals(Buffer.alloc(4096, 1))).toBe(true);
  }, 120_000);

  it('serve and verify give one verdict on extra files (item 3)', async () => {
    const dir = path.join(tmp, 'extra');
    await writeTestBundle(dir, { files: [{ url: ETCD, content: Buffer.alloc(100, 2) }] });
    const extraRel = filePathForUrl('https://example.com/extra.bin');
    await fs.mkdir(path.dirname(path.join(dir, ...extraRel.split('/'))), { recursive: true });
    await fs.writeFile(path.join(dir, ...extraRel.split('/')), 'not in the manifest');

    const v = ferrySync(['verify', '--allow-unsigned', dir], env);
    expect(v.code).toBe(1);
    expect(v.out).toContain(`EXTRA    ${extraRel}`);

    const refused = serve(['--bundle', dir, '--allow-unsigned']);
    const code = await Promise.race([
      refused.exited,
      new Promise((r) => setTimeout(() => r('still running'), 60_000)),
    ]);
    expect(code).toBe(1);
    expect(refused.err).toContain(extraRel);
    expect(refused.err).toContain('ferry verify');

    // Served around with --allow-damaged, the extra file is reported as verify reports it, and not served.
    const p = serve(['--bundle', dir, '--allow-unsigned', '--allow-damaged']);
    const { files } = await p.ready();
    expect(p.err).toMatch(
      new RegExp(`not intact: 1 file\\(s\\) the manifest does not list \\(${extraRel}\\)`),
    );
    expect((await get(`${files}/example.com/extra.bin`)).status).toBe(404);
  }, 120_000);
});
