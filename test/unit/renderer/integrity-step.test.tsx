import { renderToStaticMarkup } from 'react-dom/server';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  IntegrityStep,
  partsFrom,
  tilesFrom,
} from '../../../src-renderer/src/views/offline/IntegrityStep.js';
import { setState, progress, job, bundle, archive, importItems, resetApp } from './state.js';

/**
 * Each step really rendered (react-dom/server) from a given store state: what a technician sees
 * for that state. Interaction is covered by the e2e walk in Chromium. (Split from steps.test.tsx,
 * one file per view; the shared store states are in state.ts.)
 */

beforeEach(resetApp);

describe('offline side', () => {
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
});
