import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  computePlan,
  loadKubespray,
  supportedKubeVersions,
} from '../../../src-main/core/plan/catalog/index.js';
import { kubesprayDataDir } from '../../helpers/tools.js';

/**
 * The acceptance criteria of the catalog, for every tag in the shared reference data:
 * - `--all --arch amd64` lists exactly the URLs of Kubespray's generate_list.sh (plus argocd's
 *   install manifest, which generate_list misses because its variable is not named *download_url)
 *   and exactly its image references;
 * - with defaults, the plan is exactly the enabled downloads of Ansible's own evaluation
 *   (reference/defaults.json): url and checksum of each file, repo:tag of each image, the
 *   kubeadm images — and nothing else.
 */

const tags = fs
  .readdirSync(kubesprayDataDir)
  .filter((t) => /^v\d/.test(t))
  .sort();

function lines(file: string): Set<string> {
  return new Set(
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
  );
}

interface RefDownload {
  key: string;
  enabled: boolean;
  container: boolean;
  url: string | null;
  checksum: string | null;
  sha256: string | null;
  repo: string | null;
  tag: string | null;
}

describe.each(tags)('Kubespray %s', (tag) => {
  const dir = path.join(kubesprayDataDir, tag);

  it('--all --arch amd64 lists the URLs and images of generate_list.sh (+ argocd install manifest)', async () => {
    const data = await loadKubespray({ dir });
    expect(data.tag).toBe(tag);
    const plan = computePlan(data, { arches: ['amd64'], all: true });
    const urls = new Set(plan.files.map((f) => f.url));
    const expected = lines(path.join(dir, 'reference/files.list'));
    const argocd = [...urls].filter((u) =>
      u.startsWith('https://raw.githubusercontent.com/argoproj/argo-cd/'),
    );
    expect(argocd).toHaveLength(tag >= 'v2.28' ? 1 : 0);
    expect(urls).toEqual(new Set([...expected, ...argocd]));
    expect(new Set(plan.images.map((i) => i.ref))).toEqual(lines(path.join(dir, 'reference/images.list')));
    // --all also says which of them a default cluster uses.
    expect(plan.files.some((f) => !f.enabled)).toBe(true);
    expect(plan.files.filter((f) => f.enabled).length).toBeGreaterThan(5);
  });

  it('defaults: exactly the enabled downloads and kubeadm images of Ansible’s evaluation', async () => {
    const data = await loadKubespray({ dir });
    const ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference/defaults.json'), 'utf8')) as {
      context: { kube_version: string };
      downloads: RefDownload[];
      kubeadm_images: { key: string; enabled: boolean; image: string; repo: string; tag: string }[];
    };
    const plan = computePlan(data, { arches: ['amd64'] });
    expect(plan.kubespray).toBe(tag);
    expect(plan.kubeVersion).toBe(ref.context.kube_version.replace(/^v/, ''));

    const enabled = ref.downloads.filter((d) => d.enabled);
    const refFiles = enabled.filter((d) => !d.container);
    const refImages = enabled.filter((d) => d.container);
    expect(plan.files.map((f) => ({ key: f.key, url: f.url, checksum: f.checksum }))).toEqual(
      refFiles.map((d) => ({
        key: d.key,
        url: d.url,
        checksum: d.checksum ?? `sha256:${d.sha256}`,
      })),
    );
    const kubeadm = ref.kubeadm_images.filter((k) => k.enabled);
    expect(plan.images.map((i) => ({ key: i.key, repo: i.repo, tag: i.tag, ref: i.ref }))).toEqual([
      ...refImages.map((d) => ({ key: d.key, repo: d.repo, tag: d.tag, ref: `${d.repo}:${d.tag}` })),
      ...kubeadm.map((k) => ({ key: k.key, repo: k.repo, tag: k.tag, ref: k.image })),
    ]);
    expect(plan.files.every((f) => f.enabled && f.arches.join() === 'amd64')).toBe(true);
    expect(plan.images.every((i) => i.enabled && i.platforms.join() === 'linux/amd64')).toBe(true);
    for (const f of plan.files) {
      const u = new URL(f.url);
      expect(f.path).toBe(`files/${u.host}${decodeURIComponent(u.pathname)}`);
    }
  });

  it('knows the Kubernetes versions the tag supports, newest first, the default among them', async () => {
    const data = await loadKubespray({ dir });
    const versions = supportedKubeVersions(data);
    const ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference/defaults.json'), 'utf8'));
    expect(versions[0]).toBe(ref.context.kube_version.replace(/^v/, ''));
    expect(versions.length).toBeGreaterThan(5);
  });
});
