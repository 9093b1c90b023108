/**
 * The loopback upstream world: everything a fetch talks to, built on 127.0.0.1 with no internet.
 * Used by the fetch, serve and e2e tests and by bench/fetch.
 *
 *   const world = await startWorld({ images: { 'library/app:1': { platforms: ['linux/amd64', 'linux/arm64'] } } });
 *   world.registry.host            // '127.0.0.1:PORT' — Debian's docker-registry, plain HTTP
 *   world.ref('library/app:1')     // '127.0.0.1:PORT/library/app:1'
 *   world.images['library/app:1']  // BuiltImage: top digest, per-platform manifest/config/layer digests
 *   world.files.add('/k8s/kubeadm', bytes, [{ kind: 'cut', afterBytes: 1000, times: 1 }])  // → { url, checksum }
 *   world.files.requests / count(path)      // every request the file host saw
 *   makePlan({ files: [...], images: [{ key, ref, platforms }] })   // a Plan aimed at the world
 *   await world.stop()
 *
 * Pieces, usable on their own:
 * - startRegistry(dir, {tls?})     docker-registry on a free port (needs the `docker-registry` package)
 * - buildImage(dir, tag, spec)     an OCI layout written by hand: random gzip tar layers, config,
 *                                  manifest, and an image index for several platforms; `shared`
 *                                  layers give several images the same blobs; `docker: true` uses
 *                                  Docker media types. pushImage() copies it with `skopeo copy --all`;
 *                                  Docker-typed images go up with pushRaw() (skopeo's oci: transport
 *                                  skips Docker media types in index.json).
 * - FileHost.start({tls?})         HTTP(S) file host; faults per path: cut mid-body, error status,
 *                                  429 + Retry-After, slow bytes, stall, no Range, wrong body, redirect
 * - TestProxy.start({username?})   CONNECT + forwarding proxy, optional Basic proxy auth; counts tunnels
 * - TokenAuthRegistry.start({upstream, users?, anonymous?, blobStorage?})  a Bearer-token realm in front
 *                                  of a registry; blobStorage redirects blobs to another origin that
 *                                  records any Authorization header it was (wrongly) sent
 * - makeTestCa(dir)                openssl CA + 127.0.0.1 server certificate
 * - inspectRaw(ref)                `skopeo inspect --raw` of an image
 * Tools needed: docker-registry, skopeo, openssl (tests guard with `lacks(...)`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileHost } from './file-host.js';
import { buildImage, pushImage, pushRaw, type BuiltImage, type TestImageSpec } from './images.js';
import { startRegistry, type TestRegistry } from './registry.js';

export * from './file-host.js';
export * from './images.js';
export * from './net.js';
export * from './plans.js';
export * from './proxy.js';
export * from './registry.js';
export * from './tls.js';
export * from './token-auth.js';

export interface World {
  dir: string;
  registry: TestRegistry;
  files: FileHost;
  images: Record<string, BuiltImage>;
  /** Full reference of a pushed image: '127.0.0.1:PORT/<repoAndTag>'. */
  ref(repoAndTag: string): string;
  /** Build and push one more image. */
  addImage(repoAndTag: string, spec: TestImageSpec): Promise<BuiltImage>;
  stop(): Promise<void>;
}

export async function startWorld(
  opts: { images?: Record<string, TestImageSpec>; registry?: boolean } = {},
): Promise<World> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-world-'));
  const files = await FileHost.start();
  const registry = opts.registry === false ? undefined : await startRegistry(dir);
  const images: Record<string, BuiltImage> = {};
  let n = 0;
  const world: World = {
    dir,
    registry: registry as TestRegistry,
    files,
    images,
    ref: (r) => `${registry?.host}/${r}`,
    async addImage(repoAndTag, spec) {
      if (!registry) throw new Error('this world has no registry');
      const img = buildImage(path.join(dir, `layout-${n++}`), 'img', spec);
      await (spec.docker ? pushRaw : pushImage)(img, registry.host, repoAndTag);
      images[repoAndTag] = img;
      return img;
    },
    async stop() {
      await files.close();
      await registry?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  for (const [r, spec] of Object.entries(opts.images ?? {})) await world.addImage(r, spec);
  return world;
}
