import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseManifest } from '../../../src-main/core/bundle/manifest.js';
import { BundleWriter } from '../../../src-main/core/bundle/writer.js';
import {
  findTools,
  markToolsExecutable,
  requireTools,
  syncTools,
  toolArtifact,
  toolsHeld,
  type ToolFile,
} from '../../../src-main/core/kinds/tool/index.js';
import { artifactName, kindOf } from '../../../src-main/core/kinds/index.js';
import { toolKind } from '../../../src-main/core/kinds/tool/kind.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('the tool kind', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-tool-unit-'));
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  async function built(dir: string, files: Record<string, Buffer>, index?: object[]) {
    await fs.mkdir(dir, { recursive: true });
    for (const [n, b] of Object.entries(files)) await fs.writeFile(path.join(dir, n), b, { mode: 0o755 });
    if (index)
      await fs.writeFile(
        path.join(dir, 'ferry-tools.json'),
        JSON.stringify({ format: 'ferry-tools', version: 1, tools: index }),
      );
  }

  it('names the artifact tool:ferry-<platform> at tools/ferry-<platform>', () => {
    expect(toolArtifact({ name: 'ferry', platform: 'linux-arm64', version: '1.2.3' })).toEqual({
      id: 'tool:ferry-linux-arm64',
      kind: 'tool',
      name: 'ferry',
      platform: 'linux-arm64',
      version: '1.2.3',
      paths: ['tools/ferry-linux-arm64'],
    });
    expect(toolArtifact({ name: 'ferry', platform: 'win32-x64', version: '1' }).paths).toEqual([
      'tools/ferry-win32-x64.exe',
    ]);
  });

  it('takes version and sha256 from the build index, and hashes a file the index does not list', async () => {
    const x = Buffer.from('x64 executable');
    const a = Buffer.from('arm64 executable');
    const dir = path.join(tmp, 'out');
    await built(dir, { 'ferry-linux-x64': x, 'ferry-linux-arm64': a }, [
      {
        name: 'ferry',
        platform: 'linux-x64',
        version: '9.9.9',
        file: 'ferry-linux-x64',
        size: x.length,
        sha256: sha(x),
      },
    ]);
    const r = await findTools({ env: { FERRY_TOOLS_DIR: dir } });
    expect(r.missing).toEqual([]);
    expect(r.searched).toEqual([dir]);
    expect(r.found.map((t) => [t.platform, t.version, t.sha256, t.size])).toEqual([
      ['linux-x64', '9.9.9', sha(x), x.length],
      ['linux-arm64', '0.1.0', sha(a), a.length],
    ]);
  });

  it('prefers an explicit folder over FERRY_TOOLS_DIR and reports what is missing', async () => {
    const one = path.join(tmp, 'one');
    const two = path.join(tmp, 'two');
    await built(one, { 'ferry-linux-x64': Buffer.from('1') });
    await built(two, { 'ferry-linux-x64': Buffer.from('2'), 'ferry-linux-arm64': Buffer.from('2') });
    const r = await findTools({ dir: one, env: { FERRY_TOOLS_DIR: two } });
    expect(r.found.map((t) => t.file)).toEqual([path.join(one, 'ferry-linux-x64')]);
    expect(r.missing).toEqual(['linux-arm64']);
    await expect(requireTools({ dir: one, env: {} })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining(`ferry-linux-arm64 is not in ${one}`),
      hint: expect.stringMatching(/npm run build:cli.*--no-tools/),
    });
    await expect(findTools({ dir: one, platforms: ['linux-sparc'] })).rejects.toMatchObject({
      code: 'USAGE',
    });
    // A damaged build index is named, with the rebuild as the fix.
    await fs.writeFile(path.join(one, 'ferry-tools.json'), '{"format": "ferry-tools", ');
    await expect(findTools({ dir: one })).rejects.toMatchObject({
      code: 'CONFIG',
      hint: expect.stringContaining('npm run build:cli'),
    });
  });

  it('syncs a bundle to exactly the wanted executables, executable, and refuses bytes the build did not record', async () => {
    const x = Buffer.from('x64 executable, version 1');
    const dir = path.join(tmp, 'out');
    await built(dir, { 'ferry-linux-x64': x, 'ferry-linux-arm64': Buffer.from('arm') });
    const found = (await findTools({ dir })).found;
    const b = path.join(tmp, 'bundle');
    let w = await BundleWriter.open(b);
    const first = await syncTools(w, found);
    expect(first.tools.map((t) => t.state)).toEqual(['added', 'added']);
    let m = await w.finalize();
    expect(m.version).toBe(2);
    expect((await fs.stat(path.join(b, 'tools/ferry-linux-x64'))).mode & 0o111).toBe(0o111);
    expect(await toolsHeld(b, m, found)).toBe(true);
    expect(await toolsHeld(b, m, found.slice(0, 1))).toBe(false);

    // Rebuilt x64: only that one is copied again; arm64 is no longer wanted and goes.
    const x2 = Buffer.from('x64 executable, version 2');
    await fs.writeFile(path.join(dir, 'ferry-linux-x64'), x2);
    const next = (await findTools({ dir, platforms: ['linux-x64'] })).found;
    expect(await toolsHeld(b, m, next)).toBe(false);
    w = await BundleWriter.open(b);
    const second = await syncTools(w, next);
    expect(second).toEqual({
      tools: [{ platform: 'linux-x64', version: '0.1.0', state: 'added' }],
      removed: ['tool:ferry-linux-arm64'],
    });
    m = await w.finalize();
    expect(m.artifacts.filter((a) => a.kind === 'tool').map((a) => a.id)).toEqual(['tool:ferry-linux-x64']);
    expect(m.files.find((f) => f.path === 'tools/ferry-linux-x64')?.sha256).toBe(sha(x2));

    w = await BundleWriter.open(b);
    expect((await syncTools(w, next)).tools[0].state).toBe('present');
    const lie: ToolFile = { ...next[0], sha256: sha(Buffer.from('something else')) };
    await fs.writeFile(path.join(dir, 'ferry-linux-x64'), Buffer.from('x64 executable, version 3'));
    await expect(syncTools(w, [{ ...lie, size: 25 }])).rejects.toMatchObject({ code: 'CHECKSUM' });
    await w.close();
  });

  it('gives the executable bit back to the tools of a copied bundle folder', async () => {
    const b = path.join(tmp, 'copy');
    await fs.mkdir(path.join(b, 'tools'), { recursive: true });
    await fs.writeFile(path.join(b, 'tools/ferry-linux-x64'), 'x', { mode: 0o644 });
    await fs.writeFile(path.join(b, 'plan.json'), '{}', { mode: 0o644 });
    const m = parseManifest(
      JSON.stringify({
        format: 'ferry-bundle',
        version: 2,
        id: 'b',
        createdAt: new Date(0).toISOString(),
        tool: 'ferry 0.1.0',
        artifacts: [
          toolArtifact({ name: 'ferry', platform: 'linux-x64', version: '0.1.0' }),
          { id: 'meta:plan', kind: 'meta', name: 'Plan', paths: ['plan.json'] },
        ],
        files: [
          { path: 'tools/ferry-linux-x64', size: 1, sha256: sha(Buffer.from('x')) },
          { path: 'plan.json', size: 2, sha256: sha(Buffer.from('{}')) },
        ],
      }),
    );
    expect(await markToolsExecutable(b, m)).toEqual(['tools/ferry-linux-x64']);
    expect((await fs.stat(path.join(b, 'tools/ferry-linux-x64'))).mode & 0o777).toBe(0o755);
    expect((await fs.stat(path.join(b, 'plan.json'))).mode & 0o777).toBe(0o644);
  });
});

describe('the tool kind in the registry', () => {
  const listed = new Map([
    ['tools/ferry-linux-x64', { path: 'tools/ferry-linux-x64', size: 3, sha256: 'a'.repeat(64) }],
    ['tools/ferry-linux-arm64', { path: 'tools/ferry-linux-arm64', size: 4, sha256: 'b'.repeat(64) }],
  ]);
  it('is the registry entry for tool artifacts, named by name, version and platform', () => {
    const a = toolArtifact({ name: 'ferry', platform: 'linux-x64', version: '0.1.0' });
    expect(kindOf(a)).toBe(toolKind);
    expect(artifactName(a)).toBe('ferry 0.1.0 (linux-x64)');
    expect(toolKind.verify.record(a, listed)).toEqual([]);
    expect(toolKind.serve.via).toBe('none');
    expect(toolKind.fetch!.holds(a, { version: '0.1.0', paths: ['tools/ferry-linux-x64'] })).toBe(true);
    expect(toolKind.fetch!.holds(a, { version: '0.2.0' })).toBe(false);
  });
  it('finds a record that points a platform at another file inconsistent', () => {
    const lying = {
      ...toolArtifact({ name: 'ferry', platform: 'linux-x64', version: '0.1.0' }),
      paths: ['tools/ferry-linux-arm64'],
    };
    expect(toolKind.verify.record(lying, listed)).toEqual([
      {
        path: 'tools/ferry-linux-arm64',
        status: 'wrong-digest',
        expectedSize: 4,
        expectedSha256: 'b'.repeat(64),
        error:
          'the linux-x64 executable must be at tools/ferry-linux-x64, the record says tools/ferry-linux-arm64',
      },
    ]);
    const renamed = {
      ...toolArtifact({ name: 'ferry', platform: 'linux-x64', version: '0.1.0' }),
      id: 'tool:x',
    };
    expect(toolKind.verify.record(renamed, listed)[0].error).toMatch(/id tool:x is not tool:ferry-linux-x64/);
  });
});
