import { renderToStaticMarkup } from 'react-dom/server';
import { beforeEach, describe, expect, it } from 'vitest';
import { DriveList, DriveStep, ExportResult } from '../../../src-renderer/src/views/connected/DriveStep.js';
import { resetApp } from './state.js';

/**
 * Each step really rendered (react-dom/server) from a given store state: what a technician sees
 * for that state. Interaction is covered by the e2e walk in Chromium. (Split from steps.test.tsx,
 * one file per view; the shared store states are in state.ts.)
 */

beforeEach(resetApp);

describe('connected side', () => {
  it('drive: lists drives with free space and FAT32 warnings; the result shows the fingerprint big', () => {
    const html = renderToStaticMarkup(
      <DriveList
        drives={[
          {
            id: 'd',
            label: 'STICK',
            mount: '/media/stick',
            fsType: 'vfat',
            size: 16e9,
            free: 15e9,
            removable: true,
            warnings: ['FAT32: files over 4 GiB are split'],
          },
        ]}
        onSelect={() => undefined}
      />,
    );
    expect(html).toContain('STICK');
    expect(html).toContain('14.0 GiB free of 14.9 GiB');
    expect(html).toContain('FAT32');
    const r = renderToStaticMarkup(
      <ExportResult
        result={{
          fingerprint: 'KVX1-1V8A-H7A7-RZZV',
          signature: 're-signed',
          bundleId: 'b',
          files: 40,
          bytesWritten: 4e9,
          bytesReused: 0,
          seconds: 30,
          label: '/media/stick/ferry',
        }}
      />,
    );
    expect(r).toContain('aria-label="Bundle fingerprint"');
    expect(r).toContain('KVX1-1V8A-H7A7-RZZV');
    expect(renderToStaticMarkup(<DriveStep />)).toContain('Choose a folder…');
  });
});
