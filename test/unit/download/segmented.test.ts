import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { downloadToFile, sidecarPath } from '../../../src-main/core/fetch/download/download-file.js';
import { HttpClient } from '../../../src-main/core/fetch/download/http-client.js';
import {
  pieceLayout,
  segmentStatePath,
  type SegmentSettings,
} from '../../../src-main/core/fetch/download/segmented.js';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import { RangeHost } from '../../helpers/range-host.js';

const MiB = 1 << 20;
const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** Small pieces so a few MiB make many of them. */
const SEG: SegmentSettings = {
  connections: 4,
  minBytes: 2 * MiB,
  pieceBytes: 512 << 10,
  firstPieceBytes: 256 << 10,
};

describe('segmented downloads', () => {
  let host: RangeHost;
  let client: HttpClient;
  let tmp: string;
  let n = 0;
  const dest = () => path.join(tmp, `s${n++}.part`);

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-seg-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  afterEach(async () => {
    await client?.close();
    await host?.close();
  });
  async function setup(size = 6 * MiB, segments: SegmentSettings = SEG) {
    host = await RangeHost.start(randomBytes(size));
    client = new HttpClient({
      retry: { baseMs: 5, maxMs: 20, attempts: 3 },
      idleTimeoutMs: 3000,
      segments,
    });
  }
  const ranged = () => host.requests.filter((r) => r.status === 206);

  it('fetches a large file as ranges over several connections and checks it as one stream', async () => {
    await setup();
    host.rate = 8 * MiB; // slow enough that the pieces overlap in time
    const d = dest();
    const r = await downloadToFile(client, {
      url: host.url,
      dest: d,
      expectSha256: host.sha256(),
      label: 'f',
    });
    expect(r).toMatchObject({ sha256: host.sha256(), size: host.body.length, resumedFrom: 0 });
    expect(hex(fs.readFileSync(d))).toBe(host.sha256());
    // 256 KiB probe + 6 MiB / 512 KiB pieces, each its own range request.
    expect(ranged().length).toBe(pieceLayout(6 * MiB, 256 << 10, 512 << 10).length);
    expect(host.maxOpen).toBeGreaterThan(1);
    expect(host.maxOpen).toBeLessThanOrEqual(4);
    // Only the plain sidecar stays (the commit removes it); never a piece list for a finished file.
    expect(fs.existsSync(segmentStatePath(d))).toBe(false);
    expect(JSON.parse(fs.readFileSync(sidecarPath(d), 'utf8'))).toMatchObject({
      url: host.url,
      etag: host.etag,
    });
  });

  it('keeps within its connection limit', async () => {
    await setup(6 * MiB, { ...SEG, connections: 2 });
    host.rate = 16 * MiB;
    await downloadToFile(client, { url: host.url, dest: dest(), expectSha256: host.sha256(), label: 'f' });
    expect(host.maxOpen).toBe(2);
  });

  it('a file under the threshold is one range request, one connection', async () => {
    await setup(MiB);
    const d = dest();
    const r = await downloadToFile(client, {
      url: host.url,
      dest: d,
      expectSha256: host.sha256(),
      label: 'f',
    });
    expect(r.sha256).toBe(host.sha256());
    expect(host.maxOpen).toBe(1);
    // The 256 KiB probe, then the rest in one piece.
    expect(host.requests.map((q) => q.range)).toEqual(['bytes=0-262143', `bytes=262144-${MiB - 1}`]);
  });

  it('a known size under the threshold is not probed at all', async () => {
    await setup(MiB);
    await downloadToFile(client, {
      url: host.url,
      dest: dest(),
      expectSha256: host.sha256(),
      expectSize: MiB,
      label: 'f',
    });
    expect(host.requests).toEqual([{ range: undefined, ifRange: undefined, status: 200 }]);
  });

  it('a server without ranges (200 to the probe) is read from that same answer', async () => {
    await setup();
    host.oddity = 'ignoreRange';
    const d = dest();
    const r = await downloadToFile(client, {
      url: host.url,
      dest: d,
      expectSha256: host.sha256(),
      label: 'f',
    });
    expect(r.sha256).toBe(host.sha256());
    expect(host.requests).toHaveLength(1);
    expect(fs.existsSync(segmentStatePath(d))).toBe(false);
  });

  it('a 206 without the total size falls back to one plain request', async () => {
    await setup();
    host.oddity = 'noTotal';
    const r = await downloadToFile(client, {
      url: host.url,
      dest: dest(),
      expectSha256: host.sha256(),
      label: 'f',
    });
    expect(r.sha256).toBe(host.sha256());
    expect(host.requests.at(-1)).toMatchObject({ range: undefined, status: 200 });
  });

  it('a wrong Content-Range on a piece is never spliced in: one connection takes over', async () => {
    await setup();
    host.oddity = 'wrongContentRange';
    const d = dest();
    const r = await downloadToFile(client, {
      url: host.url,
      dest: d,
      expectSha256: host.sha256(),
      label: 'f',
    });
    expect(r.sha256).toBe(host.sha256());
    expect(hex(fs.readFileSync(d))).toBe(host.sha256());
    expect(fs.existsSync(segmentStatePath(d))).toBe(false);
  });

  it('pieces cut short are continued where they stopped', async () => {
    await setup();
    host.oddity = 'shortOnce';
    const r = await downloadToFile(client, {
      url: host.url,
      dest: dest(),
      expectSha256: host.sha256(),
      label: 'f',
    });
    expect(r.sha256).toBe(host.sha256());
    // Each cut piece was asked again from its middle, not from its start.
    const resumedMid = host.requests.filter((q) => {
      const m = /^bytes=(\d+)-/.exec(q.range ?? '');
      return m && Number(m[1]) > 0 && (Number(m[1]) - (256 << 10)) % (512 << 10) !== 0;
    });
    expect(resumedMid.length).toBeGreaterThan(0);
  });

  it('a file that changes upstream mid-download (ETag) restarts cleanly on the new version', async () => {
    await setup();
    host.rate = 16 * MiB;
    host.changeAfter = 4;
    const d = dest();
    const r = await downloadToFile(client, { url: host.url, dest: d, label: 'f' });
    // Whatever was fetched of the old version was thrown away: the file is the new one, whole.
    expect(r.sha256).toBe(host.sha256());
    expect(hex(fs.readFileSync(d))).toBe(host.sha256());
    expect(host.requests.some((q) => q.status === 200 && q.ifRange)).toBe(true);
  });

  it('a change seen through Last-Modified (no ETag) restarts as well', async () => {
    await setup();
    host.noEtag = true;
    host.rate = 16 * MiB;
    host.changeAfter = 3;
    const d = dest();
    const r = await downloadToFile(client, { url: host.url, dest: d, label: 'f' });
    expect(r.sha256).toBe(host.sha256());
    expect(host.requests.some((q) => q.ifRange === host.lastModified)).toBe(true);
  });

  it('resumes per piece after a crash: finished pieces are not fetched again', async () => {
    await setup();
    host.rate = 4 * MiB;
    const d = dest();
    const ac = new AbortController();
    let got = 0;
    const first = downloadToFile(client, {
      url: host.url,
      dest: d,
      expectSha256: host.sha256(),
      label: 'f',
      signal: ac.signal,
      onBytes: (k) => {
        got += k;
        if (got > 3 * MiB) ac.abort();
      },
    });
    await expect(first).rejects.toMatchObject({ code: 'CANCELLED' });
    const state = JSON.parse(fs.readFileSync(segmentStatePath(d), 'utf8')) as { done: number[] };
    expect(state.done.length).toBeGreaterThan(0);
    const pieces = pieceLayout(6 * MiB, 256 << 10, 512 << 10);
    const before = host.requests.length;
    host.rate = 0;
    const r = await downloadToFile(client, {
      url: host.url,
      dest: d,
      expectSha256: host.sha256(),
      label: 'f',
    });
    expect(r.sha256).toBe(host.sha256());
    expect(r.resumedFrom).toBe(state.done.reduce((a, i) => a + pieces[i].end - pieces[i].start, 0));
    const asked = host.requests.slice(before).map((q) => Number(/^bytes=(\d+)-/.exec(q.range ?? '')?.[1]));
    for (const i of state.done) expect(asked).not.toContain(pieces[i].start);
    expect(hex(fs.readFileSync(d))).toBe(host.sha256());
  });

  it('a state file that does not validate discards the partial and starts over', async () => {
    await setup();
    const d = dest();
    fs.writeFileSync(d, randomBytes(MiB));
    fs.writeFileSync(
      segmentStatePath(d),
      JSON.stringify({ v: 1, url: 'http://elsewhere/x', size: 5, firstPiece: 1, pieceSize: 1, done: [0] }),
    );
    const r = await downloadToFile(client, {
      url: host.url,
      dest: d,
      expectSha256: host.sha256(),
      label: 'f',
    });
    expect(r).toMatchObject({ sha256: host.sha256(), resumedFrom: 0 });
  });

  it('pieces claimed done but damaged on disk fail the whole-stream check, then one clean try succeeds', async () => {
    await setup();
    const d = dest();
    const layout = pieceLayout(6 * MiB, 256 << 10, 512 << 10);
    // A "finished" piece 1 full of zeros (a power loss after the state was written).
    fs.writeFileSync(d, Buffer.alloc(layout[1].end));
    fs.writeFileSync(sidecarPath(d), JSON.stringify({ url: host.url, etag: host.etag }));
    fs.writeFileSync(
      segmentStatePath(d),
      JSON.stringify({
        v: 1,
        url: host.url,
        size: 6 * MiB,
        firstPiece: 256 << 10,
        pieceSize: 512 << 10,
        etag: host.etag,
        done: [1],
      }),
    );
    const r = await downloadToFile(client, {
      url: host.url,
      dest: d,
      expectSha256: host.sha256(),
      label: 'f',
    });
    expect(r.sha256).toBe(host.sha256());
    expect(hex(fs.readFileSync(d))).toBe(host.sha256());
  });

  it('a wrong checksum is refused and the partial removed', async () => {
    await setup();
    const d = dest();
    const err = await downloadToFile(client, {
      url: host.url,
      dest: d,
      expectSha256: '0'.repeat(64),
      label: 'f',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FerryError);
    expect((err as FerryError).code).toBe('CHECKSUM');
    expect(fs.existsSync(d)).toBe(false);
    expect(fs.existsSync(segmentStatePath(d))).toBe(false);
  });

  it('with segmenting off, a segmented partial is kept up to its finished prefix', async () => {
    await setup();
    const d = dest();
    const layout = pieceLayout(6 * MiB, 256 << 10, 512 << 10);
    // Pieces 0 and 2 on disk, 1 missing: only piece 0 is a prefix.
    const b = Buffer.alloc(layout[2].end);
    host.body.copy(b, 0, 0, layout[0].end);
    host.body.copy(b, layout[2].start, layout[2].start, layout[2].end);
    fs.writeFileSync(d, b);
    fs.writeFileSync(sidecarPath(d), JSON.stringify({ url: host.url, etag: host.etag }));
    fs.writeFileSync(
      segmentStatePath(d),
      JSON.stringify({
        v: 1,
        url: host.url,
        size: 6 * MiB,
        firstPiece: 256 << 10,
        pieceSize: 512 << 10,
        etag: host.etag,
        done: [0, 2],
      }),
    );
    const r = await downloadToFile(client, {
      url: host.url,
      dest: d,
      expectSha256: host.sha256(),
      label: 'f',
      segments: false,
    });
    expect(r).toMatchObject({ sha256: host.sha256(), resumedFrom: layout[0].end });
    expect(host.requests).toEqual([{ range: `bytes=${layout[0].end}-`, ifRange: host.etag, status: 206 }]);
  });
});
