/**
 * bench/serve: Ferry's offline services against the tools they replace, same content, one run.
 *
 *  1. Registry: `skopeo copy --all` of the same images from Ferry and from Debian's docker-registry
 *     (distribution 2.8, filesystem storage), alternating, median of 3 rounds.
 *  2. 50 concurrent `skopeo copy` of one image from each, twice; all must succeed.
 *  3. A 1 GiB file over loopback from Ferry's file server and from nginx (sendfile) serving the same
 *     file: curl (one stream, 5 rounds) and wrk (4 connections, 5 s, 3 rounds), alternating.
 *
 * Run: npx tsx bench/serve/run.ts   (needs skopeo, docker-registry, nginx, curl, wrk; root not needed)
 */
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { BundleWriter, ociBlobPath } from '../../src-main/core/bundle/index.js';
import { openVerifiedBundle } from '../../src-main/core/serve/verified-source.js';
import { OfflineServer } from '../../src-main/core/serve/server.js';
import { DockerRegistry, freePort } from '../../test/integration/serve/tools.js';
import { makeTar, writeOciLayout, type TestImage } from '../../test/helpers/oci-fixtures.js';

const pexec = promisify(execFile);
const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const MB = 1024 * 1024;

/** A multi-arch image whose layers are `layerMiB` of random data (gzip level 1: quick to make, incompressible). */
function bigImage(layers: number, layerMiB: number): TestImage {
  const blobs = new Map<string, Buffer>();
  const put = (b: Buffer) => (blobs.set(sha(b), b), sha(b));
  const platforms = new Map<string, string>();
  const manifests = [];
  for (const arch of ['amd64', 'arm64']) {
    const ls = [];
    const diff = [];
    for (let i = 0; i < layers; i++) {
      const tar = makeTar([{ name: `blob-${i}.bin`, content: randomBytes(layerMiB * MB) }]);
      diff.push(sha(tar));
      const gz = gzipSync(tar, { level: 1 });
      ls.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: put(gz), size: gz.length });
    }
    const config = Buffer.from(
      JSON.stringify({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: diff } }),
    );
    const m = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: put(config),
          size: config.length,
        },
        layers: ls,
      }),
    );
    platforms.set(`linux/${arch}`, put(m));
    manifests.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: sha(m),
      size: m.length,
      platform: { os: 'linux', architecture: arch },
    });
  }
  const idx = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }),
  );
  return {
    digest: put(idx),
    mediaType: 'application/vnd.oci.image.index.v1+json',
    size: idx.length,
    blobs,
    platforms,
  };
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function main() {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-bench-serve-'));
  // nginx workers run as an unprivileged user when started as root: they must be able to read the bundle.
  await fs.chmod(tmp, 0o755);
  const log = (s: string) => process.stdout.write(s + '\n');
  try {
    log('Preparing: 4 images × 2 platforms × 3 layers × 16 MiB, a 1 GiB file…');
    const images = Array.from({ length: 4 }, (_, i) => ({
      ref: `quay.io/bench/app${i}:v1`,
      image: bigImage(3, 16),
    }));
    const small = { ref: 'registry.k8s.io/pause:3.10', image: bigImage(1, 2) };
    const all = [...images, small];
    const bundle = path.join(tmp, 'bundle');
    const w = await BundleWriter.open(bundle);
    for (const { ref, image } of all) {
      const paths = [];
      for (const [, b] of image.blobs) paths.push(ociBlobPath((await w.addBlobBytes(b)).digest));
      await w.addArtifact({
        id: `image:${ref}`,
        kind: 'image',
        key: ref,
        ref,
        platforms: ['linux/amd64', 'linux/arm64'],
        digest: image.digest,
        mediaType: image.mediaType,
        size: image.size,
        paths,
      });
    }
    const bigSrc = path.join(tmp, 'big.bin');
    const fh = await fs.open(bigSrc, 'w');
    for (let i = 0; i < 64; i++) await fh.write(randomBytes(16 * MB));
    await fh.close();
    const bigUrl = 'https://dl.k8s.io/bench/big.bin';
    const bigRel = 'files/dl.k8s.io/bench/big.bin';
    const e = await w.addFileFromPath(bigSrc, bigRel);
    await w.addArtifact({
      id: `file:${bigUrl}`,
      kind: 'file',
      key: 'big',
      url: bigUrl,
      checksum: `sha256:${e.sha256}`,
      paths: [bigRel],
    });
    await fs.rm(bigSrc);
    await w.finalize();

    const t0 = Date.now();
    const v = await openVerifiedBundle(bundle, { allowUnsigned: true, trusted: [] });
    log(`Ferry verified the bundle in ${((Date.now() - t0) / 1000).toFixed(1)} s (once, at start).`);
    const ferry = await OfflineServer.start({
      sources: [v.source],
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
      advertise: '127.0.0.1',
    });
    const reg = new DockerRegistry(path.join(tmp, 'registry'));
    await reg.start();
    await writeOciLayout(path.join(tmp, 'layout'), all);
    for (const { ref } of all) {
      await pexec('skopeo', [
        'copy',
        '--all',
        '--dest-tls-verify=false',
        `oci:${path.join(tmp, 'layout')}:${ref}`,
        `docker://${reg.host}/${ref.replace(/^[^/]+\//, '')}`,
      ]);
    }

    // 1. skopeo copy --all of every image.
    const copyAll = async (host: string, round: string) => {
      await fs.mkdir(path.join(tmp, 'copies', round), { recursive: true });
      for (const { ref } of all) {
        const name = ref.replace(/^[^/]+\//, '');
        const out = path.join(tmp, 'copies', round, name.replace(/\W/g, '_'));
        await pexec('skopeo', [
          'copy',
          '--all',
          '--src-tls-verify=false',
          `docker://${host}/${name}`,
          `oci:${out}:x`,
        ]);
      }
      await fs.rm(path.join(tmp, 'copies', round), { recursive: true, force: true });
    };
    const tf: number[] = [];
    const tr: number[] = [];
    for (let i = 0; i < 3; i++) {
      tr.push(await time(() => copyAll(reg.host, `r${i}`)));
      tf.push(await time(() => copyAll(ferry.registryHost, `f${i}`)));
    }
    const totalMiB =
      [...new Map(all.flatMap(({ image }) => [...image.blobs])).values()].reduce((s, b) => s + b.length, 0) /
      MB;
    log('');
    log(`Registry, skopeo copy --all of 5 images (${totalMiB.toFixed(0)} MiB), median of 3:`);
    log(
      `  docker-registry ${median(tr).toFixed(2)} s · Ferry ${median(tf).toFixed(2)} s · Ferry/registry time ratio ${median(tf.map((f, i) => f / tr[i])).toFixed(2)} (median of per-round ratios; ≤ 1 means Ferry no slower)`,
    );

    // 2. 50 concurrent pulls of one image.
    const concurrent = async (host: string, tag: string) => {
      await fs.mkdir(path.join(tmp, 'conc', tag), { recursive: true });
      const res = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          pexec(
            'skopeo',
            [
              'copy',
              '--src-tls-verify=false',
              `docker://${host}/bench/app0:v1`,
              `oci:${path.join(tmp, 'conc', tag, String(i))}:x`,
            ],
            { maxBuffer: 1 << 20 },
          ),
        ),
      );
      await fs.rm(path.join(tmp, 'conc', tag), { recursive: true, force: true });
      return res.filter((r) => r.status === 'fulfilled').length;
    };
    let okR = 0;
    let okF = 0;
    const crs: number[] = [];
    const cfs: number[] = [];
    for (let i = 0; i < 2; i++) {
      crs.push(await time(async () => (okR += await concurrent(reg.host, `r${i}`))));
      cfs.push(await time(async () => (okF += await concurrent(ferry.registryHost, `f${i}`))));
    }
    log(`50 concurrent skopeo copy of one image (48 MiB per platform), 2 rounds:`);
    log(
      `  docker-registry ${okR}/100 ok, ${crs.map((x) => x.toFixed(1)).join(' / ')} s · Ferry ${okF}/100 ok, ${cfs.map((x) => x.toFixed(1)).join(' / ')} s · time ratio ${(cfs.reduce((a, b) => a + b) / crs.reduce((a, b) => a + b)).toFixed(2)}`,
    );

    // 3. 1 GiB file: Ferry vs nginx on the same bytes.
    const nginxPort = await freePort();
    const nginxDir = path.join(tmp, 'nginx');
    await fs.mkdir(nginxDir, { recursive: true });
    const conf = path.join(nginxDir, 'nginx.conf');
    await fs.writeFile(
      conf,
      `daemon off; worker_processes 2; pid ${nginxDir}/nginx.pid; error_log ${nginxDir}/error.log;\n` +
        `events { worker_connections 1024; }\n` +
        `http { sendfile on; tcp_nopush on; access_log off; client_body_temp_path ${nginxDir}/tmp; proxy_temp_path ${nginxDir}/tmp; fastcgi_temp_path ${nginxDir}/tmp; uwsgi_temp_path ${nginxDir}/tmp; scgi_temp_path ${nginxDir}/tmp;\n` +
        `  server { listen 127.0.0.1:${nginxPort}; root ${path.join(bundle, 'files')}; } }\n`,
    );
    const nginx = spawn('nginx', ['-c', conf, '-p', nginxDir], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 700));
    if (nginx.exitCode !== null)
      throw new Error(`nginx exited (${nginx.exitCode}); see ${nginxDir}/error.log`);
    const nginxUrl = `http://127.0.0.1:${nginxPort}/dl.k8s.io/bench/big.bin`;
    const ferryUrl = `${ferry.filesUrl}/dl.k8s.io/bench/big.bin`;
    const curl = async (url: string) =>
      Number((await pexec('curl', ['-sf', '-o', '/dev/null', '-w', '%{speed_download}', url])).stdout);
    const cn: number[] = [];
    const cfl: number[] = [];
    for (let i = 0; i < 5; i++) {
      cn.push(await curl(nginxUrl));
      cfl.push(await curl(ferryUrl));
    }
    const wrk = async (url: string) => {
      const out = (await pexec('wrk', ['-t2', '-c4', '-d5s', url], { maxBuffer: 1 << 20 })).stdout;
      const m = /Transfer\/sec:\s+([\d.]+)(\w+)/.exec(out);
      const unit: Record<string, number> = { B: 1, KB: 1024, MB: MB, GB: 1024 * MB };
      return m ? Number(m[1]) * (unit[m[2]] ?? 1) : NaN;
    };
    const wns: number[] = [];
    const wfs: number[] = [];
    for (let i = 0; i < 3; i++) {
      wns.push(await wrk(nginxUrl));
      wfs.push(await wrk(ferryUrl));
    }
    const [wn, wf] = [median(wns), median(wfs)];
    nginx.kill('SIGTERM');

    await ferry.stop();
    await reg.stop();

    const gbps = (b: number) => `${(b / 1e9).toFixed(2)} GB/s`;
    if (okF !== 100) log('FAIL: not every concurrent pull from Ferry succeeded.');
    log('1 GiB file over loopback:');
    log(
      `  curl, 5 alternating rounds: nginx ${gbps(median(cn))} · Ferry ${gbps(median(cfl))} · Ferry/nginx ${median(cfl.map((f, i) => f / cn[i])).toFixed(2)} (median of per-round ratios)`,
    );
    log(
      `  wrk -c4 5 s, 3 alternating rounds: nginx ${gbps(wn)} · Ferry ${gbps(wf)} · Ferry/nginx ${median(wfs.map((f, i) => f / wns[i])).toFixed(2)}`,
    );
    if (okF !== 100) process.exitCode = 1;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
