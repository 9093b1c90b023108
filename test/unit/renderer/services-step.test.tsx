import { renderToStaticMarkup } from 'react-dom/server';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ServeStatusView,
  ServicesStep,
  serveChoices,
} from '../../../src-renderer/src/views/offline/ServicesStep.js';
import { setState, job, bundle, archive, resetApp } from './state.js';

/**
 * Each step really rendered (react-dom/server) from a given store state: what a technician sees
 * for that state. Interaction is covered by the e2e walk in Chromium. (Split from steps.test.tsx,
 * one file per view; the shared store states are in state.ts.)
 */

beforeEach(resetApp);

describe('offline side', () => {
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
});
