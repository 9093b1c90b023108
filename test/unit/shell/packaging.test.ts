import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../../helpers/tools.js';

/**
 * docs/app.md is the promise (which packages, which fuses, asar, no signing set up here);
 * build/electron-builder.yml is what ships. Each side is read from its file, so changing either
 * one alone fails here.
 */
const config = parse(fs.readFileSync(path.join(repoRoot, 'build', 'electron-builder.yml'), 'utf8'));
const doc = fs.readFileSync(path.join(repoRoot, 'docs', 'app.md'), 'utf8');

/** The rows of the markdown table whose header row starts with `first`. */
function table(first: string): string[][] {
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^\\|\\s*${first}\\s*\\|`).test(l));
  expect(start, `docs/app.md has a table headed "${first}"`).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const l of lines.slice(start + 2)) {
    if (!l.startsWith('|')) break;
    rows.push(
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  }
  expect(rows.length).toBeGreaterThan(0);
  return rows;
}

// How docs/app.md names each package, in electron-builder's words.
const TARGET: Record<string, string> = {
  AppImage: 'AppImage',
  deb: 'deb',
  'NSIS installer': 'nsis',
  portable: 'portable',
  dmg: 'dmg',
};
const SYSTEM: Record<string, string> = { Linux: 'linux', Windows: 'win', macOS: 'mac' };

function pngSize(file: string): { width: number; height: number } {
  const b = fs.readFileSync(file);
  expect(b.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

describe('packaging does what docs/app.md promises', () => {
  it('builds, for each system, exactly the packages the docs table lists, with the command it gives', () => {
    const rows = table('System');
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.scripts.dist).toContain('--config build/electron-builder.yml');
    expect(rows.map(([system]) => SYSTEM[system]).sort()).toEqual(['linux', 'mac', 'win']);
    for (const [system, packages, command] of rows) {
      const promised = packages.split(',').map((p) => {
        const t = TARGET[p.trim()];
        expect(t, `docs package name "${p.trim()}"`).toBeDefined();
        return t;
      });
      expect(config[SYSTEM[system]].target, system).toEqual(promised);
      expect(command).toBe(`\`npm run dist -- --${SYSTEM[system]}\``);
    }
  });

  it('sets exactly the fuses the docs table lists, each as the docs say', () => {
    const promised = Object.fromEntries(
      table('Fuse').map(([fuse, setting]) => {
        expect(['on', 'off']).toContain(setting);
        return [fuse.replace(/`/g, ''), setting === 'on'];
      }),
    );
    expect(config.electronFuses).toEqual(promised);
  });

  it('ships the app inside an asar, as the asar fuses need', () => {
    expect(doc).toContain('ships inside an asar archive');
    expect(config.asar).toBe(true);
    // onlyLoadAppFromAsar with no asar would leave the packaged app unable to start.
    expect(config.electronFuses.onlyLoadAppFromAsar && config.asar !== true).toBe(false);
  });

  it('has the app id and output folder the docs name, and no signing configured in the file', () => {
    const [, appId, output] = /app id `([^`]+)`,\s*output in `([^`/]+)\/`/.exec(doc) ?? [];
    expect(config.appId).toBe(appId);
    expect(config.directories.output).toBe(output);
    // docs: signing comes only from electron-builder's environment variables.
    expect(doc).toMatch(/Signing[\s\S]{0,200}is not set up here/);
    const signing = [
      'certificateFile',
      'certificatePassword',
      'certificateSubjectName',
      'identity',
      'notarize',
    ];
    for (const os of ['win', 'mac'])
      for (const k of signing) expect(config[os]?.[k], `${os}.${k}`).toBeUndefined();
  });

  it('ships only the built bundles', () => {
    expect(config.files).toContain('out/**');
    expect(config.files.some((f: string) => /src-|test/.test(f) && !f.startsWith('!'))).toBe(false);
  });

  it('has icons large enough for every platform (1024 px source, Linux set), as the docs say', () => {
    expect(doc).toContain('`build/icon.png` (1024 px');
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
