import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { ustar } from '../ustar.js';

const run = promisify(execFile);

/** A gzip tar layer holding one file of random bytes (random, so every layer is distinct). */
export function makeLayer(fileName = 'data.bin', size = 64 * 1024): Buffer {
  const content = randomBytes(size);
  return gzipSync(ustar([{ name: fileName.slice(0, 99), content }]), { level: 1 });
}

export interface Blob {
  digest: string;
  size: number;
  bytes: Buffer;
}

export function blob(bytes: Buffer): Blob {
  return { digest: 'sha256:' + createHash('sha256').update(bytes).digest('hex'), size: bytes.length, bytes };
}

export interface TestImageSpec {
  /** e.g. ['linux/amd64', 'linux/arm64'] — more than one makes an image index. */
  platforms: string[];
  /** Layers of this image's own (per platform). */
  layers?: number;
  layerSize?: number;
  /** Layers shared with other images (the same bytes → the same digest), placed first. */
  shared?: Buffer[];
  /** Docker media types (manifest list + schema 2) instead of OCI. */
  docker?: boolean;
}

export interface BuiltImage {
  /** OCI layout directory (skopeo's oci: source). */
  layout: string;
  tag: string;
  /** Digest of the top manifest or index. */
  digest: string;
  /** Per platform: manifest digest, config and layer digests. */
  platforms: Record<string, { manifest: string; config: string; layers: string[] }>;
  blobs: Blob[];
}

const OCI = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
};
const DOCKER = {
  index: 'application/vnd.docker.distribution.manifest.list.v2+json',
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
};

/** Write a multi- or single-platform image as an OCI layout, by hand. */
export function buildImage(dir: string, tag: string, spec: TestImageSpec): BuiltImage {
  const mt = spec.docker ? DOCKER : OCI;
  const blobs: Blob[] = [];
  const put = (b: Blob) => {
    blobs.push(b);
    const p = path.join(dir, 'blobs', 'sha256', b.digest.slice(7));
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, b.bytes);
    return b;
  };
  const platforms: BuiltImage['platforms'] = {};
  const entries: unknown[] = [];
  for (const plat of spec.platforms) {
    const [os, architecture, variant] = plat.split('/');
    const layers = [
      ...(spec.shared ?? []),
      ...Array.from({ length: spec.layers ?? 2 }, (_, i) => makeLayer(`f${i}.bin`, spec.layerSize)),
    ].map((l) => put(blob(l)));
    const config = put(
      blob(
        Buffer.from(
          JSON.stringify({
            architecture,
            os,
            ...(variant ? { variant } : {}),
            config: { Cmd: ['/bin/true'] },
            rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
          }),
        ),
      ),
    );
    const manifest = put(
      blob(
        Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: mt.manifest,
            config: { mediaType: mt.config, digest: config.digest, size: config.size },
            layers: layers.map((l) => ({ mediaType: mt.layer, digest: l.digest, size: l.size })),
          }),
        ),
      ),
    );
    platforms[plat] = {
      manifest: manifest.digest,
      config: config.digest,
      layers: layers.map((l) => l.digest),
    };
    entries.push({
      mediaType: mt.manifest,
      digest: manifest.digest,
      size: manifest.size,
      platform: { os, architecture, ...(variant ? { variant } : {}) },
    });
  }
  let top: Blob;
  let topType: string;
  if (spec.platforms.length > 1) {
    top = put(
      blob(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: mt.index, manifests: entries }))),
    );
    topType = mt.index;
  } else {
    const e = entries[0] as { digest: string };
    top = blobs.find((b) => b.digest === e.digest)!;
    topType = mt.manifest;
  }
  fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: topType,
          digest: top.digest,
          size: top.size,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  return { layout: dir, tag, digest: top.digest, platforms, blobs };
}

/** Push an OCI layout to a registry with skopeo, keeping every digest (--all keeps the index). */
export async function pushImage(img: BuiltImage, registryHost: string, repoAndTag: string): Promise<void> {
  await run('skopeo', [
    'copy',
    '--all',
    '--preserve-digests',
    '--dest-tls-verify=false',
    `oci:${img.layout}:${img.tag}`,
    `docker://${registryHost}/${repoAndTag}`,
  ]);
}

/**
 * Push with plain distribution API calls (monolithic blob uploads, then manifests, children
 * first). skopeo's oci: transport ignores index.json entries with Docker media types, so
 * Docker-typed test images take this path.
 */
export async function pushRaw(img: BuiltImage, registryHost: string, repoAndTag: string): Promise<void> {
  const i = repoAndTag.lastIndexOf(':');
  const repo = repoAndTag.slice(0, i);
  const tag = repoAndTag.slice(i + 1);
  const base = `http://${registryHost}/v2/${repo}`;
  const manifests = new Set<string>([img.digest, ...Object.values(img.platforms).map((p) => p.manifest)]);
  for (const b of img.blobs) {
    if (manifests.has(b.digest)) continue;
    const start = await fetch(`${base}/blobs/uploads/`, { method: 'POST' });
    if (start.status !== 202) throw new Error(`upload start: ${start.status}`);
    const loc = new URL(start.headers.get('location')!, base);
    loc.searchParams.set('digest', b.digest);
    const put = await fetch(loc, {
      method: 'PUT',
      body: new Uint8Array(b.bytes),
      headers: { 'content-type': 'application/octet-stream' },
    });
    if (put.status !== 201) throw new Error(`blob ${b.digest}: ${put.status} ${await put.text()}`);
  }
  const putManifest = async (b: Blob, ref: string) => {
    const mt = JSON.parse(b.bytes.toString('utf8')).mediaType as string;
    const res = await fetch(`${base}/manifests/${ref}`, {
      method: 'PUT',
      body: new Uint8Array(b.bytes),
      headers: { 'content-type': mt },
    });
    if (res.status !== 201) throw new Error(`manifest ${ref}: ${res.status} ${await res.text()}`);
  };
  for (const p of Object.values(img.platforms))
    if (p.manifest !== img.digest)
      await putManifest(
        img.blobs.find((b) => b.digest === p.manifest)!,
        p.manifest,
      );
  await putManifest(
    img.blobs.find((b) => b.digest === img.digest)!,
    tag,
  );
}

/** What the registry says about an image, as `skopeo inspect --raw` prints it. */
export async function inspectRaw(ref: string): Promise<Buffer> {
  const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], {
    encoding: 'buffer',
    maxBuffer: 16 << 20,
  });
  return stdout as unknown as Buffer;
}

export function sha256(b: Buffer): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}
