import fs from 'node:fs/promises';
import type { Artifact } from '../../bundle/manifest.js';
import type { BundleSource } from '../../bundle/source.js';
import { FerryError } from '../../base/errors/index.js';
import { PRESTEP_FILE } from '../deb/prestep.js';
import { rpmPrestepShell, type RpmNodeKey } from './prestep.js';

/**
 * What `ferry vars` adds for the bundle's RPM repositories (one per RHEL-family OS, with an
 * architecture folder each: repos/<os>/<arch>/): where each is served, the keys a node must trust
 * (file, URL and the sha256 the pre-step checks them against, so the trust anchor is the verified
 * bundle), and Kubespray's own variables pointed at Ferry: `yum_repo`, the docker-ce repository
 * (`docker_rh_repo_base_url`, `docker_rh_repo_gpgkey`) when the bundle carries Docker's packages,
 * and `rhel_enable_repos: false` for RHEL, whose bootstrap would otherwise enable the CDN
 * repositories with subscription-manager.
 */

/** Ferry's own repository key in each OS folder (it signs repodata/repomd.xml.asc). */
export const RPM_FERRY_KEY = 'RPM-GPG-KEY-ferry';
const KEY_FILE = /^RPM-GPG-KEY-[A-Za-z0-9._-]+$/;

export interface RpmRepoInfo {
  os: string;
  /** RPM architectures with a repository folder (x86_64, aarch64). */
  arches: string[];
  /** Keys carried in repos/<os>/: the distribution's (and Docker's), then Ferry's. */
  keys: Array<{ file: string; sha256: string }>;
  /** The repository holds packages from download.docker.com (Kubespray's docker-ce repository). */
  docker: boolean;
}

const isDockerRpm = (a: Artifact, os: string): boolean =>
  a.kind === 'rpm' && a.os === os && /(^|\/\/)download\.docker\.com\//.test(a.url ?? '');

/** The bundle's RPM repositories, from its repo artifacts and the keys beside them. */
export function rpmReposOf(src: BundleSource): RpmRepoInfo[] {
  const out: RpmRepoInfo[] = [];
  for (const a of src.manifest.artifacts) {
    if (a.kind !== 'repo' || a.format !== 'rpm' || !a.os) continue;
    const os = a.os;
    const root = `repos/${os}/`;
    const arches = a.paths
      .map((p) => /^repos\/[^/]+\/([^/]+)\/repodata\/repomd\.xml$/.exec(p)?.[1])
      .filter((x): x is string => !!x)
      .sort();
    const keys: RpmRepoInfo['keys'] = [];
    for (const p of a.paths) {
      const file = p.slice(root.length);
      if (!p.startsWith(root) || !KEY_FILE.test(file)) continue;
      const entry = src.entry(p);
      if (entry) keys.push({ file, sha256: entry.sha256 });
    }
    // Ferry's key last: the distribution's keys are the ones the packages' signatures name.
    keys.sort((x, y) =>
      x.file === RPM_FERRY_KEY ? 1 : y.file === RPM_FERRY_KEY ? -1 : x.file < y.file ? -1 : 1,
    );
    if (arches.length === 0 || keys.length === 0) continue;
    out.push({ os, arches, keys, docker: src.manifest.artifacts.some((x) => isDockerRpm(x, os)) });
  }
  return out.sort((x, y) => (x.os < y.os ? -1 : 1));
}

export function rpmVars(filesUrl: string, repos: RpmRepoInfo[]): Record<string, unknown> {
  if (repos.length === 0) return {};
  const base = filesUrl.replace(/\/+$/, '');
  const url = (r: RpmRepoInfo) => `${base}/repos/${r.os}`;
  const keys = (r: RpmRepoInfo): RpmNodeKey[] =>
    r.keys.map((k) => ({ file: k.file, url: `${url(r)}/${k.file}`, sha256: k.sha256 }));
  const v: Record<string, unknown> = {};
  v.ferry_rpm_repos = Object.fromEntries(
    repos.map((r) => [r.os, { os: r.os, url: url(r), arches: r.arches, keys: keys(r) }]),
  );
  // The apt and dnf plays share one playbook file.
  v.ferry_apt_prestep_url = `${base}/repos/${PRESTEP_FILE}`;
  if (repos.length === 1) {
    v.ferry_rpm_repo_url = url(repos[0]);
    v.ferry_rpm_os = repos[0].os;
    v.ferry_rpm_keys = keys(repos[0]);
  }
  // Kubespray has one yum_repo (the folder above the architecture folders: $basearch picks one).
  const first = repos[0];
  v.yum_repo = url(first);
  const docker = repos.find((r) => r.docker);
  if (docker) {
    v.docker_rh_repo_base_url = `${url(docker)}/$basearch`;
    // Kubespray writes it into docker.repo's gpgkey=, which takes several URLs: Docker's key signs
    // the docker-ce packages, the distribution's the rest (containerd.io's dependencies).
    v.docker_rh_repo_gpgkey = keys(docker)
      .map((k) => k.url)
      .join(' ');
  }
  // RHEL's bootstrap enables the CDN repositories (subscription-manager) unless told not to.
  if (repos.some((r) => r.os.startsWith('rhel-'))) v.rhel_enable_repos = false;
  return v;
}

/** The pre-step's shell snippets for the bundle's RPM repositories (the playbook is apt's file). */
export async function rpmPrestepShells(
  src: BundleSource,
  filesUrl: string,
): Promise<Array<{ os: string; text: string }>> {
  const base = filesUrl.replace(/\/+$/, '');
  const out: Array<{ os: string; text: string }> = [];
  for (const r of rpmReposOf(src)) {
    const keys: Array<{ file: string; data: Uint8Array }> = [];
    for (const k of r.keys) {
      const p = `repos/${r.os}/${k.file}`;
      const file = src.filePath(p);
      if (!file)
        throw new FerryError('INTEGRITY', `The bundle lacks ${p}.`, {
          artifact: p,
          hint: 'Copy the bundle again from the connected side.',
        });
      keys.push({ file: k.file, data: await fs.readFile(file) });
    }
    out.push({ os: r.os, text: rpmPrestepShell({ os: r.os, repoUrl: `${base}/repos/${r.os}`, keys }) });
  }
  return out;
}
