/**
 * bench/fetch: Ferry against the tools people use today, on the same upstream, in one run.
 *   1. Files from nginx with a per-connection rate limit (limit_rate, standing in for a WAN link):
 *      Ferry (parallel) vs curl fetching the same set one after another (+ sha256sum, as scripts do).
 *   2. One large file from nginx unthrottled on loopback: Ferry (hashing while it writes) vs curl
 *      alone and vs curl + sha256sum.
 *   3. Images from docker-registry: Ferry vs `skopeo copy --all` of the same images into one oci:
 *      layout (skopeo reuses blobs the layout already has), with images that share layers.
 *   4. Peak RSS of a multi-GB Ferry fetch (process.resourceUsage().maxRSS of the fetch process).
 * Run: npx tsx bench/fetch/run.ts [--scale N] [--only throttled,single,multi,images] [--repeat N]
 *   (needs nginx, curl, docker-registry, skopeo). --repeat runs the single-file pair N times,
 *   alternating curl and Ferry, and reports the best of each: on a shared 2-core machine one
 *   run can be skewed by whatever else is running.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freePort,
  makeLayer,
  makePlan,
  startWorld,
  waitFor,
  type World,
} from '../../test/helpers/world/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const scale = Number(arg('--scale')) || 1;
const only = arg('--only')?.split(',');
const want = (section: string) => !only || only.includes(section);
const repeat = Math.max(1, Number(arg('--repeat')) || 1);
const MiB = 1 << 20;

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
}

/**
 * Each timed run starts with nothing dirty in the page cache: Ferry fsyncs what it commits, and
 * writing back the test data just generated (or the previous tool's output) would otherwise
 * be charged to whichever fsync comes next.
 */
function settleDisk(): void {
  sh('sync', []);
}

function timed(fn: () => void): number {
  settleDisk();
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function writeRandomFile(file: string, size: number): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'w');
  const chunk = 8 * MiB;
  for (let done = 0; done < size; done += chunk) {
    const b = randomBytes(Math.min(chunk, size - done));
    h.update(b);
    fs.writeSync(fd, b);
  }
  fs.closeSync(fd);
  return 'sha256:' + h.digest('hex');
}

async function startNginx(
  dir: string,
  docroot: string,
  rate: string,
): Promise<{ port: number; stop: () => void }> {
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `user root;
worker_processes 2;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log;
events { worker_connections 256; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 10000;
  client_body_temp_path ${dir}/tmp;
  proxy_temp_path ${dir}/tmp;
  fastcgi_temp_path ${dir}/tmp;
  uwsgi_temp_path ${dir}/tmp;
  scgi_temp_path ${dir}/tmp;
  server {
    listen 127.0.0.1:${port};
    root ${docroot};
    location /slow/ { alias ${docroot}/; limit_rate ${rate}; }
  }
}
`,
  );
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  const child = spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' });
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined)) !== undefined,
    'nginx',
  );
  return { port, stop: () => child.kill('SIGQUIT') };
}

function ferry(
  plan: object,
  dir: string,
  name: string,
  insecure?: string,
  conc?: number,
): { seconds: number; lastDone: number; wall: number; maxRssMB: number; bytes: number } {
  const planFile = path.join(dir, `${name}.plan.json`);
  fs.writeFileSync(planFile, JSON.stringify(plan));
  const out = path.join(dir, `${name}.bundle`);
  settleDisk();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(here, 'ferry-run.ts'), planFile, out, String(conc ?? ''), insecure ?? ''],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`ferry ${name} failed: ${r.stderr}`);
  fs.rmSync(out, { recursive: true, force: true });
  fs.rmSync(out + '-data', { recursive: true, force: true });
  return { ...JSON.parse(r.stdout.trim().split('\n').at(-1)!), wall };
}

const rows: Array<[string, string]> = [];
const row = (k: string, v: string) => {
  rows.push([k, v]);
  console.log(`${k.padEnd(58)} ${v}`);
};
const mbps = (bytes: number, s: number) => `${(bytes / MiB / s).toFixed(0)} MiB/s`;

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-'));
  const docroot = path.join(dir, 'www');
  fs.mkdirSync(docroot);
  let world: World | undefined;
  let nginx: { port: number; stop: () => void } | undefined;
  try {
    // 1. Throttled file set.
    const n = 12;
    const size = 16 * MiB * scale;
    const rate = '8m';
    const files = Array.from({ length: n }, (_, i) => ({
      name: `f${i}.bin`,
      checksum: writeRandomFile(path.join(docroot, `f${i}.bin`), size),
    }));
    nginx = await startNginx(dir, docroot, rate);
    const slow = (f: string) => `http://127.0.0.1:${nginx!.port}/slow/${f}`;
    const fast = (f: string) => `http://127.0.0.1:${nginx!.port}/${f}`;
    const curlDir = path.join(dir, 'curl');
    fs.mkdirSync(curlDir);
    if (want('throttled')) {
      console.log(`files: ${n} × ${size / MiB} MiB from nginx limit_rate ${rate}/connection`);
      const curlSeq = timed(() => {
        for (const f of files) {
          sh('curl', ['-fsSo', path.join(curlDir, f.name), slow(f.name)]);
          sh('sha256sum', [path.join(curlDir, f.name)]);
        }
      });
      fs.rmSync(curlDir, { recursive: true, force: true });
      fs.mkdirSync(curlDir);
      const planSlow = makePlan({
        files: files.map((f, i) => ({ key: `f${i}`, url: slow(f.name), checksum: f.checksum })),
      });
      const fs1 = ferry(planSlow, dir, 'slow');
      row('throttled set: curl sequential + sha256sum', `${curlSeq.toFixed(2)} s`);
      row(
        'throttled set: Ferry (concurrency default)',
        `${fs1.seconds.toFixed(2)} s (process wall ${fs1.wall.toFixed(2)} s)`,
      );
      row(
        'throttled set: Ferry speed-up over curl (target ≥ 3×)',
        `${(curlSeq / fs1.seconds).toFixed(2)}× (wall: ${(curlSeq / fs1.wall).toFixed(2)}×)`,
      );
    }

    // 2. One large file unthrottled.
    const bigSize = 1024 * MiB * scale;
    const big = writeRandomFile(path.join(docroot, 'big.bin'), bigSize);
    if (want('single')) {
      execFileSync('cat', [path.join(docroot, 'big.bin')], { stdio: 'ignore', maxBuffer: 1 }); // warm the page cache
      let curlOnly = Infinity;
      let curlDurable = Infinity;
      let shaOnly = Infinity;
      let fbig = { seconds: Infinity, lastDone: 0, wall: Infinity, maxRssMB: 0, bytes: 0 };
      for (let i = 0; i < repeat; i++) {
        curlOnly = Math.min(
          curlOnly,
          timed(() => sh('curl', ['-fsSo', path.join(curlDir, 'big.bin'), fast('big.bin')])),
        );
        shaOnly = Math.min(
          shaOnly,
          timed(() => sh('sha256sum', [path.join(curlDir, 'big.bin')])),
        );
        fs.rmSync(path.join(curlDir, 'big.bin'));
        // The same durability as Ferry's commit: the file is on disk when the tool says done.
        curlDurable = Math.min(
          curlDurable,
          timed(() => {
            sh('curl', ['-fsSo', path.join(curlDir, 'big.bin'), fast('big.bin')]);
            sh('sync', [path.join(curlDir, 'big.bin')]);
          }),
        );
        fs.rmSync(path.join(curlDir, 'big.bin'));
        const f = ferry(
          makePlan({ files: [{ key: 'big', url: fast('big.bin'), checksum: big }] }),
          dir,
          'big',
        );
        if (repeat > 1)
          console.log(
            `  run ${i + 1}: curl ${mbps(bigSize, curlOnly)}, curl + fsync ${mbps(bigSize, curlDurable)} best so far, Ferry ${mbps(bigSize, f.seconds)} (downloaded, verified and committed at ${f.lastDone.toFixed(2)} s of ${f.seconds.toFixed(2)} s)`,
          );
        if (f.seconds < fbig.seconds) fbig = f;
      }
      row(
        `single ${bigSize / MiB} MiB file: curl alone`,
        `${curlOnly.toFixed(2)} s (${mbps(bigSize, curlOnly)})`,
      );
      row(
        `single file: curl + fsync of its file`,
        `${curlDurable.toFixed(2)} s (${mbps(bigSize, curlDurable)})`,
      );
      row(
        `single file: curl + sha256sum`,
        `${(curlOnly + shaOnly).toFixed(2)} s (${mbps(bigSize, curlOnly + shaOnly)})`,
      );
      row(
        `single file: Ferry (download + sha256 + fsync)`,
        `${fbig.seconds.toFixed(2)} s (${mbps(bigSize, fbig.seconds)})`,
      );
      row(
        'single file: Ferry throughput / curl alone (target ≥ 0.8×)',
        `${(curlOnly / fbig.seconds).toFixed(2)}×`,
      );
      row(
        'single file: Ferry throughput / curl + fsync (same durability)',
        `${(curlDurable / fbig.seconds).toFixed(2)}×`,
      );
      row(
        'single file: Ferry throughput / curl + sha256sum',
        `${((curlOnly + shaOnly) / fbig.seconds).toFixed(2)}×`,
      );
    }

    // 4. Peak RSS on a multi-GB fetch (the big file plus four more of 512 MiB).
    if (want('multi')) {
      const more = Array.from({ length: 4 }, (_, i) => ({
        name: `m${i}.bin`,
        checksum: writeRandomFile(path.join(docroot, `m${i}.bin`), 512 * MiB * scale),
      }));
      const planMulti = makePlan({
        files: [
          { key: 'big', url: fast('big.bin'), checksum: big },
          ...more.map((f, i) => ({ key: `m${i}`, url: fast(f.name), checksum: f.checksum })),
        ],
      });
      const fmulti = ferry(planMulti, dir, 'multi');
      row(
        `multi-GB fetch (${(bigSize + 4 * 512 * MiB * scale) / MiB / 1024} GiB): Ferry`,
        `${fmulti.seconds.toFixed(2)} s (${mbps(fmulti.bytes, fmulti.seconds)})`,
      );
      row('multi-GB fetch: Ferry peak RSS (target < 250 MB)', `${fmulti.maxRssMB.toFixed(0)} MiB`);
      for (const f of more.map((m) => m.name)) fs.rmSync(path.join(docroot, f), { force: true });
    }
    fs.rmSync(path.join(docroot, 'big.bin'), { force: true });

    // 3. Images.
    if (want('images')) {
      const shared = [makeLayer('base.bin', 24 * MiB * scale)];
      world = await startWorld({});
      const imgs: string[] = [];
      for (let i = 0; i < 6; i++) {
        const repo = `bench/img${i}:1`;
        await world.addImage(repo, {
          platforms: ['linux/amd64', 'linux/arm64'],
          shared,
          layers: 2,
          layerSize: 16 * MiB * scale,
        });
        imgs.push(repo);
      }
      const skopeoDir = path.join(dir, 'skopeo-oci');
      const skopeo = timed(() => {
        for (const r of imgs)
          sh('skopeo', [
            'copy',
            '--all',
            '--src-tls-verify=false',
            `docker://${world!.ref(r)}`,
            `oci:${skopeoDir}:${r.replace(/[/:]/g, '_')}`,
          ]);
      });
      const fimg = ferry(
        makePlan({
          images: imgs.map((r, i) => ({
            key: `i${i}`,
            ref: world!.ref(r),
            platforms: ['linux/amd64', 'linux/arm64'],
          })),
        }),
        dir,
        'images',
        world.registry.host,
      );
      row('images: 6 × 2 platforms, sharing a base layer: skopeo copy --all', `${skopeo.toFixed(2)} s`);
      row('images: Ferry', `${fimg.seconds.toFixed(2)} s (process wall ${fimg.wall.toFixed(2)} s)`);
      row(
        'images: Ferry speed-up over skopeo (target ≥ 1×)',
        `${(skopeo / fimg.seconds).toFixed(2)}× (wall: ${(skopeo / fimg.wall).toFixed(2)}×)`,
      );
    }
  } finally {
    nginx?.stop();
    await world?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
