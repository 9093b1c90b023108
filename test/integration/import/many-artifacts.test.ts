import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importBundle } from '../../../src-main/core/media/import/index.js';
import { makeKeyStore, makeManyArtifactBundle, tempDir } from '../../helpers/bundle-fixtures.js';

/**
 * Import stays linear in the number of artifacts: the manifest allows about 165k, and an import
 * that looked each artifact up by id took 16 s for 40k (111 s for 80k). 40k artifacts over 300
 * shared files must import well inside the bound below (about 2 s here), and report every one.
 */
describe('import of a bundle with many artifacts', () => {
  let tmp: string;
  afterAll(async () => {
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('imports 40k artifacts in seconds, each reported once', async () => {
    tmp = await tempDir('ferry-many-');
    const { store: keys } = await makeKeyStore('many');
    const n = 40_000;
    await makeManyArtifactBundle(path.join(tmp, 'b'), n, await keys.signer());
    const reported = new Set<string>();
    const t0 = Date.now();
    const r = await importBundle(path.join(tmp, 'b'), {
      store: path.join(tmp, 'store'),
      keyStore: keys,
      onItem: (e) => {
        if (e.type === 'artifact' && e.state === 'good') reported.add(e.id);
      },
    });
    const seconds = (Date.now() - t0) / 1000;
    expect(r.status).toBe('complete');
    expect(reported.size).toBe(n);
    expect(seconds).toBeLessThan(12);
  });
});
