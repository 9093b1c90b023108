import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/main.js';
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

beforeAll(async () => {
  work = await tempDir('ferry-cli-xfer-');
  const ks = await makeKeyStore('connected-laptop');
  env = { ...ks.env, FERRY_DATA_DIR: path.join(work, 'data') };
  sample = await makeSampleBundle(path.join(work, 'bundle'), { signer: await ks.store.signer() });
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function cli(args: string[]) {
  const io = captureStreams();
  const code = await runCli(args, { ...io, env, signal: new AbortController().signal });
  return { code, out: io.stdout.text(), err: io.stderr.text() };
}

describe('ferry export / import / store on the command line', () => {
  it('exports (forced: /tmp is on the system drive), imports into the default store, lists and gcs it', async () => {
    const to = path.join(work, 'usb', 'kubespray');
    const refused = await cli(['export', sample.dir, '--to', to]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/system drive/);

    const ex = await cli(['export', sample.dir, '--to', to, '--force', '--json']);
    expect(ex.code).toBe(0);
    const res = JSON.parse(ex.out);
    expect(res).toMatchObject({ ok: true, mode: 'folder', signature: 'kept' });

    const imp = await cli(['import', to, '--json']);
    expect(imp.code).toBe(0);
    const rep = JSON.parse(imp.out);
    expect(rep.status).toBe('complete');
    expect(rep.store).toBe(path.join(work, 'data', 'store'));

    const ls = await cli(['store', 'ls', '--json']);
    expect(JSON.parse(ls.out).bundles).toHaveLength(1);
    const human = await cli(['store', 'ls']);
    expect(human.out).toContain('COMPLETE');

    const gc = await cli(['store', 'gc', '--json']);
    expect(JSON.parse(gc.out).removedBlobs).toBe(0);
  });

  it('exits 1 with the damaged artifact named when an import is incomplete', async () => {
    const to = path.join(work, 'usb2', 'b');
    expect((await cli(['export', sample.dir, '--to', to, '--force'])).code).toBe(0);
    const f = path.join(to, ...sample.files[1].path.split('/'));
    const b = await fs.readFile(f);
    b[7] ^= 0xff;
    await fs.writeFile(f, b);
    const r = await cli(['import', to, '--store', path.join(work, 'store2')]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('DAMAGED');
    expect(r.out).toContain(sample.files[1].url);
  });

  it('writes an archive with --archive --split and rejects --split without --archive', async () => {
    expect(
      (await cli(['export', sample.dir, '--to', path.join(work, 'x'), '--split', '1M', '--force'])).code,
    ).toBe(2);
    const r = await cli([
      'export',
      sample.dir,
      '--to',
      path.join(work, 'arch'),
      '--archive',
      '--split',
      '1M',
      '--force',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).archiveParts).toBeGreaterThan(1);
    const imp = await cli([
      'import',
      path.join(work, 'arch'),
      '--store',
      path.join(work, 'store3'),
      '--json',
    ]);
    expect(JSON.parse(imp.out).status).toBe('complete');
  });

  it('lists drives as JSON', async () => {
    const r = await cli(['drives', '--all', '--json']);
    expect(r.code).toBe(0);
    const { drives } = JSON.parse(r.out);
    expect(drives.find((d: { mountPoint: string }) => d.mountPoint === '/')).toMatchObject({ system: true });
  });
});
