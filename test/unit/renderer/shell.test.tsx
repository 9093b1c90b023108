import { renderToStaticMarkup } from 'react-dom/server';
import { beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../../src-renderer/src/App.js';
import { setState, resetApp } from './state.js';

/**
 * Each step really rendered (react-dom/server) from a given store state: what a technician sees
 * for that state. Interaction is covered by the e2e walk in Chromium. (Split from steps.test.tsx,
 * one file per view; the shared store states are in state.ts.)
 */

beforeEach(resetApp);

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
