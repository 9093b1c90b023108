import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src-main/cli/main.js';
import { hashFile } from '../../../src-main/core/base/fs/atomic.js';
import {
  captureStreams,
  makeKeyStore,
  makeSampleBundle,
  tempDir,
  type SampleBundle,
} from '../../helpers/bundle-fixtures.js';
import { repoRoot } from '../../helpers/tools.js';

/** Imports killed with SIGKILL mid-copy, then another import (issue 12, item 9). */
const MiB = 1 << 20;
let work: string;
let keyEnv: NodeJS.ProcessEnv;
let sample: SampleBundle;
const children: ChildProcess[] = [];

beforeAll(async () => {
  work = await tempDir('rel-media-kill-');
  const ks = await makeKeyStore('connected-laptop');
  keyEnv = ks.env;
  sample = await makeSampleBundle(path.join(work, 'bundle'), {
    signer: await ks.store.signer(),
    fileSizes: [1000, 160 * MiB, 160 * MiB],
  });
}, 120_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await fs.rm(work, { recursive: true, force: true });
});

function ferryImport(dataDir: string): { child: ChildProcess; done: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    // Node itself, not the tsx CLI (which runs the program in a child): SIGKILL must hit the import.
    ['--import', 'tsx', 'src-main/cli/main.ts', 'import', sample.dir],
    { cwd: repoRoot, env: { ...keyEnv, FERRY_DATA_DIR: dataDir }, stdio: 'ignore' },
  );
  children.push(child);
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, done };
}

async function tempFiles(tmp: string): Promise<string[]> {
  return (await fs.readdir(tmp).catch(() => [] as string[])).filter((n) => n.endsWith('.tmp'));
}

/** Resolves once a temp file with some bytes in it exists: the import is mid-copy. */
async function midCopy(tmp: string): Promise<string> {
  const t0 = Date.now();
  while (Date.now() - t0 < 60_000) {
    for (const n of await tempFiles(tmp)) {
      const st = await fs.stat(path.join(tmp, n)).catch(() => undefined);
      if (st && st.size > 4 * MiB) return n;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error('the import never started copying');
}

async function cli(dataDir: string, args: string[]) {
  const io = captureStreams();
  const env = { ...keyEnv, FERRY_DATA_DIR: dataDir };
  const code = await runCli(args, { ...io, env, signal: new AbortController().signal });
  return { code, out: io.stdout.text(), err: io.stderr.text() };
}

/** Every blob in the store has the content its name says. */
async function blobsConsistent(storeDir: string): Promise<number> {
  const dir = path.join(storeDir, 'blobs', 'sha256');
  const names = await fs.readdir(dir);
  for (const n of names) expect((await hashFile(path.join(dir, n))).sha256).toBe(n);
  return names.length;
}

describe('imports killed mid-copy (issue 12, item 9)', () => {
  it('the next import removes what a SIGKILLed import left, never a live one’s temp files', async () => {
    const data = path.join(work, 'data');
    const tmp = path.join(data, 'store', 'tmp');
    const dead: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { child, done } = ferryImport(data);
      await midCopy(tmp);
      child.kill('SIGKILL');
      await done;
      dead.push(...(await tempFiles(tmp)).filter((n) => !dead.includes(n)));
    }
    expect(dead.length).toBeGreaterThan(0);

    // A temp file owned by a process that is still running (as a live import's would be).
    const live = spawn('sleep', ['120'], { stdio: 'ignore' });
    children.push(live);
    const liveName = `${live.pid}-${randomUUID()}.tmp`;
    await fs.writeFile(path.join(tmp, liveName), 'work in progress');

    const r = await cli(data, ['import', sample.dir]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/IMPORTED/);
    const left = await tempFiles(tmp);
    for (const n of dead) expect(left).not.toContain(n);
    expect(left).toEqual([liveName]);
    expect(await blobsConsistent(path.join(data, 'store'))).toBeGreaterThan(2);
    expect((await cli(data, ['store', 'ls'])).out).toMatch(/\bCOMPLETE\b/);
    live.kill('SIGKILL');
  }, 180_000);

  it('an import started while another runs leaves the running one’s temp files alone', async () => {
    const data = path.join(work, 'data-live');
    const tmp = path.join(data, 'store', 'tmp');
    const a = ferryImport(data);
    await midCopy(tmp);
    const b = await cli(data, ['import', sample.dir]);
    // The store is taken: the second import is refused, and the first, whose temp files a cleanup
    // that ignored liveness would delete under it, still commits every blob.
    expect(b.code).not.toBe(0);
    expect(b.err).toMatch(/in use by process/);
    expect(await a.done).toBe(0);
    expect(await tempFiles(tmp)).toEqual([]);
    expect(await blobsConsistent(path.join(data, 'store'))).toBeGreaterThan(2);
    expect((await cli(data, ['store', 'ls'])).out).toMatch(/\bCOMPLETE\b/);
  }, 180_000);
});
