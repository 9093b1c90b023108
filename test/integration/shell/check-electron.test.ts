import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/tools.js';

const script = path.join(repoRoot, 'scripts', 'check-electron.mjs');
let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/** A fake electron package folder; install.js stands in for the download and fails, as offline. */
function fakeElectron(withBinary: boolean): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'honest-tests-electron-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'install.js'), 'console.error("fetch failed"); process.exit(1);\n');
  if (withBinary) {
    fs.writeFileSync(path.join(dir, 'path.txt'), 'electron');
    fs.mkdirSync(path.join(dir, 'dist'));
    fs.writeFileSync(path.join(dir, 'dist', 'electron'), '');
  }
  return dir;
}

function run(env: Record<string, string>) {
  const clean = { ...process.env };
  delete clean.ELECTRON_OVERRIDE_DIST_PATH;
  return spawnSync(process.execPath, [script], { env: { ...clean, ...env }, encoding: 'utf8' });
}

describe('scripts/check-electron.mjs (runs before npm start)', () => {
  it('passes quietly when the binary is in the package dist folder', () => {
    const r = run({ FERRY_ELECTRON_DIR: fakeElectron(true) });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('fails with the cause and every way to provide the binary when it is missing and cannot be downloaded', () => {
    const r = run({ FERRY_ELECTRON_DIR: fakeElectron(false) });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("Electron's binary is missing");
    expect(r.stderr).toContain('downloads its binary on first start, not at npm install');
    expect(r.stderr).toContain('(the download said: fetch failed)');
    for (const v of ['ELECTRON_MIRROR', 'electron_config_cache', 'ELECTRON_OVERRIDE_DIST_PATH']) {
      expect(r.stderr).toContain(v);
    }
  });

  it('accepts ELECTRON_OVERRIDE_DIST_PATH holding the executable, and refuses one that does not', () => {
    const dist = fs.mkdtempSync(path.join(os.tmpdir(), 'honest-tests-dist-'));
    dirs.push(dist);
    const pkg = fakeElectron(false);
    expect(run({ FERRY_ELECTRON_DIR: pkg, ELECTRON_OVERRIDE_DIST_PATH: dist }).status).toBe(1);
    fs.writeFileSync(path.join(dist, 'electron'), '');
    expect(run({ FERRY_ELECTRON_DIR: pkg, ELECTRON_OVERRIDE_DIST_PATH: dist }).status).toBe(0);
  });
});
