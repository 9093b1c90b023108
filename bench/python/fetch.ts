/**
 * bench/python/fetch: carrying Kubespray v2.31.0's Python requirements for two deploy-host
 * targets (Debian 12: Python 3.11, glibc 2.36, x86_64 and aarch64) over a capped link.
 *   Ferry:  resolve both targets (PEP 658 metadata only) and fetch the union of their files in
 *           parallel into a bundle, each verified against the index's sha256 while it streams.
 *   pip:    Debian's `pip download --only-binary=:all: --platform … --python-version 3.11
 *           --implementation cp -r requirements.txt`, once per target (pip takes one platform
 *           set per run), each into its own folder, as kubespray-offline-style scripts do.
 * Upstream: a static PEP 503 index (test/helpers/pypi-server.ts writeStaticIndex) with wheels of
 * the real ones' sizes (ansible's ~51 MB), served by nginx with `limit_rate` per connection on
 * the files, standing in for a WAN link. One run; prints the times and the ratio.
 * Run: bench/python/fetch.sh [--rate 4m]   (needs nginx and Debian's python3-pip)
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFetchJob } from '../../src-main/core/fetch/index.js';
import type { Plan } from '../../src-main/core/plan/plan.js';
import { planPython } from '../../src-main/core/kinds/python/plan.js';
import { platformTags } from '../../src-main/core/kinds/python/tags.js';
import { kubesprayV231Projects, writeStaticIndex } from '../../test/helpers/pypi-server.js';
import { freePort, waitFor } from '../../test/helpers/world/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const rate = arg('--rate') ?? '4m';
const MB = 1e6;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-py-'));
const docroot = path.join(work, 'www');
console.log(`building wheels of realistic size in ${docroot} …`);
// pip 23.0.1 trips over data-dist-info-metadata for Jinja2/MarkupSafe/PyYAML (see
// writeStaticIndex); PEP 714's data-core-metadata alone lets it run, downloading whole wheels.
writeStaticIndex(kubesprayV231Projects({ realSizes: true }), docroot, { distInfoMetadata: false });

const port = await freePort();
const conf = path.join(work, 'nginx.conf');
fs.mkdirSync(path.join(work, 'tmp'), { recursive: true });
fs.writeFileSync(
  conf,
  `user root;
worker_processes 2;
daemon off;
pid ${work}/nginx.pid;
error_log ${work}/nginx-error.log;
events { worker_connections 256; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 10000;
  types { text/html html; application/octet-stream whl metadata; }
  client_body_temp_path ${work}/tmp;
  proxy_temp_path ${work}/tmp;
  fastcgi_temp_path ${work}/tmp;
  uwsgi_temp_path ${work}/tmp;
  scgi_temp_path ${work}/tmp;
  server {
    listen 127.0.0.1:${port};
    root ${docroot};
    index index.html;
    location /files/ { limit_rate ${rate}; }
  }
}
`,
);
const nginx = spawn('nginx', ['-c', conf, '-p', work], { stdio: 'ignore' });
const base = `http://127.0.0.1:${port}`;
await waitFor(async () => (await fetch(`${base}/simple/`).catch(() => undefined))?.ok === true, 'nginx');

const requirementsFile = path.join(root, '..', 'shared', 'kubespray', 'v2.31.0', 'requirements.txt');
const requirements = fs.readFileSync(requirementsFile, 'utf8');
const targets = [
  { python: '3.11', arch: 'x86_64' as const, glibc: '2.36' },
  { python: '3.11', arch: 'aarch64' as const, glibc: '2.36' },
];

try {
  // Ferry: plan (resolution) and fetch, both timed.
  const env = { HOME: work, FERRY_DATA_DIR: path.join(work, 'ferry-data') };
  const t0 = performance.now();
  const sets = await planPython(
    { os: 'debian-12', arch: ['x86_64', 'aarch64'], indexes: [`${base}/simple/`] },
    { tag: 'v2.31.0', requirements },
    { env },
  );
  const t1 = performance.now();
  const plan: Plan = {
    kubespray: 'v2.31.0',
    kubeVersion: '1.33.0',
    arches: ['amd64'],
    files: [],
    images: [],
    vars: {},
    python: sets,
  };
  const r = await startFetchJob(plan, { out: path.join(work, 'bundle'), signer: null, env }).done;
  const t2 = performance.now();
  const ferryBytes = r.bytesDownloaded;

  // pip: one run per target, as pip takes one platform set at a time.
  let pipBytes = 0;
  const perRun: string[] = [];
  const p0 = performance.now();
  for (const t of targets) {
    const r0 = performance.now();
    const dest = path.join(work, `pip-${t.arch}`);
    const args = [
      '-m',
      'pip',
      'download',
      '--only-binary=:all:',
      '--implementation',
      'cp',
      '--python-version',
      t.python,
    ];
    for (const p of platformTags(t)) args.push('--platform', p);
    args.push(
      '--index-url',
      `${base}/simple/`,
      '-r',
      requirementsFile,
      '-d',
      dest,
      '--no-cache-dir',
      '--disable-pip-version-check',
      '-q',
    );
    const res = spawnSync('/usr/bin/python3', args, {
      env: { PATH: process.env.PATH, HOME: work, PIP_CONFIG_FILE: '/dev/null' },
      encoding: 'utf8',
    });
    if (res.status !== 0) throw new Error(`pip download failed: ${res.stderr}`);
    for (const f of fs.readdirSync(dest)) pipBytes += fs.statSync(path.join(dest, f)).size;
    perRun.push(`${t.arch} ${((performance.now() - r0) / 1000).toFixed(1)} s`);
  }
  const p1 = performance.now();

  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(`link: nginx limit_rate ${rate} per connection on the files`);
  console.log(`Ferry resolve (2 targets):         ${s(t1 - t0)}`);
  console.log(
    `Ferry fetch (${r.counts.fetched} files, ${(ferryBytes / MB).toFixed(1)} MB):      ${s(t2 - t1)}`,
  );
  console.log(`Ferry resolve + fetch:             ${s(t2 - t0)}`);
  console.log(`pip download ×2 (${(pipBytes / MB).toFixed(1)} MB):        ${s(p1 - p0)}`);
  console.log(`pip per target:                    ${perRun.join(', ')}`);
  console.log(`ratio pip / Ferry (resolve+fetch): ${((p1 - p0) / (t2 - t0)).toFixed(2)}×`);
} finally {
  nginx.kill('SIGQUIT');
  fs.rmSync(work, { recursive: true, force: true });
}
