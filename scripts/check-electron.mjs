#!/usr/bin/env node
// Runs before `electron .` in `npm start`. Electron 45 has no install script: its binary is
// downloaded the first time the `electron` package is loaded, and offline that download fails
// with "fetch failed … Electron failed to install correctly", which names neither the cause nor
// the way out. This check finds the binary first and, when it is missing, tries the package's
// own download once; if that fails it says why and how to provide the binary, then exits 1.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

// FERRY_ELECTRON_DIR points at another electron package folder (tests use a fake one).
const pkgDir =
  process.env.FERRY_ELECTRON_DIR ??
  path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));

function binary() {
  const pathFile = path.join(pkgDir, 'path.txt');
  const rel = fs.existsSync(pathFile) ? fs.readFileSync(pathFile, 'utf8').trim() : null;
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  // Same resolution as electron's index.js.
  if (override) return path.join(override, rel || 'electron');
  return rel ? path.join(pkgDir, 'dist', rel) : null;
}

function present() {
  const exe = binary();
  return exe !== null && fs.existsSync(exe) ? exe : null;
}

if (present()) process.exit(0);

let downloadError = '';
if (!process.env.ELECTRON_OVERRIDE_DIST_PATH) {
  // Online this is the ordinary first-start download; its own output shows progress.
  const install = path.join(pkgDir, 'install.js');
  // Its stderr is kept back: offline it is a stack trace, and only its first line says anything.
  if (fs.existsSync(install)) {
    const r = spawnSync(process.execPath, [install], {
      stdio: ['inherit', 'inherit', 'pipe'],
      encoding: 'utf8',
    });
    downloadError = (r.stderr ?? '').trim().split('\n')[0];
  }
  if (present()) process.exit(0);
}

const cache = process.env.electron_config_cache ?? '~/.cache/electron (Linux default)';
process.stderr.write(
  [
    `ferry: Electron's binary is missing (looked in ${
      process.env.ELECTRON_OVERRIDE_DIST_PATH ?? path.join(pkgDir, 'dist')
    }).`,
    'Electron 45 downloads its binary on first start, not at npm install, and that download did not succeed',
    ...(downloadError ? [`(the download said: ${downloadError})`] : []),
    '(no network or no access to github.com). Provide the binary in one of these ways, then run npm start again:',
    '  ELECTRON_MIRROR=https://your-mirror/electron/   a reachable mirror of the Electron releases',
    `  electron_config_cache=<folder>                  a folder holding electron-v<version>-<os>-<arch>.zip (now: ${cache})`,
    '  ELECTRON_OVERRIDE_DIST_PATH=<folder>            a folder holding an unpacked Electron (the electron executable)',
    'Everything except the desktop app (the ferry CLI, npm test, npm run build) works without it.',
    '',
  ].join('\n'),
);
process.exit(1);
