import { randomBytes } from 'node:crypto';
import { existsSync, watch } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyStore } from '../../../src-main/core/bundle/keys/index.js';
import { FileHost, makePlan } from '../../helpers/world/index.js';
import { runFerry, spawnFerry, waitFerry, type FerryRun } from './helpers.js';

/**
 * Issue 12 item 7: `ferry fetch` killed (SIGKILL) in its final write step. `finalize` writes
 * manifest.json, then manifest.json.sig, then removes `.ferry-partial/`; a kill between those
 * left a bundle the rerun called "up to date" (it checked the manifest only) while `verify` kept
 * failing: unsigned, or with the journal left over. The moments are real: the bundle folder is
 * watched (inotify) and the process is killed as the file appears; an attempt whose kill came
 * too late for the moment is run again.
 */

const FILES = 4;
const SIZE = 512 * 1024;
const ATTEMPTS = 25;

type Moment = 'manifest' | 'signature';

describe('fetch killed in its final write step (issue 12 item 7)', () => {
  let tmp: string;
  let host: FileHost;
  let env: NodeJS.ProcessEnv;
  let planFile: string;

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-rel-fetch-crash-'));
    host = await FileHost.start();
    const files = Array.from({ length: FILES }, (_, i) => {
      const f = host.add(`/dl/c${i}.bin`, randomBytes(SIZE));
      return { key: `c${i}`, url: f.url, checksum: f.checksum };
    });
    planFile = path.join(tmp, 'plan.json');
    await fs.writeFile(planFile, JSON.stringify(makePlan({ files })));
    env = {
      PATH: process.env.PATH,
      HOME: tmp,
      FERRY_CONFIG_DIR: path.join(tmp, 'config'),
      FERRY_DATA_DIR: path.join(tmp, 'data'),
    };
    await KeyStore.fromEnv(env).generate({ name: 'rel-fetch-crash' });
  });
  afterAll(async () => {
    await host?.close();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  /** Run a fetch into `out` and SIGKILL it as soon as `file` appears in the folder. */
  async function killWhenAppears(out: string, file: string): Promise<FerryRun> {
    await fs.mkdir(out, { recursive: true });
    const child = spawnFerry(['fetch', '--no-tools', '--plan', planFile, '--out', out], env);
    const watcher = watch(out, (_ev, name) => {
      if (name === file && existsSync(path.join(out, file))) child.kill('SIGKILL');
    });
    try {
      return await waitFerry(child);
    } finally {
      watcher.close();
    }
  }

  const state = (out: string) => ({
    manifest: existsSync(path.join(out, 'manifest.json')),
    signature: existsSync(path.join(out, 'manifest.json.sig')),
    journal: existsSync(path.join(out, '.ferry-partial')),
  });

  it.each<[Moment, string, ReturnType<typeof state>]>([
    ['manifest', 'manifest.json', { manifest: true, signature: false, journal: true }],
    ['signature', 'manifest.json.sig', { manifest: true, signature: true, journal: true }],
  ])('killed when %s appears, the rerun repairs the bundle and verify passes', async (moment, file, want) => {
    const out = path.join(tmp, `bundle-${moment}`);
    let tries = 0;
    let hit = false;
    while (!hit && tries < ATTEMPTS) {
      tries++;
      await fs.rm(out, { recursive: true, force: true });
      const run = await killWhenAppears(out, file);
      // A run that finished before the kill (or was killed before the file) does not count.
      hit = run.signal === 'SIGKILL' && JSON.stringify(state(out)) === JSON.stringify(want);
    }
    expect(hit, `killed at the ${moment} moment within ${ATTEMPTS} attempts`).toBe(true);
    console.info(`${moment}: killed at the moment after ${tries} attempt(s)`);

    // The state the kill left is broken: verify refuses it.
    const broken = await runFerry(['verify', out], env);
    expect(broken.code).not.toBe(0);
    console.info(`${moment}: verify before the rerun exits ${broken.code}`);

    const before = host.requests.length;
    const rerun = await runFerry(['fetch', '--no-tools', '--plan', planFile, '--out', out], env);
    expect(rerun.code, rerun.out + rerun.err).toBe(0);
    expect(rerun.out).not.toContain('up to date');
    expect(rerun.out).toContain('Signed with key');
    // Every file was already in the bundle: the repair downloads nothing.
    expect(host.requests.length).toBe(before);
    expect(state(out)).toEqual({ manifest: true, signature: true, journal: false });
    const verify = await runFerry(['verify', out], env);
    expect(verify.code, verify.out + verify.err).toBe(0);

    // And now it is up to date, and left alone.
    const sig = await fs.readFile(path.join(out, 'manifest.json.sig'));
    const again = await runFerry(['fetch', '--no-tools', '--plan', planFile, '--out', out], env);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain('is up to date');
    expect((await fs.readFile(path.join(out, 'manifest.json.sig'))).equals(sig)).toBe(true);
  });
});
