import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { BundleSummary } from '../../../src-main/ipc/contract.js';
import { BundleCard, CarriedFerry } from '../../../src-renderer/src/views/offline/MediaStep.js';
import { byLabel, text } from '../../helpers/markup.js';

/**
 * The offline media step tells the technician whether the bundle carries Ferry itself, for which
 * platforms, and how to run it on a deploy host that does not have the app.
 */
const bundle: BundleSummary = {
  token: 'tok_abcdefghijklmnop',
  label: '/media/usb/ferry',
  format: 'folder',
  id: 'b-1',
  kubesprayVersion: 'v2.31.0',
  kubeVersion: '1.35.4',
  arches: ['amd64', 'arm64'],
  createdAt: '2026-11-26T10:00:00.000Z',
  bytes: 4_200_000_000,
  counts: { files: 40, images: 60, artifacts: 103 },
  signature: { status: 'trusted', fingerprint: 'KVX1-1V8A-H7A7-RZZV', signer: 'connected laptop' },
  tools: [
    { platform: 'linux-x64', version: '0.1.0', path: 'tools/ferry-linux-x64' },
    { platform: 'linux-arm64', version: '0.1.0', path: 'tools/ferry-linux-arm64' },
  ],
};

describe('the media step on Ferry carried in the bundle', () => {
  it('names the platforms and the commands that run Ferry from the bundle folder', () => {
    const html = renderToStaticMarkup(<CarriedFerry b={bundle} />);
    const note = text(byLabel(html, 'Ferry on the deploy host'));
    expect(note).toContain('This bundle carries Ferry 0.1.0 for linux-x64, linux-arm64');
    expect(note).toContain('tools/ferry-linux-x64, tools/ferry-linux-arm64');
    expect(note).toContain('no Node.js');
    expect(note).toMatch(/aarch64 is linux-arm64/);
    const cmds = text(byLabel(html, 'Run Ferry from the bundle')).split('\n');
    expect(cmds).toContain('./tools/ferry-linux-x64 verify .');
    expect(cmds.some((c) => c.startsWith('./tools/ferry-linux-x64 serve --bundle .'))).toBe(true);
    expect(
      cmds.some((c) => c.startsWith('./tools/ferry-linux-x64 deploy --bundle . --vars offline.yml')),
    ).toBe(true);
  });

  it('for an archive export, says how to unpack the executables from the parts', () => {
    const html = renderToStaticMarkup(<CarriedFerry b={{ ...bundle, format: 'archive', parts: 3 }} />);
    const cmds = text(byLabel(html, 'Run Ferry from the bundle'));
    expect(cmds).toContain('cat bundle.tar.* | tar -x tools/ferry-linux-x64 tools/ferry-linux-arm64');
    expect(cmds).toContain('./tools/ferry-linux-x64 import .');
  });

  it('says so when the bundle does not carry Ferry, and how to make it', () => {
    const html = renderToStaticMarkup(<CarriedFerry b={{ ...bundle, tools: [] }} />);
    const note = text(byLabel(html, 'Ferry on the deploy host'));
    expect(note).toContain('This bundle does not carry Ferry itself');
    expect(note).toContain('npm run build:cli');
    expect(html).not.toContain('Run Ferry from the bundle');
  });

  it('the bundle card says which platforms it carries Ferry for', () => {
    const card = renderToStaticMarkup(<BundleCard b={bundle} chosen={false} onChoose={() => undefined} />);
    expect(card).toContain('Carries Ferry 0.1.0 for linux-x64, linux-arm64');
    const none = renderToStaticMarkup(
      <BundleCard b={{ ...bundle, tools: undefined }} chosen={false} onChoose={() => undefined} />,
    );
    expect(none).toContain('Does not carry Ferry itself');
  });
});
