import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/tools.js';

/** The CI gate really fails: electronegativity itself always exits 0. */
describe('scripts/electronegativity.sh', () => {
  const run = (dir: string) =>
    spawnSync(path.join(repoRoot, 'scripts', 'electronegativity.sh'), [dir], {
      encoding: 'utf8',
      timeout: 120_000,
    });

  it('fails on a window with Node integration and no context isolation', { timeout: 120_000 }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-egn-'));
    fs.writeFileSync(
      path.join(dir, 'main.js'),
      "const { BrowserWindow } = require('electron');\nnew BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false, sandbox: false } });\n",
    );
    const r = run(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/high-severity findings/);
    expect(r.stderr).toMatch(/NODE_INTEGRATION|CONTEXT_ISOLATION/);
  });

  it('passes the shell as written', { timeout: 120_000 }, () => {
    const r = run(path.join(repoRoot, 'src-main', 'shell'));
    expect(r.stderr).not.toMatch(/high-severity/);
    expect(r.status).toBe(0);
  });
});
