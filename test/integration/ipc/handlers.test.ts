import type { PlanSizesT } from '../../../src-main/ipc/contract.js';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Drive } from '../../../src-main/core/media/drives/index.js';
import { KeyStore } from '../../../src-main/core/bundle/keys/index.js';
import { externalAllowed } from '../../../src-main/ipc/handlers/app.js';
import { choicesToVars } from '../../../src-main/ipc/handlers/planning.js';
import { planView } from '../../../src-main/ipc/handlers/plan.js';
import { driveView } from '../../../src-main/ipc/handlers/drives.js';
import { makeSampleBundle } from '../../helpers/bundle-fixtures.js';
import { testBackend } from '../../helpers/ipc-backend.js';

type T = ReturnType<typeof testBackend>;
let t: T | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

function usbAt(mountPoint: string, fsType = 'exfat'): Drive {
  fs.mkdirSync(mountPoint, { recursive: true });
  return {
    id: `usb@${mountPoint}`,
    device: '/dev/sdz1',
    label: 'USB',
    mountPoint,
    size: 1e9,
    free: 5e8,
    fsType,
    removable: true,
    system: false,
  };
}

/** A signed sample bundle on a fake USB stick, signed by the backend's own key (so trusted). */
async function signedBundleOnUsb(tt: T, fileSizes?: number[]) {
  const own = await tt.ok('keys.generate', { force: false });
  const dir = path.join(tt.tmp, 'usb', 'ferry');
  const signer = (await KeyStore.fromEnv(tt.env).signer())!;
  await makeSampleBundle(dir, { signer, ...(fileSizes ? { fileSizes } : {}) });
  return { dir, own };
}

describe('verify jobs over IPC', () => {
  it('start at once, stream throttled progress and per-artifact items with rising sequence numbers, and end with exactly one terminal event', async () => {
    t = testBackend();
    const { dir } = await signedBundleOnUsb(t);
    t.answers.folders.push(dir);
    const picked = await t.ok('dialog.pickFolder', { purpose: 'bundle' });
    expect(picked.label).toBe(dir);
    const summary = await t.ok('bundle.open', { token: picked.token });
    expect(summary).toMatchObject({
      kubesprayVersion: 'v2.31.0',
      counts: { files: 3, images: 2 },
      signature: { status: 'trusted' },
    });

    const started = Date.now();
    const { jobId } = await t.ok('verify.start', {
      bundle: { token: picked.token },
      allowUntrusted: false,
      allowUnsigned: false,
    });
    const snap = await t.waitJob(jobId);
    const seconds = (Date.now() - started) / 1000;
    const evs = t.jobEvents(jobId);
    // Throttled: about ten progress events a second, plus phase changes and the final one.
    expect(evs.filter((e) => e.type === 'progress').length).toBeLessThanOrEqual(Math.ceil(seconds * 10) + 4);
    expect(evs.map((e) => e.seq)).toEqual(evs.map((_, i) => i + 1));
    expect(evs.filter((e) => ['done', 'failed', 'cancelled'].includes(e.type))).toHaveLength(1);
    expect(evs[evs.length - 1]).toMatchObject({ type: 'done', result: { ok: true, verified: true } });
    const items = evs
      .filter((e) => e.type === 'item')
      .map((e) => (e as { item: Record<string, unknown> }).item);
    expect(items[0]).toMatchObject({ type: 'verify.plan' });
    const planned = (items[0].artifacts as unknown[]).length;
    expect(items.filter((i) => i.type === 'verify.artifact')).toHaveLength(planned);
    expect(items.filter((i) => i.type === 'verify.artifact').every((i) => i.status === 'ok')).toBe(true);
    // Re-attaching after a reload gives the same picture: state, last sequence number, every item.
    expect(snap).toMatchObject({ id: jobId, kind: 'verify', state: 'done', seq: evs.length });
    expect(snap.items).toEqual(items);
    expect(t.events.every((e) => e.channel !== 'job' || e.kind === 'verify')).toBe(true);
  });

  it('reports a damaged file on its artifact, with expected and actual digests and a hint', async () => {
    t = testBackend();
    const { dir } = await signedBundleOnUsb(t);
    const { manifest } = JSON.parse(
      JSON.stringify({ manifest: JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) }),
    );
    const victim = manifest.files.find((f: { path: string }) => f.path.includes('tool1'));
    const abs = path.join(dir, victim.path);
    const b = fs.readFileSync(abs);
    b[0] ^= 1;
    fs.writeFileSync(abs, b);
    t.answers.folders.push(dir);
    const { token } = await t.ok('dialog.pickFolder', { purpose: 'bundle' });
    const { jobId } = await t.ok('verify.start', {
      bundle: { token },
      allowUntrusted: false,
      allowUnsigned: false,
    });
    const snap = await t.waitJob(jobId);
    expect(snap.result).toMatchObject({ ok: false, counts: { wrongDigest: 1 } });
    const bad = snap.items.find((i: any) => i.type === 'verify.artifact' && i.status === 'damaged');
    expect(bad.problems[0]).toMatchObject({
      path: victim.path,
      status: 'wrong-digest',
      expectedSha256: victim.sha256,
    });
    expect(bad.problems[0].actualSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(bad.hint).toMatch(/re-export/);
  });

  it('cancels: the job ends with one cancelled event and jobs.get says so', async () => {
    t = testBackend();
    const { dir } = await signedBundleOnUsb(t, [64 << 20, 64 << 20]);
    t.answers.folders.push(dir);
    const { token } = await t.ok('dialog.pickFolder', { purpose: 'bundle' });
    const { jobId } = await t.ok('verify.start', {
      bundle: { token },
      allowUntrusted: false,
      allowUnsigned: false,
    });
    expect(await t.ok('jobs.cancel', { id: jobId })).toEqual({ cancelled: true });
    const snap = await t.waitJob(jobId);
    expect(snap.state).toBe('cancelled');
    expect(t.jobEvents(jobId).filter((e) => e.type === 'cancelled')).toHaveLength(1);
    expect(t.jobEvents(jobId).some((e) => e.type === 'done')).toBe(false);
    expect(await t.ok('jobs.cancel', { id: jobId })).toEqual({ cancelled: false });
  });

  it('refuses an untrusted signature unless the technician accepted it', async () => {
    t = testBackend();
    const other = testBackend();
    const { dir } = await signedBundleOnUsb(other);
    t.answers.folders.push(dir, dir);
    const { token } = await t.ok('dialog.pickFolder', { purpose: 'bundle' });
    expect((await t.ok('bundle.open', { token })).signature.status).toBe('unknown-key');
    const refused = await t.waitJob(
      (await t.ok('verify.start', { bundle: { token }, allowUntrusted: false, allowUnsigned: false })).jobId,
    );
    expect(refused).toMatchObject({ state: 'failed', error: { code: 'SIGNATURE' } });
    const accepted = await t.waitJob(
      (await t.ok('verify.start', { bundle: { token }, allowUntrusted: true, allowUnsigned: false })).jobId,
    );
    expect(accepted).toMatchObject({ state: 'done', result: { ok: true, verified: false } });
    await other.cleanup();
  });
});

describe('paths stay in main', () => {
  it('a token picked for one purpose cannot be used for another, and an unknown token is refused', async () => {
    t = testBackend();
    t.answers.files.push(path.join(t.tmp, 'some.pub'));
    const key = await t.ok('dialog.pickFile', { purpose: 'key' });
    expect(await t.call('bundle.open', { token: key.token })).toMatchObject({
      ok: false,
      error: { code: 'USAGE' },
    });
    expect(await t.call('bundle.open', { token: 'AAAAAAAAAAAAAAAAAAAAAAAA' })).toMatchObject({
      ok: false,
      error: { code: 'USAGE' },
    });
  });

  it('a cancelled dialog answers null rather than an error', async () => {
    t = testBackend();
    expect(await t.ok('dialog.pickFolder', { purpose: 'export' })).toBeNull();
  });

  it('media.scan finds bundles on inserted drives and names the ones it cannot read', async () => {
    t = testBackend();
    const { dir } = await signedBundleOnUsb(t);
    const broken = path.join(t.tmp, 'usb', 'old');
    fs.mkdirSync(broken, { recursive: true });
    fs.writeFileSync(path.join(broken, 'manifest.json'), '{ not json');
    fs.mkdirSync(path.join(t.tmp, 'usb', 'parts'));
    fs.writeFileSync(path.join(t.tmp, 'usb', 'parts', 'ferry-archive.json'), '{}');
    const t2 = testBackend({ tmp: t.tmp, drives: [usbAt(path.join(t.tmp, 'usb'))] });
    const found = await t2.ok('media.scan');
    expect(found.drivesSearched).toBe(1);
    expect(found.bundles.map((b: { label: string }) => b.label)).toEqual([dir]);
    expect(found.problems).toHaveLength(2);
    expect(found.problems).toContainEqual(
      expect.objectContaining({ label: 'USB: old', error: expect.objectContaining({ code: 'INTEGRITY' }) }),
    );
    // An archive export whose index does not parse is named, not silently skipped.
    expect(found.problems).toContainEqual(
      expect.objectContaining({
        label: 'USB: parts',
        error: expect.objectContaining({ code: 'HOSTILE', artifact: 'ferry-archive.json' }),
      }),
    );
    await t2.backend.shutdown();
  });
});

describe('app channels', () => {
  it('opens only allowlisted https links in the OS browser', async () => {
    t = testBackend();
    expect(await t.ok('app.openExternal', { url: 'https://kubespray.io/#/docs/offline' })).toEqual({
      opened: true,
    });
    for (const url of [
      'http://kubespray.io/',
      'https://kubespray.io.evil.example/',
      'https://github.com/kubernetes-sigs/kubespray-evil',
      'https://user:pw@kubespray.io/',
      'file:///etc/passwd',
      'javascript:alert(1)',
    ]) {
      expect(externalAllowed(url)).toBe(false);
      expect(await t.call('app.openExternal', { url })).toMatchObject({
        ok: false,
        error: { code: 'USAGE' },
      });
    }
    expect(t.opened).toEqual(['https://kubespray.io/#/docs/offline']);
    expect(externalAllowed('https://github.com/kubernetes-sigs/kubespray/releases')).toBe(true);
  });

  it('keeps settings in the config dir and validates them', async () => {
    t = testBackend();
    const d = await t.ok('settings.get');
    expect(d).toMatchObject({ mirrors: [], insecureRegistries: [], theme: 'system' });
    expect(d.storeLabel).toBe(path.join(t.tmp, 'data', 'store'));
    await t.ok('settings.set', {
      mirrors: [{ upstream: 'docker.io', mirror: 'https://mirror.example/docker' }],
      theme: 'dark',
    });
    expect(
      await t.call('settings.set', { mirrors: [{ upstream: 'docker.io', mirror: 'ftp://x' }] }),
    ).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    const store = path.join(t.tmp, 'elsewhere');
    t.answers.folders.push(store);
    expect((await t.ok('settings.pickStore')).storeLabel).toBe(store);
    const file = JSON.parse(fs.readFileSync(path.join(t.tmp, 'config', 'app-settings.json'), 'utf8'));
    expect(file).toMatchObject({ theme: 'dark', storeDir: store, mirrors: [{ upstream: 'docker.io' }] });
  });

  it('generates a key, exports its public half through a save dialog, and trusts a pasted key', async () => {
    t = testBackend();
    const own = await t.ok('keys.generate', { name: 'connected laptop', force: false });
    expect(await t.call('keys.generate', { force: false })).toMatchObject({
      ok: false,
      error: { code: 'USAGE' },
    });
    const out = path.join(t.tmp, 'out.pub');
    t.answers.saves.push(out);
    expect(await t.ok('keys.exportPublic')).toEqual({ saved: out });
    const other = testBackend();
    const trusted = await other.ok('keys.trust', { pem: fs.readFileSync(out, 'utf8') });
    expect(trusted).toMatchObject({ fingerprint: own.fingerprint, name: 'connected laptop', own: false });
    expect((await other.ok('keys.list')).map((k: { fingerprint: string }) => k.fingerprint)).toEqual([
      own.fingerprint,
    ]);
    expect(await other.call('keys.trust', { pem: 'not a key' })).toMatchObject({
      ok: false,
      error: { code: 'CONFIG' },
    });
    await other.cleanup();
  });
});

describe('serving over IPC', () => {
  async function freePort(): Promise<number> {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const p = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    return p;
  }

  it('serves a verified bundle on a chosen address, counts clients, and stops with one terminal event', async () => {
    t = testBackend();
    const { dir } = await signedBundleOnUsb(t);
    t.answers.folders.push(dir);
    const { token } = await t.ok('dialog.pickFolder', { purpose: 'bundle' });
    const [filesPort, registryPort] = [await freePort(), await freePort()];
    const bad = await t.call('serve.start', {
      from: { kind: 'media', bundle: { token } },
      address: '10.254.254.254',
      filesPort,
      registryPort,
      tls: false,
      allowUntrusted: false,
      allowUnsigned: false,
    });
    expect(bad).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    const { jobId } = await t.ok('serve.start', {
      from: { kind: 'media', bundle: { token } },
      address: '127.0.0.1',
      filesPort,
      registryPort,
      tls: false,
      allowUntrusted: false,
      allowUnsigned: false,
    });
    let st: any;
    for (let i = 0; i < 100 && !(st = await t.ok('serve.status')).running; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(st).toMatchObject({
      running: true,
      jobId,
      filesUrl: `http://127.0.0.1:${filesPort}`,
      registryUrl: `http://127.0.0.1:${registryPort}`,
    });
    const res = await fetch(`http://127.0.0.1:${filesPort}/dl.example.test/release/v1/bin/linux/amd64/tool0`);
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(1000);
    const after = await t.ok('serve.status');
    expect(after.requests).toBe(1);
    expect(after.recentClients[0]).toMatchObject({ address: '127.0.0.1', requests: 1 });
    // The sample bundle has no Kubespray tarball: vars says what is missing instead of guessing.
    expect(await t.call('vars.generate', { jobId, style: 'kubespray' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    expect(await t.ok('serve.stop', { jobId })).toEqual({ stopped: true });
    const snap = await t.waitJob(jobId);
    expect(snap).toMatchObject({ state: 'done', result: { requests: 1 } });
    expect(t.jobEvents(jobId).filter((e) => ['done', 'failed', 'cancelled'].includes(e.type))).toHaveLength(
      1,
    );
    expect((await t.ok('serve.status')).running).toBe(false);
  });

  it('lists this machine’s interface addresses for the listen choice', async () => {
    t = testBackend();
    const list = await t.ok('serve.interfaces');
    expect(
      list.some((i: { address: string; internal: boolean }) => i.address === '127.0.0.1' && i.internal),
    ).toBe(true);
  });
});

describe('connected-side helpers', () => {
  it('turns cluster choices into the Kubespray variables they mean', () => {
    expect(
      choicesToVars({
        kubespray: { source: 'release', version: 'v2.31.0' },
        arches: ['amd64'],
        runtime: 'crio',
        network: 'cilium',
        addons: ['helm'],
        extraImages: [],
        extraFiles: [],
      }),
    ).toMatchObject({
      container_manager: 'crio',
      kube_network_plugin: 'cilium',
      helm_enabled: true,
      metallb_enabled: false,
    });
  });

  it('warns about FAT32 and system drives', () => {
    const d = driveView({
      id: 'a',
      device: '/dev/sdb1',
      label: 'STICK',
      mountPoint: '/media/x',
      size: 8e9,
      free: 7e9,
      fsType: 'vfat',
      removable: true,
      system: false,
    });
    expect(d.warnings.join(' ')).toMatch(/FAT32/);
    expect(
      driveView({
        id: 'b',
        device: '/dev/sda1',
        label: 'root',
        mountPoint: '/',
        size: 1,
        free: 1,
        fsType: 'ext4',
        removable: false,
        system: true,
      }).warnings,
    ).toHaveLength(2);
  });

  it('groups a plan by component for the room picture', () => {
    const v = planView({
      kubespray: 'v2.31.0',
      kubeVersion: '1.35.4',
      arches: ['amd64'],
      files: [
        {
          key: 'kubeadm',
          arch: 'amd64',
          arches: ['amd64'],
          url: 'https://dl.k8s.io/a',
          checksum: 'sha256:' + 'a'.repeat(64),
          path: 'files/a',
          enabled: true,
        },
        {
          key: 'calicoctl',
          arch: 'amd64',
          arches: ['amd64'],
          url: 'https://github.com/c',
          checksum: '',
          path: 'files/c',
          enabled: true,
        },
      ],
      images: [
        {
          key: 'calico_node',
          ref: 'quay.io/calico/node:v3',
          repo: 'quay.io/calico/node',
          tag: 'v3',
          platforms: ['linux/amd64'],
          enabled: true,
        },
        {
          key: 'calico_cni',
          ref: 'quay.io/calico/cni:v3',
          repo: 'quay.io/calico/cni',
          tag: 'v3',
          platforms: ['linux/amd64'],
          enabled: true,
        },
      ],
      vars: {},
    });
    expect(v.counts).toEqual({ files: 2, images: 2, total: 4 });
    expect(v.groups).toContainEqual({ name: 'calico', kind: 'image', count: 2, bytes: null });
    expect(v.warnings[0]).toMatch(/calicoctl/);
  });
});

describe('export over IPC', () => {
  async function workingBundle(tt: T) {
    const own = await tt.ok('keys.generate', { force: false });
    const signer = (await KeyStore.fromEnv(tt.env).signer())!;
    await makeSampleBundle(path.join(tt.tmp, 'data', 'outgoing', 'bundle'), { signer });
    return own;
  }

  it('refuses to export before anything was fetched', async () => {
    t = testBackend();
    t.answers.folders.push(path.join(t.tmp, 'out'));
    const { token } = await t.ok('dialog.pickFolder', { purpose: 'export' });
    expect(await t.call('export.start', { target: { kind: 'folder', token } })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
  });

  it('exports the working bundle to a drive, reads it back, and reports the signing key fingerprint', async () => {
    const tmp = fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'ferry-ipc-'));
    const usb = usbAt(path.join(tmp, 'usb'));
    t = testBackend({ tmp, drives: [usb] });
    const own = await workingBundle(t);
    const drives = await t.ok('drives.list');
    expect(drives).toEqual([
      expect.objectContaining({ id: usb.id, label: 'USB', fsType: 'exfat', warnings: [] }),
    ]);
    const { jobId } = await t.ok('export.start', { target: { kind: 'drive', driveId: usb.id } });
    const snap = await t.waitJob(jobId);
    expect(snap).toMatchObject({
      state: 'done',
      result: { fingerprint: own.fingerprint, label: path.join(usb.mountPoint, 'ferry') },
    });
    expect(fs.existsSync(path.join(usb.mountPoint, 'ferry', 'manifest.json.sig'))).toBe(true);
    expect(await t.call('export.start', { target: { kind: 'drive', driveId: 'gone' } })).toMatchObject({
      ok: false,
      error: { code: 'MEDIA_REMOVED' },
    });
  });

  it('exports as archive parts with an index into a picked folder', async () => {
    t = testBackend();
    const own = await workingBundle(t);
    const out = path.join(t.tmp, 'archive-out');
    t.answers.folders.push(out);
    const { token } = await t.ok('dialog.pickFolder', { purpose: 'export' });
    const snap = await t.waitJob((await t.ok('export.start', { target: { kind: 'archive', token } })).jobId);
    expect(snap).toMatchObject({ state: 'done', result: { fingerprint: own.fingerprint } });
    expect(fs.readdirSync(out)).toEqual(expect.arrayContaining(['ferry-archive.json']));
    expect(fs.readdirSync(out).some((n) => /^bundle\.tar\.\d{3}$/.test(n))).toBe(true);
  });
});

describe('serving with TLS over IPC', () => {
  it(
    'issues a certificate from Ferry’s CA for the chosen address and serves HTTPS that the CA validates',
    { timeout: 30_000 },
    async () => {
      t = testBackend();
      const { dir } = await signedBundleOnUsb(t);
      t.answers.folders.push(dir);
      const { token } = await t.ok('dialog.pickFolder', { purpose: 'bundle' });
      const ports: number[] = [];
      for (let i = 0; i < 2; i++) {
        const s = net.createServer();
        await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
        ports.push((s.address() as net.AddressInfo).port);
        await new Promise<void>((r) => s.close(() => r()));
      }
      const { jobId } = await t.ok('serve.start', {
        from: { kind: 'media', bundle: { token } },
        address: '127.0.0.1',
        filesPort: ports[0],
        registryPort: ports[1],
        tls: true,
        allowUntrusted: false,
        allowUnsigned: false,
      });
      let st: any;
      for (let i = 0; i < 200 && !(st = await t.ok('serve.status')).running; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(st.filesUrl).toBe(`https://127.0.0.1:${ports[0]}`);
      const caFile = fs
        .readdirSync(path.join(t.tmp, 'config', 'tls'))
        .find((f) => /ca.*\.(crt|pem)$/.test(f));
      expect(caFile).toBeTruthy();
      const ca = fs.readFileSync(path.join(t.tmp, 'config', 'tls', caFile!));
      const https = await import('node:https');
      const status = await new Promise<number>((resolve, reject) => {
        https
          .get(`${st.filesUrl}/dl.example.test/release/v1/bin/linux/amd64/tool0`, { ca }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          })
          .on('error', reject);
      });
      expect(status).toBe(200);
      await t.ok('serve.stop', { jobId });
      await t.waitJob(jobId);
    },
  );
});

describe('planning over IPC', () => {
  it('prepares a Kubespray folder as a plan job whose result lists its Kubernetes versions, then plans from it', async () => {
    t = testBackend();
    const ks = path.join(t.tmp, 'ks');
    const role = path.join(ks, 'roles', 'kubespray_defaults', 'defaults', 'main');
    fs.mkdirSync(role, { recursive: true });
    fs.mkdirSync(path.join(ks, 'roles', 'kubespray_defaults', 'vars', 'main'), { recursive: true });
    fs.writeFileSync(path.join(ks, 'roles', 'kubespray_defaults', 'vars', 'main', 'main.yml'), '---\n{}\n');
    const sum = (c: string) => `sha256:${c.repeat(64)}`;
    fs.writeFileSync(
      path.join(role, 'main.yml'),
      [
        'kube_version: "1.35.4"',
        'kube_image_repo: "registry.k8s.io"',
        'skip_kubeadm_images: true',
        'kube_network_plugin: calico',
        'kubelet_checksums:',
        '  amd64:',
        `    1.35.4: "${sum('a')}"`,
        `    1.34.2: "${sum('b')}"`,
        'downloads:',
        '  kubelet:',
        '    enabled: true',
        '    file: true',
        '    container: false',
        '    url: "https://dl.k8s.io/release/v{{ kube_version }}/bin/linux/amd64/kubelet"',
        '    checksum: "{{ kubelet_checksums.amd64[kube_version] }}"',
        '  calico_node:',
        '    enabled: "{{ kube_network_plugin == \'calico\' }}"',
        '    container: true',
        '    repo: "quay.io/calico/node"',
        '    tag: "v3.30.3"',
        '',
      ].join('\n'),
    );
    t.answers.folders.push(ks);
    const { token } = await t.ok('dialog.pickFolder', { purpose: 'kubespray' });
    const { jobId } = await t.ok('plan.prepare', { kubespray: { source: 'folder', token } });
    const snap = await t.waitJob(jobId);
    expect(snap).toMatchObject({
      kind: 'plan',
      state: 'done',
      result: { kubeVersions: ['1.35.4', '1.34.2'] },
    });
    const choices = {
      kubespray: { source: 'folder', token },
      arches: ['amd64'],
      runtime: 'containerd',
      network: 'calico',
      addons: [],
      extraImages: [],
      extraFiles: [],
    };
    expect((await t.ok('plan.compute', choices)).counts).toEqual({ files: 1, images: 1, total: 2 });
    // Sizes over the network: grouped like the plan; what the (unreachable) upstream did not say is listed, not guessed.
    const sz = (await t.ok('plan.sizes', choices)) as PlanSizesT;
    expect(sz.groups.reduce((a, g) => a + g.count, 0)).toBe(2);
    expect(sz.unsized).toBe(sz.notSized.length);
    expect(sz.bytes === null).toBe(sz.unsized > 0);
    expect((await t.ok('plan.compute', { ...choices, network: 'cilium' })).counts).toEqual({
      files: 1,
      images: 0,
      total: 1,
    });
    expect(await t.call('plan.compute', { ...choices, kubeVersion: '1.20.0' })).toMatchObject({
      ok: false,
      error: { code: 'CONFIG' },
    });
  });

  it(
    'a release that is neither cached nor reachable fails its plan job with a network error, not a hang',
    { timeout: 60_000 },
    async () => {
      t = testBackend();
      // A mirror on a closed loopback port: nothing leaves the machine.
      const s = net.createServer();
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      const port = (s.address() as net.AddressInfo).port;
      await new Promise<void>((r) => s.close(() => r()));
      await t.ok('settings.set', {
        mirrors: [{ upstream: 'https://github.com', mirror: `http://127.0.0.1:${port}/github` }],
      });
      const { jobId } = await t.ok('plan.prepare', { kubespray: { source: 'release', version: 'v2.31.0' } });
      const snap = await t.waitJob(jobId);
      expect(snap).toMatchObject({ state: 'failed', error: { code: 'NETWORK' } });
    },
  );
});
