import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isValidElement, type ReactElement, type ReactNode } from 'react';
import {
  CheckSet,
  ClusterStep,
  PlanView,
  RpmFileFields,
  parseExtraFiles,
} from '../../../src-renderer/src/views/connected/ClusterStep.js';
import { ClusterChoicesSchema, type ErrorValueT } from '../../../src-main/ipc/contract.js';
import { byLabel, text } from '../../helpers/markup.js';
import { setState, resetApp } from './state.js';
import { DEFAULT_CHOICES, useApp } from '../../../src-renderer/src/store.js';

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

  it('cluster: an RPM OS offers the client certificate, key, CA and a repository key per RPM OS', () => {
    setState({ choices: { ...DEFAULT_CHOICES, os: ['debian-12'] } });
    expect(renderToStaticMarkup(<ClusterStep />)).not.toContain('Choose the Client certificate');
    setState({
      choices: {
        ...DEFAULT_CHOICES,
        os: ['debian-12', 'rocky-9', 'rhel-10'],
        rpmClientCert: 'certtoken1',
        rpmKeys: { 'rocky-9': 'keytoken01' },
      },
      labels: { certtoken1: '/etc/pki/entitlement/123.pem', keytoken01: '/srv/keys/RPM-GPG-KEY-mirror' },
    });
    const html = renderToStaticMarkup(<ClusterStep />);
    expect(text(byLabel(html, 'Choose the Client certificate'))).toBe('/etc/pki/entitlement/123.pem');
    expect(text(byLabel(html, 'Choose the Client key'))).toBe('Choose a file…');
    expect(text(byLabel(html, 'Choose the CA certificate'))).toBe('Choose a file…');
    expect(text(byLabel(html, 'Choose the rocky-9 repository key'))).toBe('/srv/keys/RPM-GPG-KEY-mirror');
    expect(text(byLabel(html, 'Choose the rhel-10 repository key'))).toBe('Choose a file…');
    // Only ticked RPM OSes get a key, and Debian's keyrings are not these.
    expect(html).not.toContain('debian-12 repository key');
    expect(html).not.toContain('alma-9 repository key');
    expect(html).toContain('Clear the Client certificate');
    expect(html).not.toContain('Clear the Client key');
    // A certificate without its key is said at once, not first at download time.
    expect(html).toContain('needs its key');
  });

  describe('picking the RPM files', () => {
    const asked: unknown[] = [];
    let answer: (purpose: string) => unknown;
    beforeEach(() => {
      asked.length = 0;
      (globalThis as { window?: unknown }).window = {
        ferry: {
          invoke: async (channel: string, req: { purpose: string }) => {
            asked.push([channel, req]);
            return answer(req.purpose);
          },
          onEvent: () => () => undefined,
        },
      };
      // The store persists the choices to sessionStorage, as in a page.
      const kept = new Map<string, string>();
      (globalThis as { sessionStorage?: unknown }).sessionStorage = {
        getItem: (k: string) => kept.get(k) ?? null,
        setItem: (k: string, v: string) => kept.set(k, v),
        removeItem: (k: string) => kept.delete(k),
      };
    });
    afterEach(() => {
      delete (globalThis as { window?: unknown }).window;
      delete (globalThis as { sessionStorage?: unknown }).sessionStorage;
    });

    /** The button whose aria-label is `label`, found in the rendered element tree. */
    const button = (tree: ReactNode, label: string): { onClick(): void } | undefined => {
      if (Array.isArray(tree)) {
        for (const c of tree) {
          const b = button(c, label);
          if (b) return b;
        }
        return undefined;
      }
      if (!isValidElement(tree)) return undefined;
      const props = tree.props as { 'aria-label'?: string; onClick?(): void; children?: ReactNode };
      if (props['aria-label'] === label && props.onClick) return { onClick: props.onClick };
      return button(props.children, label);
    };
    const fields = (errors: ErrorValueT[] = []) =>
      RpmFileFields({
        choices: useApp.getState().choices,
        labels: useApp.getState().labels,
        onError: (e) => errors.push(e),
      });
    const click = async (label: string, errors?: ErrorValueT[]) => {
      const b = button(fields(errors), label);
      if (!b) throw new Error(`no button '${label}'`);
      b.onClick();
      // The handler awaits the dialog's answer; let it land.
      await new Promise((r) => setTimeout(r, 0));
    };

    it('each pick asks main for its purpose, and its token lands in the choices the plan is sent', async () => {
      setState({ choices: { ...DEFAULT_CHOICES, os: ['rhel-9', 'alma-9'] } });
      const tokens: Record<string, string> = {
        rpmClientCert: 'tok-cert-0001',
        rpmClientKey: 'tok-ckey-0001',
        rpmCa: 'tok-ca-00001',
        rpmKey: 'tok-rpmkey-01',
      };
      answer = (p) => ({ ok: true, value: { token: tokens[p], label: `/picked/${p}`, kind: 'file' } });
      await click('Choose the Client certificate');
      await click('Choose the Client key');
      await click('Choose the CA certificate');
      await click('Choose the alma-9 repository key');
      expect(asked).toEqual(
        ['rpmClientCert', 'rpmClientKey', 'rpmCa', 'rpmKey'].map((p) => ['dialog.pickFile', { purpose: p }]),
      );
      const c = useApp.getState().choices;
      expect(c).toMatchObject({
        rpmClientCert: 'tok-cert-0001',
        rpmClientKey: 'tok-ckey-0001',
        rpmCa: 'tok-ca-00001',
        rpmKeys: { 'alma-9': 'tok-rpmkey-01' },
      });
      expect(c.rpmKeys?.['rhel-9']).toBeUndefined();
      // What the renderer sends is what the contract takes.
      expect(ClusterChoicesSchema.parse(c)).toEqual(c);
      expect(useApp.getState().labels['tok-ca-00001']).toBe('/picked/rpmCa');

      await click('Clear the CA certificate');
      await click('Clear the alma-9 repository key');
      const after = useApp.getState().choices;
      expect('rpmCa' in after).toBe(false);
      expect(after.rpmKeys).toEqual({});
      expect(after.rpmClientCert).toBe('tok-cert-0001');
    });

    it('a cancelled dialog changes nothing; a failed one is reported, not thrown', async () => {
      setState({ choices: { ...DEFAULT_CHOICES, os: ['rocky-10'] } });
      answer = () => ({ ok: true, value: null });
      await click('Choose the rocky-10 repository key');
      expect(useApp.getState().choices).toEqual({ ...DEFAULT_CHOICES, os: ['rocky-10'] });
      const errors: ErrorValueT[] = [];
      answer = () => ({ ok: false, error: { code: 'INTERNAL', message: 'dialog broke' } });
      await click('Choose the Client key', errors);
      expect(errors).toEqual([{ code: 'INTERNAL', message: 'dialog broke' }]);
      expect(useApp.getState().choices.rpmClientKey).toBeUndefined();
    });
  });
});
