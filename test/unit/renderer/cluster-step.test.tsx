import { renderToStaticMarkup } from 'react-dom/server';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ReactElement } from 'react';
import {
  CheckSet,
  ClusterStep,
  PlanView,
  parseExtraFiles,
} from '../../../src-renderer/src/views/connected/ClusterStep.js';
import { byLabel, text } from '../../helpers/markup.js';
import { setState, resetApp } from './state.js';
import { DEFAULT_CHOICES } from '../../../src-renderer/src/store.js';

/**
 * Each step really rendered (react-dom/server) from a given store state: what a technician sees
 * for that state. Interaction is covered by the e2e walk in Chromium. (Split from steps.test.tsx,
 * one file per view; the shared store states are in state.ts.)
 */

beforeEach(resetApp);

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

  it('cluster: the nodes’ OSes are a choice, checked as the choices say', () => {
    setState({ choices: { ...DEFAULT_CHOICES, os: ['ubuntu-24.04'] } });
    const html = renderToStaticMarkup(<ClusterStep />);
    expect(html).toContain('Node OS packages');
    for (const o of ['debian-12', 'debian-13', 'ubuntu-22.04', 'ubuntu-24.04', 'rocky-9', 'alma-10'])
      expect(html).toContain(o);
    const box = (o: string) =>
      new RegExp(`<input type="checkbox"( checked="")?/>${o.replace('.', '\\.')}`).exec(html)?.[1];
    expect(box('ubuntu-24.04')).toBe(' checked=""');
    expect(box('debian-12')).toBeUndefined();
    expect(box('rocky-9')).toBeUndefined();
  });

  it('cluster: the RPM OSes can be ticked beside the Debian ones', () => {
    setState({ choices: { ...DEFAULT_CHOICES, os: ['debian-12', 'alma-9'] } });
    const html = renderToStaticMarkup(<ClusterStep />);
    const box = (o: string) =>
      new RegExp(`<input type="checkbox"( checked="")?/>${o.replace('.', '\\.')}`).exec(html)?.[1];
    expect(box('alma-9')).toBe(' checked=""');
    expect(box('rocky-10')).toBeUndefined();
    // Rocky and Alma have public mirrors: no URL is asked.
    expect(html).not.toContain('repository base URL');
  });

  it('cluster: a ticked RHEL asks for its repository base URL', () => {
    setState({
      choices: { ...DEFAULT_CHOICES, os: ['rhel-9'], rpmRepos: { 'rhel-9': 'https://sat.example/rhel9' } },
    });
    const html = renderToStaticMarkup(<ClusterStep />);
    expect(html).toMatch(/aria-label="rhel-9 repository base URL"[^>]*value="https:\/\/sat\.example\/rhel9"/);
    expect(html).not.toContain('rhel-10 repository base URL');
  });

  it('cluster: extra files need a URL and a SHA-256', () => {
    const sum = 'a'.repeat(64);
    expect(parseExtraFiles(`https://x.example/a.tgz ${sum}\nhttps://x.example/b.tgz\n`)).toEqual({
      files: [{ url: 'https://x.example/a.tgz', sha256: sum }],
      bad: ['https://x.example/b.tgz'],
    });
  });

  it('cluster: a set of checkboxes toggles its options, and an architecture set keeps its last one', () => {
    const click = (boxes: ReactElement[], i: number) => {
      const input = (boxes[i].props as { children: ReactElement[] }).children[0];
      (input.props as { onChange(): void }).onChange();
    };
    const got: string[][] = [];
    const arches = ['amd64', 'arm64'] as const;
    const set = (chosen: Array<(typeof arches)[number]>, atLeastOne: boolean) =>
      CheckSet({ options: arches, chosen, atLeastOne, onChange: (n) => got.push(n) }) as ReactElement[];
    click(set(['amd64'], false), 1);
    click(set(['amd64', 'arm64'], true), 0);
    click(set(['amd64'], true), 0);
    click(set(['amd64'], false), 0);
    expect(got).toEqual([['amd64', 'arm64'], ['arm64'], []]);
  });
});
