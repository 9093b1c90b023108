import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyStore } from '../../../src-main/core/bundle/keys/index.js';
import { verifyBundle } from '../../../src-main/core/bundle/verify/index.js';
import { makeKeyStore, makeSampleBundle, tempDir } from '../../helpers/bundle-fixtures.js';

let env: NodeJS.ProcessEnv;
let signer: Awaited<ReturnType<KeyStore['signer']>>;
let work: string;

beforeAll(async () => {
  const ks = await makeKeyStore('connected-laptop');
  env = ks.env;
  signer = await ks.store.signer();
  work = await tempDir();
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('verifyBundle onChecking', () => {
  it('announces every artifact with bytes to hash once, after the plan and before its result', async () => {
    const b = await makeSampleBundle(path.join(work, 'b'), { signer });
    const events: string[] = [];
    const r = await verifyBundle(b.dir, {
      keyStore: KeyStore.fromEnv(env),
      onPlan: () => events.push('plan'),
      onChecking: (id) => events.push(`checking ${id}`),
      onArtifact: (a) => events.push(`done ${a.id}`),
    });
    expect(r.verified).toBe(true);
    expect(events[0]).toBe('plan');
    const withFiles = r.artifacts.filter((a) => a.bytes > 0).map((a) => a.id);
    const checked = events.filter((e) => e.startsWith('checking ')).map((e) => e.slice(9));
    expect([...checked].sort()).toEqual([...new Set(withFiles)].sort());
    for (const id of checked)
      expect(events.indexOf(`checking ${id}`)).toBeLessThan(events.indexOf(`done ${id}`));
  });
});
