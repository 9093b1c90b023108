/**
 * Import cost as the artifact count grows (issue: 40k artifacts took 20 s, 80k 111 s). Writes a
 * signed bundle of N artifacts over a few hundred small files, imports it, prints seconds and
 * peak RSS per N.
 *   npx tsx bench/import/many-artifacts.ts [N…]   (default 40000 80000 165000)
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { makeManyArtifactBundle } from '../../test/helpers/bundle-fixtures.js';
import { KeyStore } from '../../src-main/core/bundle/keys/index.js';
import { importBundle } from '../../src-main/core/media/import/index.js';

const counts = process.argv.slice(2).map(Number);
for (const n of counts.length ? counts : [40_000, 80_000, 165_000]) {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-many-'));
  const keys = new KeyStore(path.join(tmp, 'keys'));
  await keys.generate();
  await makeManyArtifactBundle(path.join(tmp, 'b'), n, await keys.signer());
  const t0 = process.hrtime.bigint();
  const r = await importBundle(path.join(tmp, 'b'), { store: path.join(tmp, 'store'), keyStore: keys });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    `${n} artifacts: import ${s.toFixed(2)} s, status ${r.status}, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`,
  );
  await fs.rm(tmp, { recursive: true, force: true });
}
