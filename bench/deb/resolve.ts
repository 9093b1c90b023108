// Resolution of Kubespray's Debian 12 package set from the real bookworm indexes: Ferry
// (verify each InRelease, stream and hash every Packages index, resolve with Recommends and the
// Essential/required baseline) against `apt-get -s install` of the same names in a throw-away
// root over the same indexes. apt is timed with its binary cache deleted and again right after;
// in this throw-away root apt-get -s writes no pkgcache.bin (checked), so both runs parse the
// indexes, as Ferry does. Each side runs in its own process under
// /usr/bin/time, which reports wall time and peak RSS. Usage:
//   bash bench/deb/resolve.sh [runs=3]   (or npx tsx bench/deb/resolve.ts [runs=3])
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolve, Universe } from '../../src-main/core/kinds/deb/resolve.js';
import { aptRoot, bookwormRecords, kubesprayDebian12Roots } from '../../test/helpers/apt-oracle.js';
import { archiveDir } from '../../test/helpers/deb-archive.js';
import { serveDirInChild } from '../../test/helpers/static-server.js';

const self = fileURLToPath(import.meta.url);

if (process.argv[2] === '--child') {
  // The measured Ferry run: everything from the raw files on disk to the closure.
  const roots = JSON.parse(process.argv[3]) as string[];
  const u = new Universe(await bookwormRecords(), 'amd64');
  const r = resolve(u, roots, { arch: 'amd64' });
  if (r.errors.length) throw new Error(JSON.stringify(r.errors));
  process.stdout.write(`${r.packages.length}\n`);
  process.exit(0);
}

const runs = Number(process.argv[2] ?? 3);
const dir = fs.mkdtempSync('/tmp/deb-bench-');
// apt reads the indexes over loopback http (its file: method does not fall back from a missing
// Packages.xz to the plain index the cache holds); the update is not part of the measurement.
const served = await serveDirInChild(archiveDir);
const apt = aptRoot(dir, served.url);
served.close();
const roots = await kubesprayDebian12Roots('v2.31.0');
const u = new Universe(await bookwormRecords(), 'amd64');
const baseline = [...u.byName]
  .filter(([, l]) => l.some((p) => p.essential || p.priority === 'required'))
  .map(([n]) => n);

interface Run {
  seconds: number;
  rssMb: number;
  out: string;
}
function timed(cmd: string, args: string[]): Run {
  const r = spawnSync('/usr/bin/time', ['-f', 'FERRYTIME %e %M', cmd, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const m = /FERRYTIME ([\d.]+) (\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${cmd} failed: ${r.stderr.slice(-2000)}`);
  return { seconds: Number(m[1]), rssMb: Number(m[2]) / 1024, out: r.stdout };
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const aptArgs = [...apt, '-s', '-q', 'install', ...roots, ...baseline];
// The measured child runs as plain node on an esbuild bundle, as the shipped CLI does: under tsx
// its transform and loader add ~30 MB of RSS that no user pays.
const bundle = path.resolve(path.dirname(self), '../../out/bench/deb-resolve.mjs');
await (
  await import('esbuild')
).build({
  entryPoints: [self],
  bundle: true,
  platform: 'node',
  format: 'esm',
  packages: 'external',
  outfile: bundle,
  logLevel: 'warning',
});
const results: Record<string, Run[]> = { ferry: [], aptCold: [], aptWarm: [] };
for (let i = 0; i < runs; i++) {
  results.ferry.push(timed(process.execPath, [bundle, '--child', JSON.stringify(roots)]));
  for (const f of ['pkgcache.bin', 'srcpkgcache.bin']) fs.rmSync(path.join(dir, 'cache', f), { force: true });
  results.aptCold.push(timed('apt-get', aptArgs));
  results.aptWarm.push(timed('apt-get', aptArgs));
}
const aptCount = results.aptWarm[0].out.split('\n').filter((l) => l.startsWith('Inst ')).length;
const row = (name: string, rs: Run[]): { s: number; mb: number } => {
  const s = median(rs.map((r) => r.seconds));
  const mb = Math.max(...rs.map((r) => r.rssMb));
  console.log(
    `${name.padEnd(28)} median ${s.toFixed(2)} s  peak RSS ${mb.toFixed(0)} MB  (${rs.map((r) => r.seconds).join(', ')})`,
  );
  return { s, mb };
};
console.log(
  `roots ${roots.length} + baseline ${baseline.length}; Ferry ${results.ferry[0].out.trim()} packages, apt ${aptCount}`,
);
const f = row('ferry (verify+parse+resolve)', results.ferry);
const c = row('apt-get -s, cold cache', results.aptCold);
const w = row('apt-get -s, second run', results.aptWarm);
console.log(
  `time ratio ferry/apt-cold ${(f.s / c.s).toFixed(2)}, ferry/apt-second ${(f.s / w.s).toFixed(2)}`,
);
console.log(`peak RSS ratio ferry/apt-cold ${(f.mb / c.mb).toFixed(2)}`);
execFileSync('rm', ['-rf', dir]);
