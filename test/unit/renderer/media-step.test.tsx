import { renderToStaticMarkup } from 'react-dom/server';
import { beforeEach, describe, expect, it } from 'vitest';
import { BundleCard, MediaStep } from '../../../src-renderer/src/views/offline/MediaStep.js';
import { bundle, resetApp } from './state.js';

/**
 * Each step really rendered (react-dom/server) from a given store state: what a technician sees
 * for that state. Interaction is covered by the e2e walk in Chromium. (Split from steps.test.tsx,
 * one file per view; the shared store states are in state.ts.)
 */

beforeEach(resetApp);

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
});
