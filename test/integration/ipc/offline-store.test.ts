import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addItem } from '../../../src-main/core/base/jobs/items.js';
import { filePathForUrl, openBundle } from '../../../src-main/core/bundle/index.js';
import type { Drive } from '../../../src-main/core/media/drives/index.js';
import { parseArchiveIndex } from '../../../src-main/core/bundle/archive-format.js';
import { exportBundle } from '../../../src-main/core/media/export/index.js';
import { KeyStore } from '../../../src-main/core/bundle/keys/index.js';
import { storeSources } from '../../../src-main/core/media/store/index.js';
import type { ImportItem } from '../../../src-main/ipc/contract.js';
import { makeSampleBundle } from '../../helpers/bundle-fixtures.js';
import { kubesprayTarball } from '../../helpers/kubespray-bundle.js';
import { writeTestBundle } from '../../helpers/oci-fixtures.js';
import { testBackend } from '../../helpers/ipc-backend.js';

/**
 * The offline side beyond bundle folders: archive exports on a drive opened, checked and
 * imported from the app, and services that serve from this machine's store.
 */

type T = ReturnType<typeof testBackend>;
let t: T | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

function usbAt(mountPoint: string): Drive {
  fs.mkdirSync(mountPoint, { recursive: true });
  return {
    id: `usb@${mountPoint}`,
    device: '/dev/sdz1',
    label: 'USB',
    mountPoint,
    size: 1e9,
    free: 5e8,
    fsType: 'exfat',
    removable: true,
    system: false,
  };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** An offline backend with an empty USB stick and a signing key of its own. */
async function offlineWithUsb() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-ipc-'));
  const usb = usbAt(path.join(tmp, 'usb'));
  const tt = testBackend({ tmp, drives: [usb] });
  await tt.ok('keys.generate', { force: false });
  return { tmp, usb, tt, keyStore: KeyStore.fromEnv(tt.env) };
}

/** An offline backend with a USB stick; the sample bundle is signed by the backend's own key. */
async function offlineWithArchive() {
  const { tmp, usb, tt, keyStore } = await offlineWithUsb();
  const src = path.join(tmp, 'made', 'bundle');
  await makeSampleBundle(src, { signer: (await keyStore.signer())! });
  const archive = path.join(usb.mountPoint, 'ferry-archive');
  // Small parts, so the bundle spans several of them and one can go bad alone.
  await exportBundle(src, { to: archive, archive: true, split: 1 << 20, keyStore });
  const index = parseArchiveIndex(fs.readFileSync(path.join(archive, 'ferry-archive.json')), 'index');
  return { tt, usb, archive, index };
}

/** Starts an import of a scanned bundle and waits for the job to end. */
async function importAndWait(
  tt: Pick<T, 'ok' | 'waitJob'>,
  token: string,
  trust: { allowUntrusted?: boolean; allowUnsigned?: boolean } = {},
) {
  const { jobId } = await tt.ok('import.start', {
    bundle: { token },
    allowUntrusted: false,
    allowUnsigned: false,
    ...trust,
  });
  return tt.waitJob(jobId);
}

/** serve.start options for loopback on two free ports, without TLS and trusting nothing extra. */
async function loopbackServe() {
  return {
    address: '127.0.0.1',
    filesPort: await freePort(),
    registryPort: await freePort(),
    tls: false,
    allowUntrusted: false,
    allowUnsigned: false,
  };
}

const itemsOf = (tt: T, jobId: string): ImportItem[] =>
  tt
    .jobEvents(jobId)
    .filter((e) => e.type === 'item')
    .map((e) => (e as { item: unknown }).item as ImportItem);

describe('archive exports on the offline side', () => {
  it('media.scan shows an archive on a drive with its parts and signature; importing it checks the signature, then every part, then fills the map', async () => {
    const a = await offlineWithArchive();
    t = a.tt;
    expect(a.index.parts.length).toBeGreaterThanOrEqual(3);

    const found = await t.ok('media.scan');
    expect(found.problems).toEqual([]);
    expect(found.bundles).toHaveLength(1);
    const b = found.bundles[0];
    expect(b).toMatchObject({
      format: 'archive',
      parts: a.index.parts.length,
      id: a.index.bundleId,
      label: a.archive,
      signature: { status: 'trusted' },
      counts: { files: 3, images: 2 },
    });

    // An archive is checked by importing it (reading it in place would read every part twice).
    expect(
      await t.call('verify.start', {
        bundle: { token: b.token },
        allowUntrusted: false,
        allowUnsigned: false,
      }),
    ).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    // And it cannot be served from the media.
    expect(
      await t.call('serve.start', {
        from: { kind: 'media', bundle: { token: b.token } },
        ...(await loopbackServe()),
      }),
    ).toMatchObject({ ok: false, error: { code: 'USAGE' } });

    const snap = await importAndWait(t, b.token);
    const jobId: string = snap.id;
    expect(snap).toMatchObject({
      kind: 'import',
      state: 'done',
      result: { bundleId: a.index.bundleId, status: 'complete', signature: { status: 'trusted' } },
    });

    const items = itemsOf(t, jobId);
    const firstOf = (type: ImportItem['type']) => items.findIndex((i) => i.type === type);
    expect(items[0]).toMatchObject({ type: 'signature', status: 'trusted' });
    expect(firstOf('signature')).toBeLessThan(firstOf('part'));
    expect(firstOf('part')).toBeLessThan(firstOf('artifact'));
    const partStates = new Map<string, string>();
    for (const i of items) if (i.type === 'part') partStates.set(i.name, i.state);
    expect([...partStates.keys()].sort()).toEqual(a.index.parts.map((p) => p.name));
    expect([...partStates.values()].every((s) => s === 'good')).toBe(true);

    // The map: every artifact announced as waiting, and every one ends good.
    const arts = items.filter((i): i is Extract<ImportItem, { type: 'artifact' }> => i.type === 'artifact');
    const waiting = arts.filter((i) => i.state === 'waiting');
    expect(waiting.map((i) => i.kind).sort()).toEqual(
      expect.arrayContaining(['file', 'file', 'file', 'image', 'image']),
    );
    const last = new Map(arts.map((i) => [i.id, i.state]));
    expect(last.size).toBe(waiting.length);
    expect([...last.values()].every((s) => s === 'good')).toBe(true);
    // A reloaded renderer gets the same items from jobs.get: the latest news per artifact.
    expect(snap.items).toEqual(items.reduce<Array<Record<string, unknown>>>((l, i) => addItem(l, i), []));
    expect(snap.items.length).toBeLessThan(items.length);

    const stored = await storeSources(path.join(t.tmp, 'data', 'store'));
    expect(stored.map((s) => s.id)).toEqual([a.index.bundleId]);
  });

  it('a damaged part and a missing part are named, so only they need copying again, and nothing is imported', async () => {
    const a = await offlineWithArchive();
    t = a.tt;
    const [, second, third] = a.index.parts;
    const file = path.join(a.archive, second.name);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length >> 1] ^= 0xff;
    fs.writeFileSync(file, bytes);
    fs.rmSync(path.join(a.archive, third.name));

    // The head is in the first part, so the summary still shows; the import names the parts.
    const [b] = (await t.ok('media.scan')).bundles;
    expect(b.format).toBe('archive');
    const snap = await importAndWait(t, b.token);
    const jobId: string = snap.id;
    expect(snap.state).toBe('failed');
    expect(snap.error.code).toBe('INTEGRITY');
    expect(snap.error.message).toContain(`${second.name} is damaged`);
    expect(snap.error.message).toContain(`${third.name} is missing`);
    expect(snap.error.hint).toMatch(/Copy just these parts again/);
    const parts = itemsOf(t, jobId).filter((i) => i.type === 'part');
    expect(parts).toContainEqual(expect.objectContaining({ name: second.name, state: 'damaged' }));
    expect(parts).toContainEqual(expect.objectContaining({ name: third.name, state: 'missing' }));
    expect(await storeSources(path.join(t.tmp, 'data', 'store'))).toEqual([]);

    // A manifest altered at the head of the first part is caught before anything is shown as
    // trustworthy: the summary names the part to copy again.
    const firstPart = path.join(a.archive, a.index.parts[0].name);
    const head = fs.readFileSync(firstPart);
    head[512 + 20] ^= 0x01;
    fs.writeFileSync(firstPart, head);
    expect((await t.ok('media.scan')).problems).toEqual([
      expect.objectContaining({
        error: expect.objectContaining({ code: 'INTEGRITY', artifact: a.index.parts[0].name }),
      }),
    ]);

    // Without its first part, the archive cannot even be summarised: that part is named.
    fs.rmSync(path.join(a.archive, a.index.parts[0].name));
    const again = await t.ok('media.scan');
    expect(again.bundles).toEqual([]);
    expect(again.problems).toEqual([
      expect.objectContaining({
        label: 'USB: ferry-archive',
        error: expect.objectContaining({ code: 'NOT_FOUND', artifact: a.index.parts[0].name }),
      }),
    ]);
  });

  it('a file altered inside a part whose index was rewritten to match still turns its tile damaged, with what is wrong', async () => {
    const a = await offlineWithArchive();
    t = a.tt;
    // Find the "tool1" bytes in the tar stream and flip one; then make the (unsigned)
    // index agree with the altered part, as someone covering their tracks would.
    const { manifest } = await openBundle(path.join(t.tmp, 'made', 'bundle'));
    const tool = manifest.artifacts.find((x) => x.kind === 'file' && x.key === 'tool1')!;
    const needle = fs.readFileSync(path.join(t.tmp, 'made', 'bundle', tool.paths[0])).subarray(0, 64);
    let patched: string | undefined;
    for (const p of a.index.parts) {
      const file = path.join(a.archive, p.name);
      const buf = fs.readFileSync(file);
      const at = buf.indexOf(needle);
      if (at < 0 || at + 100 >= buf.length) continue;
      buf[at + 100] ^= 0xff;
      fs.writeFileSync(file, buf);
      p.sha256 = createHash('sha256').update(buf).digest('hex');
      patched = p.name;
      break;
    }
    expect(patched).toBeDefined();
    fs.writeFileSync(path.join(a.archive, 'ferry-archive.json'), JSON.stringify(a.index));

    const [b] = (await t.ok('media.scan')).bundles;
    const snap = await importAndWait(t, b.token);
    expect(snap).toMatchObject({ state: 'done', result: { status: 'incomplete' } });
    expect(snap.result.hint).toMatch(/second copy/);
    const arts = itemsOf(t, snap.id).filter(
      (i): i is Extract<ImportItem, { type: 'artifact' }> => i.type === 'artifact',
    );
    const last = new Map(arts.map((i) => [i.id, i]));
    expect(last.get(tool.id)).toMatchObject({
      state: 'damaged',
      message: expect.stringContaining(tool.paths[0]),
    });
    expect([...last.values()].filter((i) => i.state !== 'good').map((i) => i.id)).toEqual([tool.id]);
    // An incomplete bundle is not served from the store until a second copy repairs it.
    expect(
      await t.call('serve.start', {
        from: { kind: 'store', bundleId: a.index.bundleId },
        ...(await loopbackServe()),
      }),
    ).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  it('an archive signed by an unknown key stops at the signature until the technician accepts it', async () => {
    const a = await offlineWithArchive();
    t = a.tt;
    // A second machine with its own key sees the same archive as signed by an unknown key.
    const other = testBackend({ drives: [usbAt(a.usb.mountPoint)] });
    try {
      const [b] = (await other.ok('media.scan')).bundles;
      expect(b.signature.status).toBe('unknown-key');
      const refused = await importAndWait(other, b.token);
      expect(refused.state).toBe('failed');
      // Nothing was hashed before the signature was judged.
      expect(refused.items.filter((i: { type: string }) => i.type === 'part')).toEqual([]);
      const accepted = await importAndWait(other, b.token, { allowUntrusted: true });
      expect(accepted).toMatchObject({ state: 'done', result: { status: 'complete' } });
    } finally {
      await other.cleanup();
    }
  });
});

describe('services from the store', () => {
  it('serve an imported bundle with the media gone, and offline.yml comes from the Kubespray tarball in the store', async () => {
    const { tmp, usb, tt, keyStore } = await offlineWithUsb();
    t = tt;
    const signer = (await keyStore.signer())!;
    const tag = 'v2.31.0';
    const tarball = await kubesprayTarball(tag, path.join(tmp, `kubespray-${tag}.tar.gz`));
    const url = 'https://dl.k8s.io/release/v1.35.4/bin/linux/amd64/kubeadm';
    const content = randomBytes(70_000);
    const manifest = await writeTestBundle(path.join(usb.mountPoint, 'ferry'), {
      files: [{ url, content, key: 'kubeadm', arch: 'amd64' }],
      kubespray: { version: tag, arches: ['amd64'], tarball: fs.readFileSync(tarball) },
      signer,
    });

    // Nothing imported yet: the store cannot serve it, and says so before any job starts.
    const opts = await loopbackServe();
    expect(
      await t.call('serve.start', { from: { kind: 'store', bundleId: manifest.id }, ...opts }),
    ).toMatchObject({ ok: false, error: { code: 'NOT_FOUND', artifact: manifest.id } });

    const [b] = (await t.ok('media.scan')).bundles;
    expect(b).toMatchObject({ format: 'folder', id: manifest.id });
    const imported = await importAndWait(t, b.token);
    expect(imported).toMatchObject({ state: 'done', result: { status: 'complete' } });
    // The drive goes back to the connected side.
    fs.rmSync(path.join(usb.mountPoint, 'ferry'), { recursive: true });

    const { jobId } = await t.ok('serve.start', { from: { kind: 'store', bundleId: manifest.id }, ...opts });
    let st: any;
    for (let i = 0; i < 100 && !(st = await t.ok('serve.status')).running; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(st).toMatchObject({ running: true, jobId, from: 'store', bundles: 1 });

    const res = await fetch(
      `http://127.0.0.1:${opts.filesPort}/${filePathForUrl(url).replace(/^files\//, '')}`,
    );
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(content)).toBe(true);

    // No Kubespray folder is given: the variables come from the release tarball in the store.
    const vars = await t.ok('vars.generate', { jobId, style: 'kubespray' });
    expect(vars.offlineYml).toContain(`files_repo: http://127.0.0.1:${opts.filesPort}`);
    expect(vars.offlineYml).toContain(`registry_host: 127.0.0.1:${opts.registryPort}`);
    expect(vars.offlineYml).toContain(tag);
    // Variables only that Kubespray version defines (read from its roles in the stored tarball).
    expect(vars.offlineYml).toContain('dl_k8s_io_url: "{{ files_repo }}/dl.k8s.io"');
    expect(vars.offlineYml).toContain('kube_image_repo: "{{ registry_host }}"');

    expect(await t.ok('serve.stop', { jobId })).toEqual({ stopped: true });
    expect(await t.waitJob(jobId)).toMatchObject({ state: 'done', result: { requests: 1 } });
  });
});
