import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../../helpers/tools.js';

/** The packaging configuration as a specification: what ships, for which systems, locked how. */
const config = parse(fs.readFileSync(path.join(repoRoot, 'build', 'electron-builder.yml'), 'utf8'));

function pngSize(file: string): { width: number; height: number } {
  const b = fs.readFileSync(file);
  expect(b.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

describe('electron-builder configuration', () => {
  it('builds AppImage and deb for Linux, NSIS and portable for Windows, dmg for macOS, under one app id', () => {
    expect(config.appId).toMatch(/^[a-z0-9.-]+$/);
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis', 'portable']);
    expect(config.mac.target).toEqual(['dmg']);
  });

  it('sets the Electron fuses that close the known ways around the sandbox', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
      grantFileProtocolExtraPrivileges: false,
    });
    expect(config.asar).toBe(true);
  });

  it('ships only the built bundles', () => {
    expect(config.files).toContain('out/**');
    expect(config.files.some((f: string) => /src-|test/.test(f) && !f.startsWith('!'))).toBe(false);
  });

  it('has icons large enough for every platform (1024 px source, Linux set)', () => {
    expect(pngSize(path.join(repoRoot, config.win.icon))).toEqual({ width: 1024, height: 1024 });
    expect(pngSize(path.join(repoRoot, config.mac.icon)).width).toBeGreaterThanOrEqual(512);
    for (const s of [16, 32, 48, 64, 128, 256, 512]) {
      expect(pngSize(path.join(repoRoot, config.linux.icon, `${s}x${s}.png`))).toEqual({
        width: s,
        height: s,
      });
    }
  });

  it('points package.json main at the built main process', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.main).toBe('out/main/index.js');
  });
});
