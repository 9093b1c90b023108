// Builds a signed bundle of random data for bench/verify: files of mixed sizes (a few large
// binaries, many small ones, like a real Kubespray bundle) written straight to disk in 4 MiB chunks.
import { randomFillSync } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { BundleWriter, filePathForUrl } from '../../src-main/core/bundle/index.js';
import { hashFile } from '../../src-main/core/base/fs/atomic.js';
import { KeyStore } from '../../src-main/core/bundle/keys/index.js';

const [dir, totalMbArg] = process.argv.slice(2);
const totalBytes = Number(totalMbArg ?? 3072) * 1024 * 1024;
const ks = KeyStore.fromEnv();
if (!(await ks.hasOwnKey())) await ks.generate({ name: 'bench' });
const w = await BundleWriter.open(dir);
// Sizes: 40% in 4 large files, 40% in 16 medium, 20% in 200 small.
const sizes = [
  ...Array(4).fill(Math.floor((totalBytes * 0.4) / 4)),
  ...Array(16).fill(Math.floor((totalBytes * 0.4) / 16)),
  ...Array(200).fill(Math.floor((totalBytes * 0.2) / 200)),
];
const chunk = Buffer.alloc(4 << 20);
for (const [i, size] of sizes.entries()) {
  const url = `https://bench.example/releases/artifact-${i}.bin`;
  const rel = filePathForUrl(url);
  const tmp = w.tempPath('bench');
  const out = createWriteStream(tmp);
  for (let left = size; left > 0; left -= chunk.length) {
    randomFillSync(chunk);
    if (!out.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const h = await hashFile(tmp);
  await w.commitFile(tmp, rel, h);
  await w.addArtifact({ id: `file:${url}`, kind: 'file', key: `artifact-${i}`, url, paths: [rel] });
}
await w.finalize({ signer: await ks.signer() });
const st = await fs.stat(path.join(dir, 'manifest.json'));
console.log(`bundle ready: ${sizes.length} files, manifest ${st.size} bytes`);
