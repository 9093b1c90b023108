import { renderToStaticMarkup } from 'react-dom/server';
import { beforeEach, describe, expect, it } from 'vitest';
import type { BundleSummary, JobSnapshot } from '../../../src-main/ipc/contract.js';
import { App } from '../../../src-renderer/src/App.js';
import { applyJobEvent } from '../../../src-renderer/src/jobs.js';
import { DEFAULT_CHOICES, useApp } from '../../../src-renderer/src/store.js';
import {
  ClusterStep,
  PlanView,
  parseExtraFiles,
} from '../../../src-renderer/src/views/connected/ClusterStep.js';
import {
  DownloadStep,
  fetchItems,
  roomFromItems,
} from '../../../src-renderer/src/views/connected/DownloadStep.js';
import { DriveList, DriveStep, ExportResult } from '../../../src-renderer/src/views/connected/DriveStep.js';
import {
  IntegrityStep,
  partsFrom,
  tilesFrom,
} from '../../../src-renderer/src/views/offline/IntegrityStep.js';
import { BundleCard, MediaStep } from '../../../src-renderer/src/views/offline/MediaStep.js';
import {
  ServeStatusView,
  ServicesStep,
  serveChoices,
} from '../../../src-renderer/src/views/offline/ServicesStep.js';
import { KeyList, SettingsView } from '../../../src-renderer/src/views/Settings.js';
import { buttons, byLabel, text } from '../../helpers/markup.js';

/**
 * Each step really rendered (react-dom/server) from a given store state: what a technician sees
 * for that state. Interaction is covered by the e2e walk in Chromium.
 */

/**
 * Server rendering reads a zustand store through its initial-state snapshot (the store's
 * getServerSnapshot), so the state a test sets is copied there as well as into the live state.
 */
function setState(patch: Partial<ReturnType<typeof useApp.getState>>): void {
  useApp.setState(patch);
  Object.assign(useApp.getInitialState(), useApp.getState());
}

const progress = (p: Partial<JobSnapshot['progress']> = {}): JobSnapshot['progress'] => ({
  phase: 'downloading',
  bytesDone: 5_000_000,
  bytesTotal: 10_000_000,
  itemsDone: 3,
  itemsTotal: 6,
  itemsFailed: 1,
  speed: 2_500_000,
  eta: 2,
  ...p,
});

function job(kind: JobSnapshot['kind'], over: Partial<JobSnapshot> = {}) {
  const id = `${kind}-1`;
  const view = {
    id,
    kind,
    state: 'running' as const,
    seq: 5,
    progress: progress(),
    items: [],
    log: [],
    ...over,
  };
  setState({ jobs: { [id]: view }, latest: { [kind]: id } });
  return view;
}

const bundle: BundleSummary = {
  token: 'tok_abcdefghijklmnop',
  label: '/media/usb/ferry',
  format: 'folder',
  id: 'b-1',
  kubesprayVersion: 'v2.31.0',
  kubeVersion: '1.35.4',
  arches: ['amd64', 'arm64'],
  createdAt: '2026-11-26T10:00:00.000Z',
  bytes: 4_200_000_000,
  counts: { files: 40, images: 60, artifacts: 101 },
  signature: { status: 'trusted', fingerprint: 'KVX1-1V8A-H7A7-RZZV', signer: 'connected laptop' },
};

beforeEach(() => {
  setState({
    info: { version: '0.1.0', platform: 'linux', modules: {} },
    section: 'connected',
    connectedStep: 0,
    offlineStep: 0,
    jobs: {},
    latest: {},
    choices: DEFAULT_CHOICES,
    plan: { status: 'idle' },
    bundle: null,
    selectedTile: null,
  });
});

describe('the shell of the UI', () => {
  it('shows three big numbered steps with the current one marked for screen readers', () => {
    setState({ connectedStep: 1 });
    const html = renderToStaticMarkup(<App />);
    expect(html).toContain('aria-label="Connected steps"');
    expect(html.match(/aria-current="step"/g)).toHaveLength(1);
    expect(html).toMatch(/aria-current="step"[^>]*>.*Download/);
    expect(html).toContain('role="tablist"');
    expect(html).toContain('aria-selected="true"');
  });
});

describe('connected side', () => {
  it('cluster: the plan panel shows counts and what takes the room, largest group first', () => {
    setState({
      plan: {
        status: 'ready',
        value: {
          kubesprayVersion: 'v2.31.0',
          kubeVersion: '1.35.4',
          arches: ['amd64'],
          counts: { files: 12, images: 30, total: 42 },
          bytes: null,
          groups: [
            { name: 'kubeadm', kind: 'file', count: 1, bytes: null },
            { name: 'calico', kind: 'image', count: 6, bytes: null },
          ],
          warnings: ['1 file(s) have no published checksum: x'],
        },
      },
    });
    const html = renderToStaticMarkup(<ClusterStep />);
    expect(text(byLabel(html, 'files'))).toBe('12');
    expect(text(byLabel(html, 'images'))).toBe('30');
    expect(html.indexOf('calico')).toBeLessThan(html.indexOf('kubeadm</span>'));
    expect(html).toContain('6 images');
    expect(html).toContain('no published checksum');
    expect(html).toContain('aria-label="Kubespray version"');
    expect(html).toContain('aria-label="Kubernetes version"');
  });

  it('cluster: sizes, when known, weigh the room picture', () => {
    const html = renderToStaticMarkup(
      <PlanView
        plan={{
          kubesprayVersion: 'v2.31.0',
          kubeVersion: '1.35.4',
          arches: ['amd64'],
          counts: { files: 1, images: 1, total: 2 },
          bytes: 3_000_000,
          groups: [
            { name: 'kubelet', kind: 'file', count: 1, bytes: 1_000_000 },
            { name: 'calico', kind: 'image', count: 1, bytes: 2_000_000 },
          ],
          warnings: [],
        }}
      />,
    );
    expect(html).toContain('2.9 MiB');
    expect(html).toContain('to download');
    expect(html.indexOf('calico')).toBeLessThan(html.indexOf('kubelet'));
  });

  it('cluster: extra files need a URL and a SHA-256', () => {
    const sum = 'a'.repeat(64);
    expect(parseExtraFiles(`https://x.example/a.tgz ${sum}\nhttps://x.example/b.tgz\n`)).toEqual({
      files: [{ url: 'https://x.example/a.tgz', sha256: sum }],
      bad: ['https://x.example/b.tgz'],
    });
  });

  it('download: overall progress with speed and ETA, what is downloading now, failures with reasons, and pause/cancel while running', () => {
    job('fetch', {
      items: [
        { id: 'file:a', kind: 'file', name: 'kubeadm', status: 'started' },
        { id: 'file:a', kind: 'file', name: 'kubeadm', status: 'done', bytes: 1000 },
        { id: 'image:b', kind: 'image', name: 'quay.io/calico/node:v3', status: 'started' },
        {
          id: 'file:c',
          kind: 'file',
          name: 'calicoctl',
          status: 'failed',
          error: { code: 'CHECKSUM', message: 'sha256 mismatch', hint: 'Check the mirror.' },
        },
      ],
    });
    const html = renderToStaticMarkup(<DownloadStep />);
    expect(html).toContain('50.0 %');
    expect(html).toContain('2.4 MiB/s');
    expect(html).toContain('2 s');
    expect(buttons(html, 'Pause')).toHaveLength(1);
    expect(buttons(html, 'Cancel')).toHaveLength(1);
    expect(html).toContain('Downloading now (1)');
    expect(html).toContain('sha256 mismatch');
    expect(html).toContain('Check the mirror.');
    expect(html).toContain('aria-valuenow="50"');
  });

  it('download: every in-flight artifact has its own byte bar once its size is known', () => {
    job('fetch', {
      items: [
        { id: 'file:k', kind: 'file', name: 'kubelet', status: 'started' },
        { id: 'image:c', kind: 'image', name: 'quay.io/calico/node:v3', status: 'started' },
        // Repeated 'started' items carry the bytes on disk and the total: the latest wins.
        {
          id: 'file:k',
          kind: 'file',
          name: 'kubelet',
          status: 'started',
          bytes: 1_000_000,
          total: 4_000_000,
        },
        {
          id: 'file:k',
          kind: 'file',
          name: 'kubelet',
          status: 'started',
          bytes: 3_000_000,
          total: 4_000_000,
        },
        { id: 'image:c', kind: 'image', name: 'quay.io/calico/node:v3', status: 'started', bytes: 500_000 },
        { id: 'file:d', kind: 'file', name: 'kubectl', status: 'started' },
        { id: 'file:d', kind: 'file', name: 'kubectl', status: 'done', bytes: 9 },
      ],
    });
    const html = renderToStaticMarkup(<DownloadStep />);
    expect(html).toContain('Downloading now (2)');
    expect(html).toMatch(/aria-label="kubelet progress"[^>]*aria-valuenow="75"/);
    expect(html).toContain('2.9 MiB of 3.8 MiB');
    // No total yet: the bytes so far, and no bar that pretends to know the share.
    expect(html).not.toContain('quay.io/calico/node:v3 progress');
    expect(html).toContain('488 KiB');
    expect(html).not.toContain('kubectl progress');
  });

  it('download: a finished download with failures offers to retry them', () => {
    job('fetch', {
      state: 'done',
      items: [
        { id: 'f', kind: 'file', name: 'x', status: 'failed', error: { code: 'HTTP', message: '404' } },
      ],
    });
    const html = renderToStaticMarkup(<DownloadStep />);
    expect(html).toContain('Retry 1 failed');
    expect(html).toContain('Complete');
    expect(
      fetchItems([
        { id: 'a', status: 'failed' },
        { id: 'a', status: 'done' },
      ]).map((i) => i.status),
    ).toEqual(['done']);
  });

  it('download: once done, shows what took the room by component, with real sizes', () => {
    const items = [
      {
        id: 'f1',
        kind: 'file',
        name: 'kubelet (amd64) https://dl.k8s.io/v1/kubelet',
        status: 'done',
        bytes: 60e6,
      },
      {
        id: 'f2',
        kind: 'file',
        name: 'kubelet (arm64) https://dl.k8s.io/v1/arm64/kubelet',
        status: 'done',
        bytes: 58e6,
      },
      { id: 'i1', kind: 'image', name: 'quay.io/calico/node:v3.30.3', status: 'done', bytes: 150e6 },
      { id: 'i2', kind: 'image', name: 'registry.k8s.io/pause@sha256:abc', status: 'present' },
    ];
    expect(roomFromItems(items as never)).toEqual([
      { name: 'kubelet', kind: 'file', count: 2, bytes: 118e6 },
      { name: 'calico/node', kind: 'image', count: 1, bytes: 150e6 },
    ]);
    job('fetch', { state: 'done', items });
    const html = renderToStaticMarkup(<DownloadStep />);
    expect(html).toContain('What took the room');
    expect(html.indexOf('calico/node')).toBeLessThan(html.indexOf('113 MiB'));
    expect(html).toContain('143 MiB');
  });

  it('drive: lists drives with free space and FAT32 warnings; the result shows the fingerprint big', () => {
    const html = renderToStaticMarkup(
      <DriveList
        drives={[
          {
            id: 'd',
            label: 'STICK',
            mount: '/media/stick',
            fsType: 'vfat',
            size: 16e9,
            free: 15e9,
            removable: true,
            warnings: ['FAT32: files over 4 GiB are split'],
          },
        ]}
        onSelect={() => undefined}
      />,
    );
    expect(html).toContain('STICK');
    expect(html).toContain('14.0 GiB free of 14.9 GiB');
    expect(html).toContain('FAT32');
    const r = renderToStaticMarkup(
      <ExportResult
        result={{
          fingerprint: 'KVX1-1V8A-H7A7-RZZV',
          signature: 're-signed',
          bundleId: 'b',
          files: 40,
          bytesWritten: 4e9,
          bytesReused: 0,
          seconds: 30,
          label: '/media/stick/ferry',
        }}
      />,
    );
    expect(r).toContain('aria-label="Bundle fingerprint"');
    expect(r).toContain('KVX1-1V8A-H7A7-RZZV');
    expect(renderToStaticMarkup(<DriveStep />)).toContain('Choose a folder…');
  });
});

describe('offline side', () => {
  it('media: a bundle card shows versions, architectures, size, creation time and the signature with its fingerprint', () => {
    const html = renderToStaticMarkup(<BundleCard b={bundle} chosen onChoose={() => undefined} />);
    expect(html).toContain('Kubespray v2.31.0 · Kubernetes 1.35.4');
    expect(html).toContain('amd64, arm64');
    expect(html).toContain('3.9 GiB');
    expect(html).toContain('2026-11-26 10:00 UTC');
    expect(html).toContain('Signed · trusted (connected laptop)');
    expect(html).toContain('KVX1-1V8A-H7A7-RZZV');
    expect(
      renderToStaticMarkup(
        <BundleCard
          b={{ ...bundle, signature: { status: 'unknown-key', fingerprint: 'AAAA-BBBB-CCCC-DDDD' } }}
          chosen={false}
          onChoose={() => undefined}
        />,
      ),
    ).toContain('unknown key');
    expect(renderToStaticMarkup(<MediaStep />)).toContain('Choose a bundle folder…');
  });

  it('integrity: one tile per artifact grouped by kind, filling in from waiting to checking to good, damaged or missing', () => {
    const items = [
      {
        type: 'verify.plan',
        artifacts: [
          { id: 'f1', kind: 'file', name: 'kubeadm', bytes: 1 },
          { id: 'f2', kind: 'file', name: 'kubelet', bytes: 1 },
          { id: 'i1', kind: 'image', name: 'calico/node', bytes: 1 },
          { id: 'i2', kind: 'image', name: 'pause', bytes: 1 },
          { id: 'i3', kind: 'image', name: 'coredns', bytes: 1 },
        ],
      },
      { type: 'verify.checking', id: 'f2' },
      {
        type: 'verify.artifact',
        id: 'f1',
        kind: 'file',
        name: 'kubeadm',
        status: 'ok',
        bytes: 1,
        problems: [],
      },
      { type: 'verify.checking', id: 'i1' },
      {
        type: 'verify.artifact',
        id: 'i1',
        kind: 'image',
        name: 'calico/node',
        status: 'damaged',
        bytes: 1,
        hint: 'Copy the bundle again.',
        problems: [
          {
            path: 'images/blobs/sha256/ab',
            status: 'wrong-digest',
            expectedSize: 1,
            expectedSha256: 'e'.repeat(64),
            actualSha256: 'a'.repeat(64),
            actualSize: 1,
          },
        ],
      },
      {
        type: 'verify.artifact',
        id: 'i2',
        kind: 'image',
        name: 'pause',
        status: 'missing',
        bytes: 1,
        problems: [
          {
            path: 'images/blobs/sha256/cd',
            status: 'missing',
            expectedSize: 1,
            expectedSha256: 'c'.repeat(64),
          },
        ],
      },
    ];
    expect(tilesFrom({ items, state: 'running' }).map((t) => t.state)).toEqual([
      'good',
      'checking',
      'damaged',
      'missing',
      'waiting',
    ]);
    setState({ bundle, selectedTile: 'i1' });
    job('verify', { items, progress: progress({ phase: 'verifying' }) });
    const html = renderToStaticMarkup(<IntegrityStep />);
    expect(html).toContain('aria-label="Files"');
    expect(html).toContain('aria-label="Container images"');
    for (const s of ['waiting', 'checking', 'good', 'damaged', 'missing'])
      expect(html).toContain(`data-state="${s}"`);
    expect(html).toContain('aria-label="calico/node: damaged"');
    // The selected damaged tile opens its details: path, expected and actual digests, what to do.
    expect(html).toContain('images/blobs/sha256/ab');
    expect(html).toContain('sha256:' + 'e'.repeat(64));
    expect(html).toContain('sha256:' + 'a'.repeat(64));
    expect(html).toContain('What to do: Copy the bundle again.');
    expect(html).toContain('2.4 MiB/s');
  });

  it('integrity: the summary for the security officer names the bundle, signature and counts', () => {
    setState({ bundle });
    job('verify', {
      state: 'done',
      result: {
        ok: true,
        verified: true,
        bundleId: 'b-1',
        signature: bundle.signature,
        counts: { artifacts: 101, files: 180, ok: 180, missing: 0, wrongSize: 0, wrongDigest: 0, extra: 0 },
        bytes: 4.2e9,
        seconds: 17.5,
        extras: [],
      },
    });
    const html = renderToStaticMarkup(<IntegrityStep />);
    expect(html).toContain('Bundle verified');
    expect(html).toContain('180 of 180 intact');
    expect(html).toContain('3.9 GiB in 17.5 s');
    expect(html).toContain('KVX1-1V8A-H7A7-RZZV');
  });

  it('services: live status with addresses, counters and recent clients', () => {
    const html = renderToStaticMarkup(
      <ServeStatusView
        status={{
          running: true,
          jobId: 'serve-1',
          filesUrl: 'http://10.0.0.5:8080',
          registryUrl: 'http://10.0.0.5:5000',
          requests: 42,
          bytesServed: 3e9,
          recentClients: [{ address: '10.0.0.21', lastSeen: '2026-11-26T11:00:00Z', requests: 40 }],
        }}
      />,
    );
    expect(html).toContain('Serving');
    expect(html).toContain('http://10.0.0.5:8080');
    expect(html).toContain('2.8 GiB');
    expect(html).toContain('10.0.0.21');
    setState({ bundle });
    const step = renderToStaticMarkup(<ServicesStep />);
    expect(step).toContain('aria-label="Listen address"');
    expect(step).toContain('aria-label="Files port"');
    expect(step).toContain('TLS');
  });

  const archive: BundleSummary = {
    ...bundle,
    format: 'archive',
    parts: 3,
    label: '/media/usb/ferry-archive',
  };
  const importItems = [
    { type: 'signature', status: 'trusted', fingerprint: 'KVX1', description: 'trusted' },
    { type: 'part', name: 'bundle.tar.000', state: 'checking' },
    { type: 'part', name: 'bundle.tar.000', state: 'good' },
    { type: 'part', name: 'bundle.tar.001', state: 'damaged', message: 'sha256 differs' },
    { type: 'artifact', id: 'f1', kind: 'file', name: 'kubeadm', state: 'waiting', bytes: 10 },
    { type: 'artifact', id: 'f2', kind: 'file', name: 'kubectl', state: 'waiting', bytes: 10 },
    { type: 'artifact', id: 'i1', kind: 'image', name: 'pause', state: 'waiting', bytes: 10 },
    { type: 'artifact', id: 'f1', kind: 'file', name: 'kubeadm', state: 'checking', bytes: 0 },
    { type: 'artifact', id: 'f1', kind: 'file', name: 'kubeadm', state: 'good', bytes: 0 },
    { type: 'artifact', id: 'f2', kind: 'file', name: 'kubectl', state: 'checking', bytes: 0 },
    {
      type: 'artifact',
      id: 'f2',
      kind: 'file',
      name: 'kubectl',
      state: 'damaged',
      bytes: 0,
      message: 'x: sha256',
    },
  ];

  it('integrity of an archive: import fills the same map, and every part shows its state by name', () => {
    const tiles = tilesFrom({ items: importItems, state: 'running' });
    expect(tiles.map((t) => [t.id, t.state, t.bytes])).toEqual([
      ['f1', 'good', 10],
      ['f2', 'damaged', 10],
      ['i1', 'waiting', 10],
    ]);
    expect(tiles[1].message).toBe('x: sha256');
    expect(partsFrom({ items: importItems })).toEqual([
      { name: 'bundle.tar.000', state: 'good' },
      { name: 'bundle.tar.001', state: 'damaged', message: 'sha256 differs' },
    ]);
    setState({ bundle: archive });
    job('import', { items: importItems });
    const html = renderToStaticMarkup(<IntegrityStep />);
    expect(html).toContain('Import and check every byte');
    expect(html).toContain('Archive in 3 parts');
    expect(html).toContain('aria-label="Archive parts"');
    expect(html).toMatch(/bundle\.tar\.001.*damaged · sha256 differs/);
    expect(html).toContain('aria-label="Integrity map"');
    expect(html).toContain('aria-label="kubectl: damaged"');
  });

  it('integrity of an archive: the import summary, and services only after the import is whole', () => {
    setState({ bundle: archive });
    const result = {
      bundleId: 'b-1',
      status: 'complete',
      signature: bundle.signature,
      artifacts: [{ id: 'f1', name: 'kubeadm', state: 'good' }],
      filesCopied: 7,
      bytesCopied: 2e6,
      filesShared: 1,
      seconds: 1.5,
    };
    job('import', { state: 'done', result });
    const html = renderToStaticMarkup(<IntegrityStep />);
    expect(html).toContain('Bundle imported and verified');
    expect(html).toContain('1 of 1 intact');
    expect(html).toContain('7 files copied (1.9 MiB) · 1 already there');
    expect(html).not.toMatch(/disabled=""[^>]*>Next: services/);
    job('import', { state: 'done', result: { ...result, status: 'incomplete' } });
    expect(renderToStaticMarkup(<IntegrityStep />)).toMatch(/disabled=""[^>]*>Next: services/);
  });

  it('services: serve from the store after an import (the default), from the media folder only once it verified', () => {
    const verified = { state: 'done', result: { ok: true, bundleId: 'b-1' } } as never;
    const imported = { state: 'done', result: { bundleId: 'b-1', status: 'complete' } } as never;
    const otherImport = { state: 'done', result: { bundleId: 'b-2', status: 'complete' } } as never;
    expect(serveChoices(bundle, undefined, undefined, null)).toEqual({
      store: false,
      media: false,
      from: null,
    });
    expect(serveChoices(bundle, verified, undefined, null)).toEqual({
      store: false,
      media: true,
      from: 'media',
    });
    expect(serveChoices(bundle, verified, imported, null)).toEqual({
      store: true,
      media: true,
      from: 'store',
    });
    expect(serveChoices(bundle, verified, imported, 'media').from).toBe('media');
    expect(serveChoices(bundle, verified, otherImport, 'store').from).toBe('media');
    // An archive is never served from the media.
    expect(serveChoices(archive, verified, imported, 'media')).toEqual({
      store: true,
      media: false,
      from: 'store',
    });

    setState({ bundle, jobs: {}, latest: {} });
    job('verify', verified);
    let html = renderToStaticMarkup(<ServicesStep />);
    expect(html).toContain('Serve from');
    expect(html).toMatch(/<input[^>]*disabled=""[^>]*value="store"/);
    expect(html).toMatch(/<input[^>]*checked=""[^>]*value="media"/);
    expect(html).toContain('(import the bundle first)');
    job('import', imported);
    html = renderToStaticMarkup(<ServicesStep />);
    expect(html).toMatch(/<input[^>]*checked=""[^>]*value="store"/);
    expect(html).toContain('Imported into the store');
    expect(
      renderToStaticMarkup(
        <ServeStatusView
          status={{
            running: true,
            from: 'store',
            bundles: 2,
            requests: 0,
            bytesServed: 0,
            recentClients: [],
          }}
        />,
      ),
    ).toContain('from this machine&#x27;s store (2 bundles)');
  });

  it('settings: keys with their fingerprints and roles', () => {
    const html = renderToStaticMarkup(
      <KeyList
        keys={[
          { fingerprint: 'AAAA-BBBB-CCCC-DDDD', name: 'this laptop', publicKeyPem: '', own: true },
          { fingerprint: 'EEEE-FFFF-GGGG-HHHH', name: 'connected side', publicKeyPem: '', own: false },
        ]}
      />,
    );
    expect(html).toContain('this machine&#x27;s signing key');
    expect(html).toContain('EEEE-FFFF-GGGG-HHHH');
    expect(renderToStaticMarkup(<SettingsView />)).toContain('Generate a signing key');
  });
});

describe('job events in the renderer', () => {
  const ev = (seq: number, type = 'progress') =>
    ({ type, jobId: 'j', seq, progress: progress({ bytesDone: seq }) }) as never;

  it('ignores stale and duplicate events, and asks to re-attach after a gap', () => {
    let r = applyJobEvent(undefined, 'fetch', ev(1));
    expect(r).toMatchObject({ gap: false, view: { seq: 1 } });
    r = applyJobEvent(r.view, 'fetch', ev(1));
    expect(r.view.seq).toBe(1);
    r = applyJobEvent(r.view, 'fetch', ev(4));
    expect(r.gap).toBe(true);
    expect(r.view.progress.bytesDone).toBe(4);
    const stale = applyJobEvent(r.view, 'fetch', ev(3));
    expect(stale.view.progress.bytesDone).toBe(4);
  });

  it('ends in the state of the terminal event', () => {
    const a = applyJobEvent(undefined, 'verify', {
      type: 'failed',
      jobId: 'j',
      seq: 1,
      error: { code: 'SIGNATURE', message: 'unsigned' },
    });
    expect(a.view).toMatchObject({ state: 'failed', error: { code: 'SIGNATURE' } });
    const c = applyJobEvent(undefined, 'verify', { type: 'cancelled', jobId: 'j', seq: 1 });
    expect(c.view.state).toBe('cancelled');
  });
});
