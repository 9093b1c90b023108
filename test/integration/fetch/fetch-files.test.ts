import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openBundle } from '../../../src-main/core/bundle/index.js';
import { KeyStore } from '../../../src-main/core/bundle/keys/index.js';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import { verifyBundle } from '../../../src-main/core/bundle/verify/index.js';
import { filePathForUrl } from '../../../src-main/core/bundle/paths.js';
import { FileHost, hostRandomFiles, makePlan, TestProxy } from '../../helpers/world/index.js';
import { fetchJob, itemsSeen, runFetch } from './helpers.js';

describe('fetching files into a bundle', () => {
  let host: FileHost;
  let tmp: string;
  let n = 0;
  const out = () => path.join(tmp, `b${n++}`);

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-fetch-files-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  afterEach(async () => host?.close());

  async function freshHost(): Promise<FileHost> {
    host = await FileHost.start();
    return host;
  }

  it('downloads, verifies and places every file at files/<host>/<path>, with plan.json, and verify accepts the bundle', async () => {
    await freshHost();
    const files = hostRandomFiles(host, 5, 300_000);
    const plan = makePlan({ files });
    const dir = out();
    const job = fetchJob(plan, { out: dir, concurrency: 3 });
    const r = await job.done;
    expect(r.counts).toMatchObject({ total: 5, fetched: 5, failed: 0, present: 0 });
    // Progress for the app: every artifact started and done, bytes counted against a known total.
    expect(
      new Set(
        itemsSeen(job)
          .filter((i) => i.status === 'started')
          .map((i) => i.id),
      ).size,
    ).toBe(5);
    expect(itemsSeen(job).filter((i) => i.status === 'done')).toHaveLength(5);
    const snap = job.snapshot().progress;
    expect(snap).toMatchObject({
      phase: 'done',
      itemsDone: 5,
      itemsTotal: 5,
      itemsFailed: 0,
      bytesDone: 5 * 300_000,
      bytesTotal: 5 * 300_000,
    });
    const { manifest } = await openBundle(dir);
    for (const f of files) {
      const a = manifest.artifacts.find((x) => x.id === `file:${f.url}`);
      expect(a).toMatchObject({ kind: 'file', url: f.url, checksum: f.checksum });
      const rel = a!.paths[0];
      expect(rel).toBe(`files/127.0.0.1_${new URL(f.url).port}${new URL(f.url).pathname}`);
    }
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'plan.json'), 'utf8'))).toEqual(
      JSON.parse(JSON.stringify(plan)),
    );
    expect(manifest.artifacts.find((a) => a.id === 'meta:plan')).toBeTruthy();
    expect(manifest.kubespray).toEqual({
      version: plan.kubespray,
      kubeVersion: plan.kubeVersion,
      arches: plan.arches,
    });
    expect((await verifyBundle(dir, { allowUnsigned: true })).ok).toBe(true);
    expect(fs.existsSync(path.join(dir, '.ferry-partial'))).toBe(false);
  });

  it("reports each artifact's bytes of its Content-Length while it downloads, and the overall total from the first response on", async () => {
    await freshHost();
    const size = 3_000_000;
    const f = host.add('/bar.bin', randomBytes(size), [{ kind: 'slow', bytesPerSecond: 1_500_000 }]);
    const dir = out();
    const job = fetchJob(makePlan({ files: [{ key: 'bar', url: f.url, checksum: f.checksum }] }), {
      out: dir,
    });
    const totals: Array<number | null> = [];
    job.subscribe((e) => {
      if (e.type === 'progress' && e.progress.phase === 'downloading' && e.progress.bytesDone < size)
        totals.push(e.progress.bytesTotal);
    });
    await job.done;
    const bars = itemsSeen(job).filter((i) => i.id === `file:${f.url}` && i.status === 'started');
    const moving = bars.filter((i) => typeof i.bytes === 'number' && (i.bytes as number) > 0);
    // The bar moves: at least one event mid-way through the ~2 s transfer, before the 'done'.
    expect(moving.some((i) => (i.bytes as number) < size && i.total === size)).toBe(true);
    const seq = moving.map((i) => i.bytes as number);
    expect(seq).toEqual([...seq].sort((a, b) => a - b));
    // The overall total holds the file's size while its bytes are still arriving.
    expect(totals.some((t) => t === size)).toBe(true);
    expect(job.snapshot().progress).toMatchObject({ bytesDone: size, bytesTotal: size });
  });

  it('a cut connection does not count the file twice in the overall total', async () => {
    await freshHost();
    const body = randomBytes(1_500_000);
    const f = host.add('/twice.bin', body, [{ kind: 'cut', afterBytes: 500_000, times: 1 }]);
    const job = fetchJob(makePlan({ files: [{ key: 't', url: f.url, checksum: f.checksum }] }), {
      out: out(),
    });
    const r = await job.done;
    const snap = job.snapshot().progress;
    expect(snap.bytesDone).toBe(r.bytesDownloaded);
    expect(snap.bytesTotal).toBe(r.bytesDownloaded);
    expect(r.bytesDownloaded).toBeLessThan(body.length * 1.5);
  });

  it('records a file verified against a sha512 checksum (gVisor) with that checksum, and reruns find it present', async () => {
    await freshHost();
    const body = randomBytes(100_000);
    const f = host.add('/runsc', body);
    const sha512 = 'sha512:' + createHash('sha512').update(body).digest('hex');
    const plan = makePlan({ files: [{ key: 'gvisor_runsc', url: f.url, checksum: sha512 }] });
    const dir = out();
    await runFetch(plan, { out: dir });
    const { manifest } = await openBundle(dir);
    expect(manifest.artifacts.find((a) => a.id === `file:${f.url}`)).toMatchObject({
      kind: 'file',
      checksum: sha512,
    });
    expect((await verifyBundle(dir, { allowUnsigned: true })).ok).toBe(true);
    const again = await runFetch(plan, { out: dir });
    expect(again.upToDate).toBe(true);
  });

  it('a finished bundle whose signature does not verify, or is by another key, is signed again without a request', async () => {
    await freshHost();
    const plan = makePlan({ files: hostRandomFiles(host, 2, 20_000) });
    const dir = out();
    const keys = async (name: string) => {
      const store = new KeyStore(fs.mkdtempSync(path.join(os.tmpdir(), `ferry-keys-${name}-`)));
      await store.generate({ name });
      return (await store.signer())!;
    };
    const a = await keys('a');
    const b = await keys('b');
    await runFetch(plan, { out: dir, signer: a });
    const sigPath = path.join(dir, 'manifest.json.sig');
    const sig = JSON.parse(fs.readFileSync(sigPath, 'utf8'));
    const bad = Buffer.from(sig.signature, 'base64');
    bad[0] ^= 1;
    fs.writeFileSync(sigPath, JSON.stringify({ ...sig, signature: bad.toString('base64') }));
    const before = host.count();
    const fixed = await runFetch(plan, { out: dir, signer: a });
    expect(fixed).toMatchObject({ upToDate: false, counts: { present: 2, fetched: 0 } });
    expect(fs.readFileSync(sigPath, 'utf8')).toContain(a.fingerprint);
    const byB = await runFetch(plan, { out: dir, signer: b });
    expect(byB.upToDate).toBe(false);
    expect(fs.readFileSync(sigPath, 'utf8')).toContain(b.fingerprint);
    expect((await runFetch(plan, { out: dir, signer: b })).upToDate).toBe(true);
    // Unsigned fetches (no key) keep whatever valid signature is there.
    expect((await runFetch(plan, { out: dir })).upToDate).toBe(true);
    expect(host.count()).toBe(before);
  });

  it('reruns on a finished bundle without a single request and without touching it', async () => {
    await freshHost();
    const plan = makePlan({ files: hostRandomFiles(host, 3, 50_000) });
    const dir = out();
    await runFetch(plan, { out: dir });
    const before = host.count();
    const manifestBefore = fs.readFileSync(path.join(dir, 'manifest.json'));
    const r = await runFetch(plan, { out: dir });
    expect(r.upToDate).toBe(true);
    expect(r.counts.present).toBe(3);
    expect(host.count()).toBe(before);
    expect(fs.readFileSync(path.join(dir, 'manifest.json'))).toEqual(manifestBefore);
  });

  it('a new plan into an existing bundle downloads only what is new and drops what the plan no longer names', async () => {
    await freshHost();
    const files = hostRandomFiles(host, 4, 40_000);
    const dir = out();
    await runFetch(makePlan({ files: files.slice(0, 3) }), { out: dir });
    const counts = files.map((f) => host.count(new URL(f.url).pathname));
    expect(counts).toEqual([1, 1, 1, 0]);
    const r = await runFetch(makePlan({ files: files.slice(1, 4) }), { out: dir });
    expect(r.counts).toMatchObject({ present: 2, fetched: 1, removed: 1 });
    expect(files.map((f) => host.count(new URL(f.url).pathname))).toEqual([1, 1, 1, 1]);
    const { manifest } = await openBundle(dir);
    expect(manifest.artifacts.some((a) => a.id === `file:${files[0].url}`)).toBe(false);
    expect(manifest.files.some((f) => f.path.endsWith('/file-0.bin'))).toBe(false);
    expect(fs.existsSync(path.join(dir, filePathForUrl(files[0].url)))).toBe(false);
    expect((await verifyBundle(dir, { allowUnsigned: true })).ok).toBe(true);
  });

  it('resumes with Range after the connection is cut mid-body, sending If-Range', async () => {
    await freshHost();
    const body = randomBytes(2_000_000);
    const f = host.add('/big.bin', body, [{ kind: 'cut', afterBytes: 700_000, times: 2 }]);
    const dir = out();
    // One connection: the first request is a plain GET (segmented ones: test/unit/download/segmented).
    const r = await runFetch(makePlan({ files: [{ key: 'big', url: f.url, checksum: f.checksum }] }), {
      out: dir,
      connectionsPerHost: 1,
    });
    expect(r.counts.fetched).toBe(1);
    const reqs = host.requests.filter((q) => q.path === '/big.bin');
    expect(reqs.length).toBe(3);
    expect(reqs[0].range).toBeUndefined();
    expect(reqs[1].range).toMatch(/^bytes=\d+-$/);
    expect(Number(/=(\d+)-/.exec(reqs[1].range!)![1])).toBeGreaterThan(0);
    expect(reqs[1].ifRange).toBeTruthy();
    // Fewer bytes than two whole downloads went over the wire.
    expect(r.bytesDownloaded).toBeLessThan(body.length * 1.5);
    expect(fs.readFileSync(path.join(dir, filePathForUrl(f.url))).equals(body)).toBe(true);
  });

  it('starts over when the server ignores Range, and still verifies', async () => {
    await freshHost();
    const body = randomBytes(1_000_000);
    const f = host.add('/norange.bin', body, [
      { kind: 'cut', afterBytes: 300_000, times: 1 },
      { kind: 'noRange' },
    ]);
    const dir = out();
    await runFetch(makePlan({ files: [{ key: 'nr', url: f.url, checksum: f.checksum }] }), { out: dir });
    const reqs = host.requests.filter((q) => q.path === '/norange.bin');
    expect(reqs.map((q) => q.status)).toEqual([200, 200]);
    expect(fs.readFileSync(path.join(dir, filePathForUrl(f.url))).equals(body)).toBe(true);
  });

  it('retries 500s and honours 429 Retry-After', async () => {
    await freshHost();
    const a = host.add('/flaky.bin', randomBytes(10_000), [{ kind: 'status', status: 500, times: 2 }]);
    const b = host.add('/busy.bin', randomBytes(10_000), [{ kind: 'throttle', retryAfter: 1, times: 1 }]);
    const dir = out();
    const t0 = Date.now();
    await runFetch(
      makePlan({
        files: [
          { key: 'a', url: a.url, checksum: a.checksum },
          { key: 'b', url: b.url, checksum: b.checksum },
        ],
      }),
      { out: dir },
    );
    expect(host.requests.filter((q) => q.path === '/flaky.bin').map((q) => q.status)).toEqual([
      500, 500, 200,
    ]);
    const busy = host.requests.filter((q) => q.path === '/busy.bin');
    expect(busy.map((q) => q.status)).toEqual([429, 200]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
  });

  it('follows redirects, and survives slow bytes and a stalled connection (idle timeout, then resume)', async () => {
    await freshHost();
    const real = host.add('/real.bin', randomBytes(200_000), [
      { kind: 'stall', afterBytes: 50_000, ms: 10_000, times: 1 },
    ]);
    host.add('/moved.bin', Buffer.alloc(0), [{ kind: 'redirect', to: '/real.bin' }]);
    const slow = host.add('/slow.bin', randomBytes(60_000), [{ kind: 'slow', bytesPerSecond: 100_000 }]);
    const dir = out();
    const r = await runFetch(
      makePlan({
        files: [
          { key: 'moved', url: host.url('/moved.bin'), checksum: real.checksum },
          { key: 'slow', url: slow.url, checksum: slow.checksum },
        ],
      }),
      { out: dir, http: { idleTimeoutMs: 1000 } },
    );
    expect(r.counts.fetched).toBe(2);
    const realReqs = host.requests.filter((q) => q.path === '/real.bin');
    expect(realReqs.length).toBe(2);
    expect(realReqs[1].range).toBe('bytes=50000-');
    // Recorded under the URL the plan names, not where it redirected.
    const { manifest } = await openBundle(dir);
    expect(manifest.artifacts.find((a) => a.id === `file:${host.url('/moved.bin')}`)?.paths).toEqual([
      filePathForUrl(host.url('/moved.bin')),
    ]);
  });

  it('refuses a wrong body: CHECKSUM error naming URL, expected and actual digest and what to do; nothing left in the bundle', async () => {
    await freshHost();
    const good = host.add('/ok.bin', randomBytes(5000));
    const bad = host.add('/bad.bin', randomBytes(5000), [
      { kind: 'wrongBody', body: Buffer.from('evil bytes') },
    ]);
    const dir = out();
    const job = fetchJob(
      makePlan({
        files: [
          { key: 'ok', url: good.url, checksum: good.checksum },
          { key: 'bad', url: bad.url, checksum: bad.checksum },
        ],
      }),
      { out: dir },
    );
    const err = (await job.done.catch((e) => e)) as FerryError;
    expect(err).toBeInstanceOf(FerryError);
    expect(err.code).toBe('CHECKSUM');
    const failure = (
      err.details!.failures as Array<{
        error: { message: string; hint: string; details: Record<string, string> };
      }>
    )[0];
    expect(failure.error.message).toContain(bad.url);
    expect(failure.error.message).toContain(bad.checksum);
    expect(failure.error.details.actual).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(failure.error.details.actual).not.toBe(bad.checksum);
    expect(failure.error.hint).toMatch(/run the fetch again/i);
    expect(itemsSeen(job).some((i) => i.status === 'failed' && i.id === `file:${bad.url}`)).toBe(true);
    // Not finished, and the bad bytes are nowhere: not in place, not as a partial.
    expect(fs.existsSync(path.join(dir, 'manifest.json'))).toBe(false);
    expect(fs.existsSync(path.join(dir, filePathForUrl(bad.url)))).toBe(false);
    const partials = fs.existsSync(path.join(dir, '.ferry-partial/resume'))
      ? fs.readdirSync(path.join(dir, '.ferry-partial/resume'))
      : [];
    expect(partials).toEqual([]);
    // The good file is kept: fixing the checksum and rerunning fetches only the bad one.
    const before = host.count('/ok.bin');
    const fixed = host.add('/bad.bin', randomBytes(5000));
    await runFetch(
      makePlan({
        files: [
          { key: 'ok', url: good.url, checksum: good.checksum },
          { key: 'bad', url: bad.url, checksum: fixed.checksum },
        ],
      }),
      { out: dir },
    );
    expect(host.count('/ok.bin')).toBe(before);
  });

  it('cancel leaves a resumable state; the next run continues from the partial bytes', async () => {
    await freshHost();
    const body = randomBytes(3_000_000);
    const f = host.add('/cancel.bin', body, [{ kind: 'slow', bytesPerSecond: 2_000_000, times: 1 }]);
    const dir = out();
    const plan = makePlan({ files: [{ key: 'c', url: f.url, checksum: f.checksum }] });
    const job = fetchJob(plan, { out: dir });
    await new Promise((r) => setTimeout(r, 600));
    job.cancel();
    await job.done.catch(() => undefined);
    expect(job.state).toBe('cancelled');
    expect(fs.existsSync(path.join(dir, 'manifest.json'))).toBe(false);
    const r = await runFetch(plan, { out: dir });
    expect(r.counts.fetched).toBe(1);
    const reqs = host.requests.filter((q) => q.path === '/cancel.bin');
    expect(reqs[1].range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(r.bytesDownloaded).toBeLessThan(body.length);
    expect((await verifyBundle(dir, { allowUnsigned: true })).ok).toBe(true);
  });

  it('goes through an HTTP proxy with Basic proxy credentials (profile setting), and NO_PROXY bypasses it', async () => {
    await freshHost();
    const proxy = await TestProxy.start({ username: 'u', password: 'p@ss' });
    try {
      const f = host.add('/via-proxy.bin', randomBytes(20_000));
      const dir = out();
      const authUrl = proxy.url.replace('http://', 'http://u:p%40ss@');
      await runFetch(makePlan({ files: [{ key: 'p', url: f.url, checksum: f.checksum }] }), {
        out: dir,
        proxy: { http: authUrl, https: authUrl },
      });
      expect(proxy.connects.length + proxy.forwards.length).toBeGreaterThan(0);
      const tunnels = proxy.connects.length + proxy.forwards.length;
      const g = host.add('/direct.bin', randomBytes(20_000));
      await runFetch(makePlan({ files: [{ key: 'd', url: g.url, checksum: g.checksum }] }), {
        out: out(),
        proxy: { http: authUrl, https: authUrl, noProxy: '127.0.0.1' },
      });
      expect(proxy.connects.length + proxy.forwards.length).toBe(tunnels);
      // Wrong proxy credentials are an error that says so.
      const wrong = proxy.url.replace('http://', 'http://u:nope@');
      const err = await runFetch(makePlan({ files: [{ key: 'w', url: g.url, checksum: g.checksum }] }), {
        out: out(),
        proxy: { http: wrong },
      }).catch((e) => e);
      expect(err).toBeInstanceOf(FerryError);
      expect(JSON.stringify((err as FerryError).details)).toMatch(/proxy/i);
      expect(proxy.refused).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  });

  it('mirrors change where bytes come from, not what the bundle records', async () => {
    await freshHost();
    const mirror = await FileHost.start();
    try {
      const body = randomBytes(30_000);
      const upstreamUrl = 'https://github.example/releases/v1/tool.tar.gz';
      const m = mirror.add('/gh/releases/v1/tool.tar.gz', body);
      const dir = out();
      await runFetch(makePlan({ files: [{ key: 'tool', url: upstreamUrl, checksum: m.checksum }] }), {
        out: dir,
        mirrors: { 'https://github.example/': mirror.url('/gh/') },
      });
      expect(mirror.count('/gh/releases/v1/tool.tar.gz')).toBe(1);
      const { manifest } = await openBundle(dir);
      expect(manifest.artifacts.find((a) => a.kind === 'file')).toMatchObject({
        url: upstreamUrl,
        paths: ['files/github.example/releases/v1/tool.tar.gz'],
      });
    } finally {
      await mirror.close();
    }
  });

  it('takes extra files from the profile with their sha256', async () => {
    await freshHost();
    const e = host.add('/extra/tool.bin', randomBytes(1000));
    const dir = out();
    await runFetch(makePlan({}), { out: dir, extraFiles: [{ url: e.url, sha256: e.sha256 }] });
    const { manifest } = await openBundle(dir);
    expect(manifest.artifacts.find((a) => a.kind === 'file')).toMatchObject({
      key: 'extra',
      url: e.url,
      checksum: e.checksum,
    });
  });
});
