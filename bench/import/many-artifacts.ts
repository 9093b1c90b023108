/**
 * Import cost as the artifact count grows (issue: 40k artifacts took 20 s, 80k 111 s). Writes a
 * signed bundle of N artifacts over a few hundred small files, imports it, prints seconds and
 * peak RSS per N.
 *   npx tsx bench/import/many-artifacts.ts [N…]   (default 40000 80000 165000)
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BundleWriter } from '../../src-main/core/bundle/index.js';
import { KeyStore } from '../../src-main/core/bundle/keys/index.js';
import { importBundle } from '../../src-main/core/media/import/index.js';

const counts = process.argv.slice(2).map(Number);
for (const n of counts.length ? counts : [40_000, 80_000, 165_000]) {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-many-'));
  const keys = new KeyStore(path.join(tmp, 'keys'));
  await keys.generate();
  const w = await BundleWriter.open(path.join(tmp, 'b'));
  await w.setKubespray({ version: 'v2.31.0', kubeVersion: '1.35.4', arches: ['amd64'] });
  const files = 300;
  for (let f = 0; f < files; f++) await w.addBytes(`files/example.test/f${f}`, Buffer.from(`file ${f}\n`));
  for (let i = 0; i < n; i++) {
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
  await w.finalize({ signer: await keys.signer() });
  const t0 = process.hrtime.bigint();
  const r = await importBundle(path.join(tmp, 'b'), { store: path.join(tmp, 'store'), keyStore: keys });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    `${n} artifacts: import ${s.toFixed(2)} s, status ${r.status}, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`,
  );
  await fs.rm(tmp, { recursive: true, force: true });
}
