/**
 * bench/export: Ferry's export (copy + fsync + O_DIRECT read-back + hash) against the usual manual
 * procedure, `cp -r` + `sync` + `sha256sum` of the copy, on the same multi-GB bundle in one run;
 * then Ferry's import verification, showing whether it keeps every core busy (process CPU time /
 * wall time; with N cores the ceiling is N).
 *
 *   npx tsx bench/export/run.ts [--gib 3] [--dir /var/tmp/ferry-bench] [--keep]
 *
 * As root the page cache is dropped before each timed step (echo 3 > /proc/sys/vm/drop_caches) so
 * both sides start from a cold source; otherwise the figures include whatever is cached.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BundleWriter } from '../../src-main/core/bundle/index.js';
import { exportBundle } from '../../src-main/core/media/export/index.js';
import { KeyStore } from '../../src-main/core/bundle/keys/index.js';
import { HashPool } from '../../src-main/core/bundle/verify/index.js';

const { values } = parseArgs({
  options: { gib: { type: 'string', default: '3' }, dir: { type: 'string' }, keep: { type: 'boolean' } },
});
const GiB = 1024 ** 3;
const MiB = 1 << 20;
const total = Math.round(Number(values.gib) * GiB);
const root = values.dir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-bench-export-')));
await fs.mkdir(root, { recursive: true });

function dropCaches(): string {
  try {
    execFileSync('sync');
    execFileSync('sh', ['-c', 'echo 3 > /proc/sys/vm/drop_caches'], { stdio: 'ignore' });
    return 'cold (page cache dropped)';
  } catch {
    return 'warm (could not drop the page cache: not root)';
  }
}

/** Distinct, incompressible-enough content without paying for randomBytes on every byte. */
async function writeFile(p: string, size: number, seed: number): Promise<void> {
  const block = createHash('sha256').update(String(seed)).digest();
  const chunk = Buffer.alloc(16 * MiB);
  for (let i = 0; i < chunk.length; i += 32) block.copy(chunk, i);
  const fh = await fs.open(p, 'w');
  try {
    for (let off = 0; off < size; off += chunk.length) {
      // A per-chunk counter keeps every chunk (and so every file) distinct.
      chunk.writeUInt32LE(off / chunk.length, 0);
      chunk.writeUInt32LE(seed, 4);
      const n = Math.min(chunk.length, size - off);
      await fh.write(chunk, 0, n, off);
    }
  } finally {
    await fh.close();
  }
}

async function makeBundle(dir: string, signer: Awaited<ReturnType<KeyStore['signer']>>): Promise<number> {
  const w = await BundleWriter.open(dir);
  const pool = new HashPool();
  // A realistic mix: a few large images' worth of layers, many mid-size binaries, some small files.
  const sizes: number[] = [];
  let left = total;
  const pattern = [512 * MiB, 256 * MiB, 96 * MiB, 32 * MiB, 4 * MiB, 300_000, 20_000];
  for (let i = 0; left > 0; i++) {
    const s = Math.min(pattern[i % pattern.length], left);
    sizes.push(s);
    left -= s;
  }
  await Promise.all(
    sizes.map(async (size, i) => {
      const tmp = w.tempPath(`f${i}`);
      await writeFile(tmp, size, i);
      const h = await pool.hash({ file: tmp });
      const url = `https://dl.example.test/bench/file-${i}`;
      const rel = `files/dl.example.test/bench/file-${i}`;
      await w.commitFile(tmp, rel, h);
      await w.addArtifact({ id: `file:${url}`, kind: 'file', key: `file${i}`, url, paths: [rel] });
    }),
  );
  await pool.close();
  await w.finalize({ signer });
  return sizes.length;
}

function time<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  return fn().then((value) => {
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    return { value, seconds, cpu: (c.user + c.system) / 1e6 };
  });
}

const cfg = path.join(root, 'config');
const keyStore = new KeyStore(path.join(cfg, 'keys'));
if (!(await keyStore.hasOwnKey())) await keyStore.generate({ name: 'bench' });
const bundle = path.join(root, 'bundle');
let files: number;
try {
  files = (JSON.parse(await fs.readFile(path.join(bundle, 'manifest.json'), 'utf8')) as { files: unknown[] })
    .files.length;
  console.log(`reusing the bundle in ${bundle}`);
} catch {
  console.log(`making a ${(total / GiB).toFixed(1)} GiB bundle in ${bundle} …`);
  files = await makeBundle(bundle, await keyStore.signer());
}
const bytes = Number(execFileSync('du', ['-sb', bundle], { encoding: 'utf8' }).split('\t')[0]);
console.log(
  `bundle: ${files} files, ${(bytes / GiB).toFixed(2)} GiB; ${os.availableParallelism()} cores; target on the same disk as the source`,
);

// 1. The manual procedure.
const cpTarget = path.join(root, 'cp-copy');
await fs.rm(cpTarget, { recursive: true, force: true });
const cacheA = dropCaches();
const manual = await time(async () => {
  execFileSync('cp', ['-r', bundle, cpTarget]);
  execFileSync('sync');
  const r = spawnSync('sh', ['-c', `find . -type f -print0 | xargs -0 sha256sum > /dev/null`], {
    cwd: cpTarget,
  });
  if (r.status !== 0) throw new Error('sha256sum failed');
});

// 2. Ferry.
const ferryTarget = path.join(root, 'ferry-copy');
await fs.rm(ferryTarget, { recursive: true, force: true });
const cacheB = dropCaches();
const ferry = await time(() => exportBundle(bundle, { to: ferryTarget, keyStore }));

// 3. Import verification into a store, all cores: once as this machine's OpenSSL runs, once with
// the SHA extensions masked (OPENSSL_ia32cap), which is how SHA-256 runs on CPUs without them
// and where hashing, not the disk, is the bottleneck.
const store = path.join(root, 'store');
const importRun = (
  env: NodeJS.ProcessEnv,
): { seconds: number; cpu: number; user: number; status: string } => {
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(import.meta.dirname, 'import-step.ts'),
      ferryTarget,
      store,
      path.join(cfg, 'keys'),
    ],
    { env: { ...process.env, ...env }, encoding: 'utf8' },
  );
  const r = JSON.parse(out.trim().split('\n').pop()!);
  if (r.status !== 'complete') throw new Error('import incomplete');
  return r;
};
const cacheC = dropCaches();
const impNative = importRun({});
dropCaches();
const impNoShaNi = importRun({ OPENSSL_ia32cap: ':~0x20000000' });
const shaNi = /\bsha_ni\b/.test(await fs.readFile('/proc/cpuinfo', 'utf8').catch(() => ''));

const gbs = (s: number) => `${(bytes / s / 1e6).toFixed(0)} MB/s`;
console.log('');
console.log(
  `cp -r + sync + sha256sum   ${manual.seconds.toFixed(2)} s  (${gbs(manual.seconds)})  source ${cacheA}`,
);
console.log(
  `ferry export               ${ferry.seconds.toFixed(2)} s  (${gbs(ferry.seconds)})  source ${cacheB}; read-back: ${ferry.value.readBack.direct} O_DIRECT, ${ferry.value.readBack.buffered} buffered`,
);
console.log(
  `ratio ferry / manual       ${(ferry.seconds / manual.seconds).toFixed(2)}  (below 1 = Ferry faster)`,
);
console.log('');
const cores = os.availableParallelism();
for (const [name, r] of [
  [`ferry import, native OpenSSL${shaNi ? ' (CPU has SHA-NI)' : ''}`, impNative],
  ['ferry import, SHA-NI masked', impNoShaNi],
] as const) {
  console.log(
    `${name.padEnd(44)} ${r.seconds.toFixed(2)} s  (${gbs(r.seconds)}), CPU ${r.cpu.toFixed(2)} s (user ${r.user.toFixed(2)}), CPU/wall ${(r.cpu / r.seconds).toFixed(2)} of ${cores} cores  source ${cacheC}`,
  );
}
if (!values.keep) await fs.rm(root, { recursive: true, force: true });
