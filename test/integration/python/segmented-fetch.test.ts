import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleWriter } from '../../../src-main/core/bundle/writer.js';
import { HttpClient } from '../../../src-main/core/fetch/download/http-client.js';
import { fetchWheels } from '../../../src-main/core/kinds/python/fetch-wheels.js';
import type { ResolvedWheelSet } from '../../../src-main/core/kinds/python/set.js';
import { makeWheel, startPypi, type PypiServer } from '../../helpers/pypi-server.js';

/**
 * A large wheel comes in parallel byte ranges (a link that caps each connection would otherwise
 * make the largest file set the pace), is hashed whole before it is committed, and is refused by
 * name when its bytes differ from the index; a server without Range gets one plain download.
 */

const big = makeWheel({ name: 'ferry-big', version: '1.0', pad: 3_000_000 });

function set(s: PypiServer): ResolvedWheelSet {
  return {
    target: { python: '3.11', arch: 'x86_64', glibc: '2.36' },
    indexes: [s.index],
    requirements: [{ line: 'ferry-big', why: 'test' }],
    wheels: [
      {
        project: 'ferry-big',
        version: '1.0',
        filename: big.filename,
        url: `${s.url}/files/${big.filename}`,
        sha256: big.sha256,
        size: big.bytes.length,
        why: 'test',
      },
    ],
  };
}

describe('segmented wheel downloads', () => {
  let ranged: PypiServer;
  let plain: PypiServer;
  let client: HttpClient;
  let work: string;
  beforeAll(async () => {
    ranged = await startPypi({ 'ferry-big': [big] });
    plain = await startPypi({ 'ferry-big': [big] }, { range: false });
    client = new HttpClient({ retry: { attempts: 2, baseMs: 10 } });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-seg-'));
  });
  afterAll(async () => {
    await client.close();
    await ranged.close();
    await plain.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const run = async (s: PypiServer, name: string) => {
    const writer = await BundleWriter.open(path.join(work, name));
    try {
      let bytes = 0;
      const r = await fetchWheels([set(s)], {
        client,
        writer,
        segment: { minBytes: 1 << 20, parts: 4 },
        onBytes: (n) => (bytes += n),
      });
      return { r, bytes, dir: writer.dir };
    } finally {
      await writer.close();
    }
  };

  it('fetches in four ranges and commits only the verified whole', async () => {
    const before = ranged.requests.length;
    const { r, bytes, dir } = await run(ranged, 'ranged');
    expect(r.failures).toEqual([]);
    const got = ranged.requests
      .slice(before)
      .filter((q) => q.includes(big.filename) && !q.includes('.metadata'));
    expect(got).toHaveLength(4);
    expect(got.every((q) => / bytes=\d+-\d+$/.test(q))).toBe(true);
    expect(bytes).toBe(big.bytes.length);
    const file = fs.readFileSync(path.join(dir, 'python', 'files', big.filename));
    expect(createHash('sha256').update(file).digest('hex')).toBe(big.sha256);
  });

  it('falls back to one download where the server ignores Range', async () => {
    const { r, dir } = await run(plain, 'plain');
    expect(r.failures).toEqual([]);
    expect(fs.statSync(path.join(dir, 'python', 'files', big.filename)).size).toBe(big.bytes.length);
  });

  it('refuses different bytes, naming the wheel, and keeps nothing', async () => {
    ranged.tamper.add(big.filename);
    try {
      const { r, dir } = await run(ranged, 'tampered');
      expect(r.failures.map((f) => [f.name, f.error.code])).toEqual([[big.filename, 'CHECKSUM']]);
      expect(r.failures[0].error.message).toMatch(
        new RegExp(`^${big.filename.replace(/\./g, '\\.')} .* does not match its published checksum`),
      );
      expect(fs.existsSync(path.join(dir, 'python', 'files', big.filename))).toBe(false);
    } finally {
      ranged.tamper.delete(big.filename);
    }
  });
});
