import type { BundleSummary, JobSnapshot } from '../../../src-main/ipc/contract.js';
import { DEFAULT_CHOICES, useApp } from '../../../src-renderer/src/store.js';

/**
 * The store states the view tests render from (one test file per view, each rendering with
 * react-dom/server what a technician sees for a state; interaction is the e2e walk in Chromium).
 */

/**
 * Server rendering reads a zustand store through its initial-state snapshot (the store's
 * getServerSnapshot), so the state a test sets is copied there as well as into the live state.
 */
export function setState(patch: Partial<ReturnType<typeof useApp.getState>>): void {
  useApp.setState(patch);
  Object.assign(useApp.getInitialState(), useApp.getState());
}

export const progress = (p: Partial<JobSnapshot['progress']> = {}): JobSnapshot['progress'] => ({
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

export function job(kind: JobSnapshot['kind'], over: Partial<JobSnapshot> = {}) {
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

export const bundle: BundleSummary = {
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

/** The store as a fresh app starts, before each test (every view file's `beforeEach`). */
export function resetApp(): void {
  setState({
    info: { version: '0.1.0', platform: 'linux', modules: {} },
    section: 'connected',
    connectedStep: 0,
    offlineStep: 0,
    jobs: {},
    latest: {},
    choices: DEFAULT_CHOICES,
    labels: {},
    plan: { status: 'idle' },
    bundle: null,
    selectedTile: null,
  });
}

/** The same bundle as a split archive on the media. */
export const archive: BundleSummary = {
  ...bundle,
  format: 'archive',
  parts: 3,
  label: '/media/usb/ferry-archive',
};
/** What an archive's import emits: the signature, parts, then the artifacts filling in. */
export const importItems = [
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
