import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialStore } from '../../../src-main/core/fetch/oci/auth.js';
import { parsePushTarget, pushImages } from '../../../src-main/core/serve/push/index.js';
import { openVerifiedBundle } from '../../../src-main/core/serve/verified-source.js';
import { ensureServerCert } from '../../../src-main/core/serve/tls/ca.js';
import type { BundleSource } from '../../../src-main/core/bundle/source.js';
import { makeImage, splitBundleFiles, writeTestBundle, type TestImage } from '../../helpers/oci-fixtures.js';
import { ociBlobPath } from '../../../src-main/core/bundle/index.js';
import { lacks } from '../../helpers/tools.js';
import { TokenAuthRegistry } from '../../helpers/world/token-auth.js';
import { DockerRegistry, run } from '../serve/tools.js';

/**
 * `ferry push` into Debian's docker-registry (distribution 2.8): plain HTTP, TLS with Ferry's CA
 * plus Basic auth (htpasswd), and Bearer tokens; monolithic and chunked uploads; mounts; a
 * second run finds everything present. Pulled back with skopeo, digests equal the bundle's.
 */

describe.skipIf(lacks('skopeo', 'docker-registry', 'python3'))('ferry push into a real registry', () => {
  let tmp: string;
  let source: BundleSource;
  let calico: TestImage;
  let pause: TestImage;
  let nginx: TestImage;
  const regs: DockerRegistry[] = [];

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-push-'));
    calico = makeImage({ platforms: ['linux/amd64', 'linux/arm64'], layers: 2, layerBytes: 200 * 1024 });
    pause = makeImage({ platforms: ['linux/amd64', 'linux/arm64'] });
    nginx = makeImage({ single: true });
    await writeTestBundle(path.join(tmp, 'b'), {
      images: [
        { ref: 'quay.io/calico/node:v3.30.3', image: calico },
        // Same content in a second repository: its blobs must be mounted, not uploaded again.
        { ref: 'quay.io/calico/node-mirror:v3.30.3', image: calico },
        { ref: 'registry.k8s.io/pause:3.10', image: pause },
        { ref: 'docker.io/library/nginx:1.27', image: nginx },
      ],
    });
    source = (await openVerifiedBundle(path.join(tmp, 'b'), { allowUnsigned: true, trusted: [] })).source;
  });
  afterAll(async () => {
    for (const r of regs) await r.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const inspect = async (ref: string, extra: string[] = []) =>
    JSON.parse(await run('skopeo', ['inspect', ...extra, `docker://${ref}`])).Digest as string;

  it('pushes Kubespray-style names under the prefix over HTTP, mounts shared blobs, and a second run finds everything present', async () => {
    const reg = new DockerRegistry(path.join(tmp, 'r1'));
    regs.push(reg);
    await reg.start();
    const target = parsePushTarget(`${reg.host}/k8s`);
    const first = await pushImages({ sources: [source], target, insecure: true });
    expect(first.counts).toMatchObject({ pushed: 4, present: 0, failed: 0, skipped: 0 });
    expect(first.counts.blobsMounted).toBeGreaterThan(0);
    const uploaded = first.counts.blobsUploaded;
    expect(first.images.map((i) => i.target).sort()).toEqual([
      `${reg.host}/k8s/calico/node-mirror:v3.30.3`,
      `${reg.host}/k8s/calico/node:v3.30.3`,
      `${reg.host}/k8s/library/nginx:1.27`,
      `${reg.host}/k8s/pause:3.10`,
    ]);
    const t = ['--tls-verify=false'];
    expect(await inspect(`${reg.host}/k8s/calico/node:v3.30.3`, t)).toBe(calico.digest);
    expect(await inspect(`${reg.host}/k8s/pause:3.10`, t)).toBe(pause.digest);
    expect(await inspect(`${reg.host}/k8s/library/nginx:1.27`, t)).toBe(nginx.digest);
    // Pull everything back, every platform.
    await run('skopeo', [
      'copy',
      '--all',
      '--src-tls-verify=false',
      `docker://${reg.host}/k8s/calico/node:v3.30.3`,
      `oci:${path.join(tmp, 'back')}:x`,
    ]);
    const idx = JSON.parse(await fs.readFile(path.join(tmp, 'back', 'index.json'), 'utf8'));
    expect(idx.manifests[0].digest).toBe(calico.digest);

    const again = await pushImages({ sources: [source], target, insecure: true });
    expect(again.counts).toMatchObject({ pushed: 0, present: 4, blobsUploaded: 0 });
    expect(uploaded).toBe(
      new Set(
        [...calico.blobs.keys(), ...pause.blobs.keys(), ...nginx.blobs.keys()].filter(
          (d) =>
            ![
              calico.digest,
              pause.digest,
              ...calico.platforms.values(),
              ...pause.platforms.values(),
              nginx.digest,
            ].includes(d),
        ),
      ).size,
    );
  });

  it('uploads in chunks when blobs exceed the chunk size, and the result pulls', async () => {
    const reg = new DockerRegistry(path.join(tmp, 'r2'));
    regs.push(reg);
    await reg.start();
    const s = await pushImages({
      sources: [source],
      target: parsePushTarget(reg.host),
      insecure: true,
      chunkSize: 64 * 1024,
    });
    expect(s.counts.failed).toBe(0);
    await run('skopeo', [
      'copy',
      '--all',
      '--src-tls-verify=false',
      `docker://${reg.host}/calico/node:v3.30.3`,
      `oci:${path.join(tmp, 'back2')}:x`,
    ]);
    expect(await inspect(`${reg.host}/calico/node:v3.30.3`, ['--tls-verify=false'])).toBe(calico.digest);
    const forced = await pushImages({
      sources: [source],
      target: parsePushTarget(`${reg.host}/all-chunked`),
      insecure: true,
      alwaysChunked: true,
    });
    expect(forced.counts.failed).toBe(0);
    expect(await inspect(`${reg.host}/all-chunked/pause:3.10`, ['--tls-verify=false'])).toBe(pause.digest);
  });

  it('speaks TLS with a custom CA and Basic auth, and refuses a wrong password with an AUTH error', async () => {
    const tls = await ensureServerCert(path.join(tmp, 'tls'), ['127.0.0.1', 'localhost']);
    const hash = execFileSync('python3', [
      '-W',
      'ignore',
      '-c',
      "import crypt; print(crypt.crypt('s3cret', crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))",
    ])
      .toString()
      .trim();
    const htpasswd = path.join(tmp, 'htpasswd');
    await fs.writeFile(htpasswd, `pusher:${hash}\n`);
    const reg = new DockerRegistry(
      path.join(tmp, 'r3'),
      { cert: path.join(tmp, 'tls', 'server.crt'), key: path.join(tmp, 'tls', 'server.key') },
      { htpasswd },
    );
    regs.push(reg);
    await reg.start();
    const good = new CredentialStore({ [reg.host]: { username: 'pusher', password: 's3cret' } });
    const s = await pushImages({
      sources: [source],
      target: parsePushTarget(`${reg.host}/site`),
      ca: tls.ca!,
      credentials: good,
    });
    expect(s.images.map((i) => i.error).filter(Boolean)).toEqual([]);
    expect(s.counts).toMatchObject({ pushed: 4, failed: 0 });
    await fs.mkdir(path.join(tmp, 'certs'), { recursive: true });
    await fs.writeFile(path.join(tmp, 'certs', 'ca.crt'), tls.ca!);
    expect(
      await inspect(`${reg.host}/site/pause:3.10`, [
        '--cert-dir',
        path.join(tmp, 'certs'),
        '--creds',
        'pusher:s3cret',
      ]),
    ).toBe(pause.digest);
    const bad = new CredentialStore({ [reg.host]: { username: 'pusher', password: 'wrong' } });
    await expect(
      pushImages({
        sources: [source],
        target: parsePushTarget(`${reg.host}/site`),
        ca: tls.ca!,
        credentials: bad,
      }),
    ).rejects.toMatchObject({ code: 'AUTH' });
    // Without the CA the certificate is refused, with a hint.
    await expect(
      pushImages({ sources: [source], target: parsePushTarget(reg.host), credentials: good }),
    ).rejects.toMatchObject({ code: 'NETWORK', hint: expect.stringContaining('--ca') });
  });

  it('gets Bearer tokens from the registry’s token service', async () => {
    const reg = new DockerRegistry(path.join(tmp, 'r4'));
    regs.push(reg);
    await reg.start();
    const front = await TokenAuthRegistry.start({ upstream: reg.host, users: { ci: 'tok-pass' } });
    try {
      const creds = new CredentialStore({ [front.host]: { username: 'ci', password: 'tok-pass' } });
      const s = await pushImages({
        sources: [source],
        target: parsePushTarget(`${front.host}/proj`),
        insecure: true,
        credentials: creds,
      });
      expect(s.counts).toMatchObject({ pushed: 4, failed: 0 });
      expect(front.tokenRequests).toBeGreaterThan(0);
      expect(await inspect(`${reg.host}/proj/calico/node:v3.30.3`, ['--tls-verify=false'])).toBe(
        calico.digest,
      );
    } finally {
      await front.close();
    }
  });

  it('ferry push (CLI) prints a JSON summary and exits 0, and refuses a malformed target', async () => {
    const { runCli } = await import('../../../src-main/cli/main.js');
    const { PassThrough } = await import('node:stream');
    const reg = new DockerRegistry(path.join(tmp, 'r5'));
    regs.push(reg);
    await reg.start();
    const out = new PassThrough();
    let text = '';
    out.on('data', (c) => (text += c));
    const env = { ...process.env, FERRY_CONFIG_DIR: path.join(tmp, 'cfg'), HOME: tmp };
    const code = await runCli(
      [
        'push',
        '--json',
        '--to',
        `${reg.host}/kubespray`,
        '--bundle',
        path.join(tmp, 'b'),
        '--allow-unsigned',
        '--insecure',
      ],
      {
        stdout: out,
        stderr: new PassThrough(),
        env,
        signal: new AbortController().signal,
      },
    );
    expect(code).toBe(0);
    const summary = JSON.parse(text);
    expect(summary.counts).toMatchObject({ pushed: 4, failed: 0 });
    expect(await inspect(`${reg.host}/kubespray/calico/node:v3.30.3`, ['--tls-verify=false'])).toBe(
      calico.digest,
    );
    const usage = await runCli(['push', '--to', 'not a registry', '--bundle', path.join(tmp, 'b')], {
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      env,
      signal: new AbortController().signal,
    });
    expect(usage).toBe(2);
  });

  it('pushes an index whose bundle holds only some platforms as a reduced index, and says so', async () => {
    const img = makeImage({ platforms: ['linux/amd64', 'linux/arm64', 'linux/s390x'] });
    const dir = path.join(tmp, 'partial');
    await writeTestBundle(dir, {
      images: [
        { ref: 'quay.io/cilium/cilium:v1.18.4', image: img, omitBlobs: [img.platforms.get('linux/s390x')!] },
      ],
    });
    const src = (await openVerifiedBundle(dir, { allowUnsigned: true, trusted: [] })).source;
    const reg = new DockerRegistry(path.join(tmp, 'r6'));
    regs.push(reg);
    await reg.start();
    const s = await pushImages({ sources: [src], target: parsePushTarget(reg.host), insecure: true });
    expect(s.counts).toMatchObject({ pushed: 1, failed: 0 });
    const item = s.images[0];
    expect(item.reducedIndex).toMatchObject({ upstreamDigest: img.digest, platforms: 2 });
    const raw = JSON.parse(
      await run('skopeo', [
        'inspect',
        '--raw',
        '--tls-verify=false',
        `docker://${reg.host}/cilium/cilium:v1.18.4`,
      ]),
    );
    expect(raw.manifests.map((m: { digest: string }) => m.digest).sort()).toEqual(
      [img.platforms.get('linux/amd64'), img.platforms.get('linux/arm64')].sort(),
    );
    expect(
      await inspect(`${reg.host}/cilium/cilium:v1.18.4`, ['--tls-verify=false', '--override-arch', 'arm64']),
    ).toBe(item.reducedIndex!.digest);
    const again = await pushImages({ sources: [src], target: parsePushTarget(reg.host), insecure: true });
    expect(again.counts.present).toBe(1);
  });

  it('pushes from a bundle whose blobs are stored split (FAT32 media)', async () => {
    const img = makeImage({ platforms: ['linux/amd64'], layerBytes: 300 * 1024 });
    const dir = path.join(tmp, 'split');
    await writeTestBundle(dir, { images: [{ ref: 'quay.io/a/split:1', image: img }] });
    const layers = [...img.blobs].filter(([, b]) => b[0] === 0x1f).map(([d]) => ociBlobPath(d));
    await splitBundleFiles(dir, layers, 100 * 1024);
    const src = (await openVerifiedBundle(dir, { allowUnsigned: true, trusted: [] })).source;
    const reg = new DockerRegistry(path.join(tmp, 'r7'));
    regs.push(reg);
    await reg.start();
    const s = await pushImages({
      sources: [src],
      target: parsePushTarget(reg.host),
      insecure: true,
      chunkSize: 128 * 1024,
    });
    expect(s.counts).toMatchObject({ pushed: 1, failed: 0 });
    await run('skopeo', [
      'copy',
      '--src-tls-verify=false',
      `docker://${reg.host}/a/split:1`,
      `oci:${path.join(tmp, 'back-split')}:x`,
    ]);
    expect(await inspect(`${reg.host}/a/split:1`, ['--tls-verify=false'])).toBe(img.digest);
  });
});
