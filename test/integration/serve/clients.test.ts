import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openVerifiedBundle } from '../../../src-main/core/serve/verified-source.js';
import { OfflineServer } from '../../../src-main/core/serve/server.js';
import { ensureServerCert, type TlsMaterial } from '../../../src-main/core/serve/tls/ca.js';
import { makeImage, writeOciLayout, writeTestBundle, type TestImage } from '../../helpers/oci-fixtures.js';
import { lacks, lacksCondition } from '../../helpers/tools.js';
import { Containerd, DockerRegistry, run } from './tools.js';

/**
 * Real clients against `ferry serve`: skopeo, podman and containerd pull multi-arch images by
 * Kubespray-style names and (containerd) by original names through a hosts.toml mirror, over
 * HTTP and over TLS with Ferry's CA. The same images pushed into Debian's docker-registry are
 * the "upstream": every digest pulled from Ferry equals the one that registry serves.
 */

const isRoot = process.getuid?.() === 0;

describe.skipIf(
  lacks('skopeo', 'podman', 'containerd', 'ctr', 'docker-registry') ||
    lacksCondition(!isRoot, 'root (containerd runs as root)'),
)('real clients pull from ferry serve', () => {
  let tmp: string;
  let calico: TestImage;
  let pause: TestImage;
  let nginx: TestImage;
  let http: OfflineServer;
  let https: OfflineServer;
  let tls: TlsMaterial;
  let upstream: DockerRegistry;
  let ctrd: Containerd;
  const log: string[] = [];
  const H = () => http.registryHost;
  const S = () => https.registryHost;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-clients-'));
    calico = makeImage({ platforms: ['linux/amd64', 'linux/arm64'], layers: 3, layerBytes: 64 * 1024 });
    pause = makeImage({ platforms: ['linux/amd64', 'linux/arm64', 'linux/arm/v7'] });
    nginx = makeImage({ platforms: ['linux/amd64'], single: true });
    const images = [
      { ref: 'quay.io/calico/node:v3.30.3', image: calico },
      { ref: 'registry.k8s.io/pause:3.10', image: pause },
      { ref: 'docker.io/library/nginx:1.27', image: nginx },
    ];
    await writeTestBundle(path.join(tmp, 'bundle'), { images });
    const v = await openVerifiedBundle(path.join(tmp, 'bundle'), { allowUnsigned: true, trusted: [] });
    http = await OfflineServer.start({
      sources: [v.source],
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
      advertise: '127.0.0.1',
      onRequest: (r) => log.push(r.path),
    });
    tls = await ensureServerCert(path.join(tmp, 'tls'), ['localhost', '127.0.0.1']);
    https = await OfflineServer.start({
      sources: [v.source],
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
      tls,
      advertise: '127.0.0.1',
    });
    await fs.mkdir(path.join(tmp, 'certs', S()), { recursive: true });
    await fs.writeFile(path.join(tmp, 'certs', S(), 'ca.crt'), tls.ca!);
    await fs.writeFile(path.join(tmp, 'certdir-ca.crt'), tls.ca!);
    // The upstream: the same images in a real registry, pushed from a plain OCI layout by skopeo.
    upstream = new DockerRegistry(path.join(tmp, 'upstream'));
    await upstream.start();
    await writeOciLayout(path.join(tmp, 'layout'), images);
    for (const { ref } of images) {
      const name = ref.replace(/^[^/]+\//, '');
      await run('skopeo', [
        'copy',
        '--all',
        '--dest-tls-verify=false',
        `oci:${path.join(tmp, 'layout')}:${ref}`,
        `docker://${upstream.host}/${name}`,
      ]);
    }
    ctrd = new Containerd(path.join(tmp, 'ctrd'));
    await ctrd.start();
  });

  afterAll(async () => {
    await ctrd?.stop();
    await upstream?.stop();
    await http?.stop();
    await https?.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const digestFrom = async (host: string, name: string) =>
    JSON.parse(await run('skopeo', ['inspect', '--tls-verify=false', `docker://${host}/${name}`]))
      .Digest as string;

  it('skopeo inspect sees the upstream digests, by Kubespray-style and by full name', async () => {
    for (const [name, img] of [
      ['calico/node:v3.30.3', calico],
      ['pause:3.10', pause],
      ['library/nginx:1.27', nginx],
    ] as const) {
      const up = await digestFrom(upstream.host, name);
      expect(up).toBe(img.digest);
      expect(await digestFrom(H(), name)).toBe(up);
    }
    expect(await digestFrom(H(), 'quay.io/calico/node:v3.30.3')).toBe(calico.digest);
  });

  it('skopeo copy --all keeps the index digest; a single-platform copy gets that platform’s manifest', async () => {
    const all = path.join(tmp, 'copy-all');
    await run('skopeo', [
      'copy',
      '--all',
      '--src-tls-verify=false',
      `docker://${H()}/calico/node:v3.30.3`,
      `oci:${all}:x`,
    ]);
    const idx = JSON.parse(await fs.readFile(path.join(all, 'index.json'), 'utf8'));
    expect(idx.manifests[0].digest).toBe(calico.digest);
    const one = path.join(tmp, 'copy-arm64');
    await run('skopeo', [
      '--override-arch',
      'arm64',
      'copy',
      '--src-tls-verify=false',
      `docker://${H()}/calico/node:v3.30.3`,
      `oci:${one}:x`,
    ]);
    const idx1 = JSON.parse(await fs.readFile(path.join(one, 'index.json'), 'utf8'));
    expect(idx1.manifests[0].digest).toBe(calico.platforms.get('linux/arm64'));
  });

  it('skopeo over TLS trusts Ferry’s CA through --cert-dir, and refuses without it', async () => {
    const certDir = path.join(tmp, 'certs', S());
    const out = JSON.parse(
      await run('skopeo', ['inspect', '--cert-dir', certDir, `docker://${S()}/pause:3.10`]),
    );
    expect(out.Digest).toBe(pause.digest);
    await expect(run('skopeo', ['inspect', `docker://${S()}/pause:3.10`])).rejects.toThrow(
      /certificate|x509/i,
    );
  });

  it('podman pulls by Kubespray-style name, per architecture, over HTTP and TLS', async () => {
    const root = path.join(tmp, 'podman');
    const base = [
      '--storage-driver',
      'vfs',
      '--root',
      path.join(root, 'r'),
      '--runroot',
      path.join(root, 'rr'),
    ];
    await run('podman', [...base, 'pull', '-q', '--tls-verify=false', `${H()}/calico/node:v3.30.3`]);
    const d1 = (
      await run('podman', [
        ...base,
        'image',
        'inspect',
        '--format',
        '{{.Digest}}',
        `${H()}/calico/node:v3.30.3`,
      ])
    ).trim();
    expect(d1).toBe(calico.digest);
    await run('podman', [
      ...base,
      'pull',
      '-q',
      '--arch',
      'arm64',
      '--cert-dir',
      path.join(tmp, 'certs', S()),
      `${S()}/pause:3.10`,
    ]);
    const arch = (
      await run('podman', [...base, 'image', 'inspect', '--format', '{{.Architecture}}', `${S()}/pause:3.10`])
    ).trim();
    expect(arch).toBe('arm64');
    await run('podman', [...base, 'rmi', '-a', '-f']).catch(() => undefined);
  });

  it('containerd pulls by Kubespray-style name over plain HTTP and gets the upstream digest', async () => {
    await ctrd.ctr([
      'images',
      'pull',
      '--plain-http',
      '--snapshotter',
      'native',
      `${H()}/calico/node:v3.30.3`,
    ]);
    const ls = await ctrd.ctr(['images', 'ls']);
    expect(ls).toContain(`${H()}/calico/node:v3.30.3`);
    expect(ls).toContain(calico.digest);
    // A tag the bundle does not hold fails cleanly as not found (no hang, no server crash).
    await expect(
      ctrd.ctr(['images', 'pull', '--plain-http', '--snapshotter', 'native', `${H()}/calico/node:v0.0.0`]),
    ).rejects.toThrow(/not found/i);
  });

  it('containerd pulls by Kubespray-style name over TLS, trusting the CA through hosts.toml', async () => {
    const hosts = path.join(tmp, 'hosts-self');
    await fs.mkdir(path.join(hosts, S()), { recursive: true });
    await fs.writeFile(
      path.join(hosts, S(), 'hosts.toml'),
      [
        `server = "https://${S()}"`,
        '',
        `[host."https://${S()}"]`,
        '  capabilities = ["pull", "resolve"]',
        `  ca = "${path.join(tmp, 'certdir-ca.crt')}"`,
        '',
      ].join('\n'),
    );
    await ctrd.ctr([
      'images',
      'pull',
      '--hosts-dir',
      hosts,
      '--snapshotter',
      'native',
      '--platform',
      'linux/arm64',
      `${S()}/calico/node:v3.30.3`,
    ]);
    const ls = await ctrd.ctr(['images', 'ls']);
    expect(ls.split('\n').find((l) => l.startsWith(`${S()}/calico/node:v3.30.3 `))).toContain(calico.digest);
    // Without the hosts.toml (no CA; containerd assumes plain HTTP for loopback) the pull fails.
    await expect(
      ctrd.ctr(['images', 'pull', '--snapshotter', 'native', `${S()}/pause:3.10`]),
    ).rejects.toThrow(/failed/);
  });

  it('containerd pulls original names through a hosts.toml mirror (ns=upstream), over HTTP and over TLS with the CA', async () => {
    const hostsHttp = path.join(tmp, 'hosts-http');
    const hostsTls = path.join(tmp, 'hosts-tls');
    for (const [dir, url, ca] of [
      [hostsHttp, `http://${H()}`, undefined],
      [hostsTls, `https://${S()}`, path.join(tmp, 'certdir-ca.crt')],
    ] as const) {
      for (const up of ['quay.io', 'registry.k8s.io', 'docker.io']) {
        await fs.mkdir(path.join(dir, up), { recursive: true });
        // server is a dead loopback port: a pull that missed the mirror fails here instead of leaving the machine.
        await fs.writeFile(
          path.join(dir, up, 'hosts.toml'),
          [
            `server = "http://127.0.0.1:9"`,
            '',
            `[host."${url}"]`,
            '  capabilities = ["pull", "resolve"]',
            ...(ca ? [`  ca = "${ca}"`] : []),
            '',
          ].join('\n'),
        );
      }
    }
    const before = http.status().registry.requests;
    await ctrd.ctr([
      'images',
      'pull',
      '--hosts-dir',
      hostsHttp,
      '--snapshotter',
      'native',
      'quay.io/calico/node:v3.30.3',
    ]);
    expect(http.status().registry.requests).toBeGreaterThan(before);
    expect(log.some((p) => p.startsWith('/v2/calico/node/manifests/v3.30.3?ns=quay.io'))).toBe(true);
    await ctrd.ctr([
      'images',
      'pull',
      '--hosts-dir',
      hostsTls,
      '--snapshotter',
      'native',
      '--platform',
      'linux/arm64',
      'registry.k8s.io/pause:3.10',
    ]);
    await ctrd.ctr([
      'images',
      'pull',
      '--hosts-dir',
      hostsTls,
      '--snapshotter',
      'native',
      'docker.io/library/nginx:1.27',
    ]);
    const ls = await ctrd.ctr(['images', 'ls']);
    const line = (ref: string) => ls.split('\n').find((l) => l.startsWith(ref + ' ')) ?? '';
    expect(line('quay.io/calico/node:v3.30.3')).toContain(calico.digest);
    expect(line('registry.k8s.io/pause:3.10')).toContain(pause.digest);
    expect(line('docker.io/library/nginx:1.27')).toContain(nginx.digest);
  });

  it('the server survived everything and counted it', () => {
    const st = http.status();
    expect(st.running).toBe(true);
    expect(st.registry.requests).toBeGreaterThan(10);
    expect(st.registry.bytes).toBeGreaterThan(64 * 1024);
    expect(st.clients.some((c) => c.address === '127.0.0.1')).toBe(true);
  });
});
