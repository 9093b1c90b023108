import type { ReactElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ChoiceField } from '../../../src-renderer/src/components/step-controls.js';

/**
 * ChoiceField replaced three hand-written selects whose handlers cast the event's string to the
 * choice type. What it must keep: the label as the select's name (the e2e walk finds 'Network
 * plugin' by it), every option, and a value handed back only when it is one of the options.
 */

const RUNTIMES = ['containerd', 'crio', 'docker'] as const;

function changeTo(el: ReactElement, value: string): void {
  const [, select] = (el.props as { children: ReactElement[] }).children;
  (select.props as { onChange(e: { target: { value: string } }): void }).onChange({ target: { value } });
}

describe('ChoiceField', () => {
  it('names the select by its label and lists every option, the current one selected', () => {
    const html = renderToStaticMarkup(
      <ChoiceField label="Container runtime" value="crio" options={RUNTIMES} onChange={() => undefined} />,
    );
    expect(html).toContain('aria-label="Container runtime"');
    expect(html.match(/<option/g)).toHaveLength(3);
    expect(html).toContain('<option selected="">crio</option>');
  });

  it('hands back the option picked, and the current value for anything not in the list', () => {
    const got: string[] = [];
    const el = ChoiceField({
      label: 'Runtime',
      value: 'containerd',
      options: RUNTIMES,
      onChange: (v) => got.push(v),
    });
    changeTo(el, 'docker');
    changeTo(el, 'podman');
    expect(got).toEqual(['docker', 'containerd']);
  });
});
