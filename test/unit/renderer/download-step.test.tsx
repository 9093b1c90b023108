import { renderToStaticMarkup } from 'react-dom/server';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DownloadStep,
  fetchItems,
  roomFromItems,
} from '../../../src-renderer/src/views/connected/DownloadStep.js';
import { buttons } from '../../helpers/markup.js';
import { job, resetApp } from './state.js';

/**
 * Each step really rendered (react-dom/server) from a given store state: what a technician sees
 * for that state. Interaction is covered by the e2e walk in Chromium. (Split from steps.test.tsx,
 * one file per view; the shared store states are in state.ts.)
 */

beforeEach(resetApp);

describe('connected side', () => {
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
});
