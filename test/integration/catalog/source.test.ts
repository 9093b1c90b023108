import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { create } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computePlan, loadKubespray, tarballUrl } from '../../../src-main/core/plan/catalog/index.js';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import { kubesprayDataDir } from '../../helpers/tools.js';

/**
 * Kubespray from a release tarball (GitHub's layout: kubespray-2.31.0/roles/…, or roles/… at the
 * top) and from a tag (a cached tarball, else the injected downloader) gives the same data as the
 * source folder.
 */

let tmp: string;
const tag = 'v2.31.0';
const oldTag = 'v2.26.1';

async function makeTarball(srcTag: string, top: string | null, file: string): Promise<string> {
  const stage = path.join(tmp, `stage-${srcTag}-${top ?? 'flat'}`);
  const root = top ? path.join(stage, top) : stage;
  fs.mkdirSync(root, { recursive: true });
  fs.cpSync(path.join(kubesprayDataDir, srcTag, 'roles'), path.join(root, 'roles'), { recursive: true });
  // Noise a real archive has, which the reader must skip.
  fs.mkdirSync(path.join(root, 'roles', 'download', 'tasks'), { recursive: true });
  fs.writeFileSync(path.join(root, 'roles', 'download', 'tasks', 'main.yml'), '- name: x\n');
  fs.writeFileSync(path.join(root, 'README.md'), 'Kubespray\n');
  const out = path.join(tmp, file);
  await create({ gzip: true, file: out, cwd: stage }, fs.readdirSync(stage));
  return out;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-catalog-src-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('loading Kubespray', () => {
  it('reads a GitHub release tarball (top folder kubespray-2.31.0) like the source folder', async () => {
    const tarball = await makeTarball(tag, 'kubespray-2.31.0', 'k.tar.gz');
    const fromTar = await loadKubespray({ tarball });
    const fromDir = await loadKubespray({ dir: path.join(kubesprayDataDir, tag) });
    expect(fromTar.tag).toBe(tag);
    expect(fromTar.role).toBe('kubespray_defaults');
    expect(fromTar.files).toEqual(fromDir.files);
    expect(fromTar.files).not.toContain('tasks/main.yml');
    const a = computePlan(fromTar, { arches: ['amd64'] });
    const b = computePlan(fromDir, { arches: ['amd64'] });
    expect(a.files).toEqual(b.files);
    expect(a.images).toEqual(b.images);
    expect(a.kubesprayTarball).toEqual({ url: tarballUrl(tag), path: `kubespray/kubespray-${tag}.tar.gz` });
    expect(b.kubesprayTarball).toBeUndefined();
  });

  it('reads the pre-v2.28 layout (kubespray-defaults, vars/main.yml) from a tarball without a top folder', async () => {
    const tarball = await makeTarball(oldTag, null, 'flat.tar.gz');
    const data = await loadKubespray({ tarball, tag: oldTag });
    expect(data.role).toBe('kubespray-defaults');
    expect(data.files).toContain('vars/main.yml');
    expect(data.vars.has('kube_proxy_deployed')).toBe(true);
    const dir = await loadKubespray({ dir: path.join(kubesprayDataDir, oldTag) });
    expect(computePlan(data, { arches: ['arm64'] }).files).toEqual(
      computePlan(dir, { arches: ['arm64'] }).files,
    );
  });

  it('loads a tag from the cache, else through the injected downloader, else fails clearly', async () => {
    const tarball = await makeTarball(tag, 'kubespray-2.31.0', 'cached.tar.gz');
    const cacheDir = path.join(tmp, 'cache');
    await expect(loadKubespray({ tag }, { cacheDir })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      artifact: tarballUrl(tag),
    });

    const calls: [string, string][] = [];
    const fetched = await loadKubespray(
      { tag },
      {
        cacheDir,
        fetchTarball: async (t, url) => {
          calls.push([t, url]);
          return tarball;
        },
      },
    );
    expect(calls).toEqual([
      [tag, 'https://github.com/kubernetes-sigs/kubespray/archive/refs/tags/v2.31.0.tar.gz'],
    ]);
    expect(fetched.tag).toBe(tag);

    fs.mkdirSync(cacheDir, { recursive: true });
    fs.copyFileSync(tarball, path.join(cacheDir, `kubespray-${tag}.tar.gz`));
    const cached = await loadKubespray(
      { tag },
      { cacheDir, fetchTarball: () => Promise.reject(new Error('must not download')) },
    );
    expect(cached.source.kind).toBe('tarball');
  });

  it('refuses what is not Kubespray, naming it', async () => {
    const notTar = path.join(tmp, 'not.tar.gz');
    fs.writeFileSync(notTar, 'hello');
    await expect(loadKubespray({ tarball: notTar })).rejects.toBeInstanceOf(FerryError);
    const empty = fs.mkdtempSync(path.join(tmp, 'empty-'));
    await expect(loadKubespray({ dir: empty })).rejects.toMatchObject({ code: 'NOT_FOUND', artifact: empty });
    await expect(loadKubespray({ tag: 'master; rm -rf /' })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(loadKubespray({})).rejects.toMatchObject({ code: 'USAGE' });
  });
});
