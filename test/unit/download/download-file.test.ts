import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { downloadToFile, sidecarPath } from '../../../src-main/core/fetch/download/download-file.js';
import { HttpClient } from '../../../src-main/core/fetch/download/http-client.js';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import { FileHost } from '../../helpers/world/file-host.js';

const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('downloadToFile', () => {
  let host: FileHost;
  let client: HttpClient;
  let tmp: string;
  let n = 0;
  const dest = () => path.join(tmp, `d${n++}.part`);

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-dl-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  afterEach(async () => {
    await client?.close();
    await host?.close();
  });
  async function setup() {
    host = await FileHost.start();
    client = new HttpClient({ retry: { baseMs: 10, maxMs: 50, attempts: 3 }, idleTimeoutMs: 2000 });
  }

  it('a complete partial left by a crash before the commit needs no request at all', async () => {
    await setup();
    const body = randomBytes(50_000);
    const f = host.add('/a', body);
    const d = dest();
    fs.writeFileSync(d, body);
    fs.writeFileSync(sidecarPath(d), JSON.stringify({ url: f.url }));
    const r = await downloadToFile(client, {
      url: f.url,
      dest: d,
      expectSha256: f.sha256,
      expectSize: body.length,
      label: f.url,
    });
    expect(r).toMatchObject({ sha256: f.sha256, size: body.length, attempts: 0 });
    expect(host.count()).toBe(0);
  });

  it('a complete partial with no known size is committed on the 416 that gives its size, not fetched again', async () => {
    // A plan's files have no size: a disk that filled at the commit (or a crash there) leaves the
    // whole file as a partial, and the resume's Range asks for bytes past its end.
    await setup();
    const body = randomBytes(50_000);
    const f = host.add('/whole', body);
    const d = dest();
    fs.writeFileSync(d, body);
    fs.writeFileSync(sidecarPath(d), JSON.stringify({ url: f.url, etag: host.files.get('/whole')!.etag }));
    const r = await downloadToFile(client, { url: f.url, dest: d, expectSha256: f.sha256, label: f.url });
    expect(r).toMatchObject({ sha256: f.sha256, size: body.length, resumedFrom: body.length });
    expect(host.requests.map((q) => [q.range, q.status])).toEqual([[`bytes=${body.length}-`, 416]]);
    // Bytes of the same length that are not the file still are: the hash decides, then from zero.
    const d2 = dest();
    fs.writeFileSync(d2, randomBytes(body.length));
    fs.writeFileSync(sidecarPath(d2), JSON.stringify({ url: f.url }));
    const r2 = await downloadToFile(client, { url: f.url, dest: d2, expectSha256: f.sha256, label: f.url });
    expect(r2.sha256).toBe(f.sha256);
    expect(host.requests.slice(1).map((q) => q.status)).toEqual([416, 200]);
  });

  it('a partial from another URL is not resumed', async () => {
    await setup();
    const body = randomBytes(50_000);
    const f = host.add('/b', body);
    const d = dest();
    fs.writeFileSync(d, body.subarray(0, 1000));
    fs.writeFileSync(sidecarPath(d), JSON.stringify({ url: 'http://elsewhere/b' }));
    await downloadToFile(client, { url: f.url, dest: d, expectSha256: f.sha256, label: f.url });
    expect(host.requests[0].range).toBeUndefined();
    expect(hex(fs.readFileSync(d))).toBe(f.sha256);
  });

  it('when the file changed upstream since the partial, If-Range makes the server send it whole', async () => {
    await setup();
    const old = randomBytes(40_000);
    const fresh = randomBytes(40_000);
    const f = host.add('/c', fresh);
    const d = dest();
    fs.writeFileSync(d, old.subarray(0, 10_000));
    fs.writeFileSync(sidecarPath(d), JSON.stringify({ url: f.url, etag: '"old-version"' }));
    const r = await downloadToFile(client, { url: f.url, dest: d, expectSha256: f.sha256, label: f.url });
    expect(host.requests[0]).toMatchObject({ range: 'bytes=10000-', ifRange: '"old-version"', status: 200 });
    expect(r.sha256).toBe(f.sha256);
  });

  it('a resumed download that does not verify is tried once more from zero before it is refused', async () => {
    await setup();
    const body = randomBytes(40_000);
    const f = host.add('/d', body);
    const d = dest();
    fs.writeFileSync(d, randomBytes(10_000)); // bytes from who knows where, without a validator
    fs.writeFileSync(sidecarPath(d), JSON.stringify({ url: f.url }));
    const r = await downloadToFile(client, { url: f.url, dest: d, expectSha256: f.sha256, label: f.url });
    expect(r.sha256).toBe(f.sha256);
    expect(host.requests.map((q) => q.range ?? 'whole')).toEqual(['bytes=10000-', 'whole']);
  });

  it('gives up after the retry budget on a dead server with a NETWORK error that names the URL', async () => {
    await setup();
    const url = host.url('/gone');
    await host.close();
    const err = (await downloadToFile(client, { url, dest: dest(), label: url }).catch(
      (e) => e,
    )) as FerryError;
    expect(err).toBeInstanceOf(FerryError);
    expect(err.code).toBe('NETWORK');
    expect(err.artifact).toBe(url);
    host = await FileHost.start();
  });

  it('a 404 is not retried', async () => {
    await setup();
    const err = (await downloadToFile(client, { url: host.url('/missing'), dest: dest(), label: 'x' }).catch(
      (e) => e,
    )) as FerryError;
    expect(err.code).toBe('NOT_FOUND');
    expect(host.count('/missing')).toBe(1);
  });

  it('verifies sha512 checksums too', async () => {
    await setup();
    const body = randomBytes(1000);
    const f = host.add('/e', body);
    const sha512 = createHash('sha512').update(body).digest('hex');
    const r = await downloadToFile(client, { url: f.url, dest: dest(), expectSha512: sha512, label: f.url });
    expect(r.sha256).toBe(f.sha256);
    const err = (await downloadToFile(client, {
      url: f.url,
      dest: dest(),
      expectSha512: '0'.repeat(128),
      label: f.url,
    }).catch((e) => e)) as FerryError;
    expect(err.code).toBe('CHECKSUM');
    expect(err.details?.actual).toBe(`sha512:${sha512}`);
  });
});
