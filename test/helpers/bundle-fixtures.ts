import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BundleWriter, filePathForUrl } from '../../src-main/core/bundle/index.js';
import type { ManifestSigner } from '../../src-main/core/bundle/index.js';
import { KeyStore } from '../../src-main/core/bundle/keys/index.js';

export async function tempDir(prefix = 'ferry-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export interface SampleBundle {
  dir: string;
  files: Array<{ url: string; path: string; bytes: Buffer }>;
}

/**
 * A small real bundle on disk: a few downloaded files (random bytes), and two images that share
 * a layer blob, so verification has shared paths to deal with.
 */
export async function makeSampleBundle(
  dir: string,
  opts: { signer?: ManifestSigner | undefined; fileSizes?: number[] } = {},
): Promise<SampleBundle> {
  const w = await BundleWriter.open(dir);
  await w.setKubespray({ version: 'v2.31.0', kubeVersion: '1.35.4', arches: ['amd64'] });
  const sizes = opts.fileSizes ?? [1000, 200_000, 3 << 20];
  const files: SampleBundle['files'] = [];
  for (const [i, size] of sizes.entries()) {
    const url = `https://dl.example.test/release/v1/bin/linux/amd64/tool${i}`;
    const rel = filePathForUrl(url);
    const bytes = randomBytes(size);
    await w.addBytes(rel, bytes);
    await w.addArtifact({
      id: `file:${url}`,
      kind: 'file',
      key: `tool${i}`,
      url,
      arch: 'amd64',
      paths: [rel],
    });
    files.push({ url, path: rel, bytes });
  }
  const layer = await w.addBlobBytes(randomBytes(50_000));
  for (const name of ['alpha', 'beta']) {
    const config = await w.addBlobBytes(
      Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', name })),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: config.digest,
          size: config.entry.size,
        },
        layers: [
          {
            mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
            digest: layer.digest,
            size: layer.entry.size,
          },
        ],
      }),
    );
    const m = await w.addBlobBytes(manifest);
    const ref = `registry.example.test/team/${name}:v1`;
    await w.addArtifact({
      id: `image:${ref}`,
      kind: 'image',
      key: name,
      ref,
      platforms: ['linux/amd64'],
      digest: m.digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      size: manifest.length,
      paths: [m.entry.path, config.entry.path, layer.entry.path],
    });
  }
  await w.finalize({ signer: opts.signer });
  return { dir, files };
}

/** A key store in a temp config dir, with a generated key. */
export async function makeKeyStore(name = 'test-side'): Promise<{ store: KeyStore; env: NodeJS.ProcessEnv }> {
  const cfg = await tempDir('ferry-cfg-');
  const env = { ...process.env, FERRY_CONFIG_DIR: cfg };
  const store = KeyStore.fromEnv(env);
  await store.generate({ name });
  return { store, env };
}

/** Captures stdout/stderr of runCli. */
export function captureStreams(): {
  stdout: NodeJS.WritableStream & { text(): string };
  stderr: NodeJS.WritableStream & { text(): string };
} {
  const mk = () => {
    let buf = '';
    const s = {
      write(chunk: string | Buffer) {
        buf += chunk.toString();
        return true;
      },
      text: () => buf,
    };
    return s as unknown as NodeJS.WritableStream & { text(): string };
  };
  return { stdout: mk(), stderr: mk() };
}

/**
 * A signed bundle of `count` file artifacts over `files` small shared files: the shape that makes
 * per-artifact work visible (import, verify) without gigabytes on disk.
 */
export async function makeManyArtifactBundle(
  dir: string,
  count: number,
  signer: ManifestSigner | undefined,
  files = 300,
): Promise<void> {
  const w = await BundleWriter.open(dir);
  await w.setKubespray({ version: 'v2.31.0', kubeVersion: '1.35.4', arches: ['amd64'] });
  for (let f = 0; f < files; f++) await w.addBytes(`files/example.test/f${f}`, Buffer.from(`file ${f}\n`));
  for (let i = 0; i < count; i++) {
    const url = `https://example.test/a${i}`;
    await w.addArtifact({
      id: `file:${url}`,
      kind: 'file',
      key: `a${i}`,
      url,
      arch: 'amd64',
      paths: [`files/example.test/f${i % files}`],
    });
  }
  await w.finalize(signer ? { signer } : {});
}
