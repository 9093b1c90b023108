import { renderToStaticMarkup } from 'react-dom/server';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ReactElement } from 'react';
import { KeyList, ProxyFields, SettingsView } from '../../../src-renderer/src/views/Settings.js';
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

  it('settings: the proxy fields show each setting, and an emptied one becomes no setting', () => {
    const proxy = { https: 'http://proxy.example:3128', noProxy: '.internal' };
    const html = renderToStaticMarkup(<ProxyFields proxy={proxy} onChange={() => undefined} />);
    expect(html).toContain(
      'aria-label="HTTPS proxy" placeholder="http://proxy.example:3128" value="http://proxy.example:3128"',
    );
    expect(html).toContain('aria-label="HTTP proxy" value=""');
    expect(html).toContain('aria-label="No proxy" placeholder="localhost,.internal" value=".internal"');
    const got: unknown[] = [];
    const fields = (
      ProxyFields({ proxy, onChange: (p) => got.push(p) }).props as { children: ReactElement[] }
    ).children;
    const input = (f: ReactElement) => (f.props as { children: ReactElement[] }).children[1];
    const type = (f: ReactElement, value: string) =>
      (input(f).props as { onChange(e: { target: { value: string } }): void }).onChange({
        target: { value },
      });
    type(fields[0], '');
    type(fields[1], 'http://other:8080');
    expect(got).toEqual([
      { https: undefined, noProxy: '.internal' },
      { https: 'http://proxy.example:3128', http: 'http://other:8080', noProxy: '.internal' },
    ]);
  });
});
