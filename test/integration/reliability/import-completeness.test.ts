import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/main.js';
import {
  MANIFEST_FILE,
  SIGNATURE_FILE,
  parseManifest,
  serializeManifest,
} from '../../../src-main/core/bundle/manifest.js';
import { artifactName } from '../../../src-main/core/bundle/verify/verify-bundle.js';
import {
  captureStreams,
  makeKeyStore,
  makeSampleBundle,
  tempDir,
  type SampleBundle,
} from '../../helpers/bundle-fixtures.js';

let work: string;
let env: NodeJS.ProcessEnv;
let sample: SampleBundle;
let signer: Awaited<ReturnType<Awaited<ReturnType<typeof makeKeyStore>>['store']['signer']>>;

beforeAll(async () => {
  work = await tempDir('rel-media-complete-');
  const ks = await makeKeyStore('connected-laptop');
  env = { ...ks.env, FERRY_DATA_DIR: path.join(work, 'data') };
  signer = await ks.store.signer();
  sample = await makeSampleBundle(path.join(work, 'bundle'), { signer });
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function cli(args: string[]) {
  const io = captureStreams();
  const code = await runCli(args, { ...io, env, signal: new AbortController().signal });
  return { code, out: io.stdout.text(), err: io.stderr.text() };
}

describe('import and verify agree on completeness (issue 12, item 10)', () => {
  it('a re-signed manifest whose file list omits a needed file is MISSING for both, exit 1', async () => {
    const dir = path.join(work, 'resigned');
    await fs.cp(sample.dir, dir, { recursive: true });
    const m = parseManifest(await fs.readFile(path.join(dir, MANIFEST_FILE)));
    const dropped = sample.files[1].path;
    const victim = m.artifacts.find((a) => a.paths.includes(dropped))!;
    expect(victim).toBeDefined();
    const bytes = serializeManifest({ ...m, files: m.files.filter((f) => f.path !== dropped) });
    await fs.writeFile(path.join(dir, MANIFEST_FILE), bytes);
    await fs.writeFile(path.join(dir, SIGNATURE_FILE), Buffer.from(await signer!.sign(bytes)));
    await fs.rm(path.join(dir, ...dropped.split('/')));

    const v = await cli(['verify', dir]);
    expect(v.code).toBe(1);
    expect(v.out).toMatch(/MISSING/);

    const imp = await cli(['import', dir]);
    expect(imp.code).toBe(1);
    expect(imp.out).toMatch(/INCOMPLETE/);
    expect(imp.out).toContain(`MISSING  ${artifactName(victim)}`);
    expect(imp.out).toMatch(/not listed in the manifest/);

    const js = JSON.parse((await cli(['import', dir, '--json'])).out);
    expect(js.status).toBe('incomplete');
    expect(js.artifacts.find((a: { id: string }) => a.id === victim.id).state).toBe('missing');
    // The store agrees: the bundle is recorded incomplete and is not offered to serve.
    const ls = await cli(['store', 'ls']);
    expect(ls.out).toMatch(/INCOMPLETE/);
    expect(ls.out).not.toMatch(/\bCOMPLETE\b/);
  });
});
