import { renderToStaticMarkup } from 'react-dom/server';
import { beforeEach, describe, expect, it } from 'vitest';
import { KeyList, SettingsView } from '../../../src-renderer/src/views/Settings.js';
import { resetApp } from './state.js';

/**
 * Each step really rendered (react-dom/server) from a given store state: what a technician sees
 * for that state. Interaction is covered by the e2e walk in Chromium. (Split from steps.test.tsx,
 * one file per view; the shared store states are in state.ts.)
 */

beforeEach(resetApp);

describe('offline side', () => {
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
