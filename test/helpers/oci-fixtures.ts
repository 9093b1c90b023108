import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { ustar, type TarFile } from './ustar.js';
import {
  BundleWriter,
  filePathForUrl,
  ociBlobPath,
  type Manifest,
  type ManifestSigner,
} from '../../src-main/core/bundle/index.js';

/**
 * Real multi-arch OCI images made from scratch for tests: gzip tar layers with random content,
 * a config whose diff_ids match (containerd checks them when it unpacks), one manifest per
 * platform and an image index — written with BundleWriter into a bundle's images/ layout with
 * matching image artifacts, the way fetch writes them.
 */

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

export const sha256 = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

/** A tar of regular files (dated 2024-01-01, as a real layer is dated). */
export function makeTar(files: TarFile[]): Buffer {
  return ustar(files, Math.floor(Date.UTC(2024, 0, 1) / 1000));
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
}

export interface TestImage {
  /** Digest of the top object (index, or the manifest for a single-platform image). */
  digest: string;
  mediaType: string;
  size: number;
  /** Every blob of the image by digest: index, manifests, configs, layers. */
  blobs: Map<string, Buffer>;
  /** Per platform: its manifest digest. */
  platforms: Map<string, string>;
}

export interface ImageSpec {
  platforms?: string[];
  layers?: number;
  layerBytes?: number;
  /** Single-platform image without an index. */
  single?: boolean;
}

export function makeImage(spec: ImageSpec = {}): TestImage {
  const platforms = spec.single
    ? [spec.platforms?.[0] ?? 'linux/amd64']
    : (spec.platforms ?? ['linux/amd64', 'linux/arm64']);
  const blobs = new Map<string, Buffer>();
  const put = (b: Buffer) => {
    const d = sha256(b);
    blobs.set(d, b);
    return d;
  };
  const manifests: Descriptor[] = [];
  const perPlatform = new Map<string, string>();
  for (const plat of platforms) {
    const [os, architecture, variant] = plat.split('/');
    const layers: Descriptor[] = [];
    const diffIds: string[] = [];
    for (let i = 0; i < (spec.layers ?? 2); i++) {
      const tar = makeTar([
        { name: `data/${plat.replace(/\//g, '-')}-${i}.bin`, content: randomBytes(spec.layerBytes ?? 2048) },
      ]);
      diffIds.push(sha256(tar));
      const gz = gzipSync(tar);
      layers.push({ mediaType: OCI_LAYER, digest: put(gz), size: gz.length });
    }
    const config = Buffer.from(
      JSON.stringify({
        architecture,
        os,
        ...(variant ? { variant } : {}),
        config: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['/bin/true'] },
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: diffIds.map(() => ({ created_by: 'ferry test fixture' })),
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, digest: put(config), size: config.length },
        layers,
      }),
    );
    const md = put(manifest);
    perPlatform.set(plat, md);
    manifests.push({
      mediaType: OCI_MANIFEST,
      digest: md,
      size: manifest.length,
      platform: { os, architecture, ...(variant ? { variant } : {}) },
    });
  }
  if (spec.single) {
    const only = manifests[0];
    return { digest: only.digest, mediaType: OCI_MANIFEST, size: only.size, blobs, platforms: perPlatform };
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
  const digest = put(index);
  return { digest, mediaType: OCI_INDEX, size: index.length, blobs, platforms: perPlatform };
}

export interface BundleSpec {
  images?: Array<{ ref: string; image: TestImage; key?: string; omitBlobs?: string[] }>;
  files?: Array<{ url: string; content: Buffer; key?: string; arch?: string }>;
  kubespray?: { version: string; tarball?: Buffer; arches?: string[] };
  signer?: ManifestSigner | undefined;
  /** plan.json (what fetch records), filed under the meta:plan artifact. */
  plan?: unknown;
}

/** Write a finished bundle folder holding the given images and files. */
export async function writeTestBundle(dir: string, spec: BundleSpec): Promise<Manifest> {
  const w = await BundleWriter.open(dir);
  if (spec.kubespray)
    await w.setKubespray({
      version: spec.kubespray.version,
      arches: spec.kubespray.arches ?? ['amd64', 'arm64'],
    });
  for (const img of spec.images ?? []) {
    const paths: string[] = [];
    for (const [d, b] of img.image.blobs) {
      if (img.omitBlobs?.includes(d)) continue;
      await w.addBlobBytes(b);
      paths.push(ociBlobPath(d));
    }
    await w.addArtifact({
      id: `image:${img.ref}`,
      kind: 'image',
      key: img.key ?? img.ref.split('/').pop()!.split(':')[0],
      ref: img.ref,
      platforms: [...img.image.platforms.keys()],
      digest: img.image.digest,
      mediaType: img.image.mediaType,
      size: img.image.size,
      paths,
    });
  }
  for (const f of spec.files ?? []) {
    const rel = filePathForUrl(f.url);
    const e = await w.addBytes(rel, f.content);
    await w.addArtifact({
      id: `file:${f.url}`,
      kind: 'file',
      key: f.key ?? rel.split('/').pop()!,
      url: f.url,
      ...(f.arch ? { arch: f.arch } : {}),
      checksum: `sha256:${e.sha256}`,
      paths: [rel],
    });
  }
  if (spec.kubespray?.tarball) {
    const rel = `kubespray/kubespray-${spec.kubespray.version}.tar.gz`;
    await w.addBytes(rel, spec.kubespray.tarball);
    await w.addArtifact({
      id: `kubespray:${spec.kubespray.version}`,
      kind: 'kubespray',
      version: spec.kubespray.version,
      paths: [rel],
    });
  }
  if (spec.plan !== undefined) {
    await w.addBytes('plan.json', JSON.stringify(spec.plan, null, 2));
    await w.addArtifact({ id: 'meta:plan', kind: 'meta', name: 'Plan', paths: ['plan.json'] });
  }
  return w.finalize({ signer: spec.signer });
}

/** A plain OCI layout (not a bundle) with the images, for skopeo's oci: transport. */
export async function writeOciLayout(
  dir: string,
  images: Array<{ ref: string; image: TestImage }>,
): Promise<void> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  await fs.mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  await fs.writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const manifests = [];
  for (const { ref, image } of images) {
    for (const [d, b] of image.blobs) await fs.writeFile(path.join(dir, 'blobs', 'sha256', d.slice(7)), b);
    manifests.push({
      mediaType: image.mediaType,
      digest: image.digest,
      size: image.size,
      annotations: { 'org.opencontainers.image.ref.name': ref },
    });
  }
  await fs.writeFile(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
}

/** Split bundle files into parts the way export does on FAT32 media, and rewrite the (unsigned) manifest. */
export async function splitBundleFiles(dir: string, rels: string[], partSize: number): Promise<void> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const { MANIFEST_FILE, parseManifest, serializeManifest } =
    await import('../../src-main/core/bundle/index.js');
  const { partPath } = await import('../../src-main/core/media/export/index.js');
  const m = parseManifest(await fs.readFile(path.join(dir, MANIFEST_FILE)));
  for (const f of m.files) {
    if (!rels.includes(f.path)) continue;
    const whole = await fs.readFile(path.join(dir, ...f.path.split('/')));
    const parts = [];
    for (let i = 0, off = 0; off < whole.length; i++, off += partSize) {
      const bytes = whole.subarray(off, off + partSize);
      const p = partPath(f.path, i);
      await fs.writeFile(path.join(dir, ...p.split('/')), bytes);
      parts.push({ path: p, size: bytes.length, sha256: sha256(bytes).slice(7) });
    }
    await fs.rm(path.join(dir, ...f.path.split('/')));
    f.parts = parts;
  }
  await fs.writeFile(path.join(dir, MANIFEST_FILE), serializeManifest(m));
}
