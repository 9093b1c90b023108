import fs from 'node:fs/promises';
import * as openpgp from 'openpgp';
import type { BundleSource } from '../../bundle/source.js';
import { FerryError } from '../../base/errors/index.js';
import { aptSourceLine, KEYRING_PATH, PRESTEP_FILE, prestepShell } from './prestep.js';
import { ARMORED_KEY_FILE, KEYRING_FILE } from './repo.js';
import { rpmPrestepShells, rpmReposOf } from '../rpm/vars.js';

/**
 * What `ferry vars` adds for the bundle's apt repositories: where each OS's repository is
 * served, the sha256 of its keyring (the pre-step checks the downloaded keyring against it, so
 * the trust anchor is the verified bundle), the apt source line, and Kubespray's own repository
 * variables (`debian_repo`/`ubuntu_repo`, and the docker-ce repository ones when the bundle
 * carries Docker's packages) pointed at Ferry.
 */

export interface AptRepoInfo {
  os: string;
  suite: string;
  keyringSha256: string;
  /** OpenPGP fingerprint of the key that signed the repository (Kubespray's *_repokey). */
  fingerprint?: string;
  /** The repository has the `stable` component Kubespray's docker role names. */
  docker: boolean;
}

/** The bundle's apt repositories, from its repo artifacts and their keyrings. */
export async function aptReposOf(src: BundleSource): Promise<AptRepoInfo[]> {
  const out: AptRepoInfo[] = [];
  for (const a of src.manifest.artifacts) {
    if (a.kind !== 'repo' || a.format !== 'apt' || !a.os) continue;
    const inRelease = a.paths.find((p) => /^repos\/[^/]+\/dists\/[^/]+\/InRelease$/.test(p));
    const keyring = `repos/${a.os}/${KEYRING_FILE}`;
    const entry = src.entry(keyring);
    if (!inRelease || !entry) continue;
    const suite = inRelease.split('/')[3];
    let fingerprint: string | undefined;
    const file = src.filePath(keyring);
    if (file) {
      try {
        const key = await openpgp.readKey({ binaryKey: await fs.readFile(file) });
        fingerprint = key.getFingerprint().toUpperCase();
      } catch {
        // A keyring that does not parse still has its sha256: the node-side check names it.
      }
    }
    out.push({
      os: a.os,
      suite,
      keyringSha256: entry.sha256,
      ...(fingerprint ? { fingerprint } : {}),
      docker: a.paths.some((p) => p.startsWith(`repos/${a.os}/dists/${suite}/stable/`)),
    });
  }
  return out.sort((x, y) => (x.os < y.os ? -1 : 1));
}

export function aptVars(filesUrl: string, repos: AptRepoInfo[]): Record<string, unknown> {
  if (repos.length === 0) return {};
  const base = filesUrl.replace(/\/+$/, '');
  const url = (r: AptRepoInfo) => `${base}/repos/${r.os}`;
  const v: Record<string, unknown> = {};
  v.ferry_apt_repos = Object.fromEntries(
    repos.map((r) => [
      r.os,
      {
        url: url(r),
        suite: r.suite,
        keyring_url: `${url(r)}/${KEYRING_FILE}`,
        keyring_sha256: r.keyringSha256,
        keyring_path: KEYRING_PATH,
        source: aptSourceLine(url(r), r.suite),
      },
    ]),
  );
  v.ferry_apt_prestep_url = `${base}/repos/${PRESTEP_FILE}`;
  if (repos.length === 1) {
    v.ferry_apt_repo_url = url(repos[0]);
    v.ferry_apt_suite = repos[0].suite;
    v.ferry_apt_keyring_sha256 = repos[0].keyringSha256;
  }
  // Kubespray has one debian_repo and one ubuntu_repo: the first OS of each family.
  for (const family of ['debian', 'ubuntu'] as const) {
    const r = repos.find((x) => x.os.startsWith(`${family}-`));
    if (!r) continue;
    v[`${family}_repo`] = url(r);
    if (r.docker) {
      v[`docker_${family}_repo_base_url`] = url(r);
      v[`docker_${family}_repo_gpgkey`] = `${url(r)}/${ARMORED_KEY_FILE}`;
      if (r.fingerprint) v[`docker_${family}_repo_repokey`] = r.fingerprint;
    }
  }
  return v;
}

/** The node pre-step for a bundle's apt repositories, as `ferry vars --os-prestep` and the app give it. */
export interface AptPrestep {
  /** The carried playbook (verified bytes of repos/ferry-apt-prestep.yml). */
  playbook: string;
  /** How to run it before cluster.yml. */
  command: string;
  /** The same steps as a shell snippet per OS, for a node set up by hand. */
  shell: Array<{ os: string; text: string }>;
}

/**
 * The bundle's pre-step, or null when it carries no apt and no RPM repository (one playbook has
 * the apt play and the dnf play; kinds/rpm/prestep.ts).
 */
export async function aptPrestep(src: BundleSource, filesUrl: string): Promise<AptPrestep | null> {
  const repos = await aptReposOf(src);
  const rpm = rpmReposOf(src);
  if (repos.length === 0 && rpm.length === 0) return null;
  const file = src.filePath(`repos/${PRESTEP_FILE}`);
  if (!file)
    throw new FerryError('INTEGRITY', `The bundle lacks repos/${PRESTEP_FILE}.`, {
      artifact: `repos/${PRESTEP_FILE}`,
      hint: 'Copy the bundle again from the connected side.',
    });
  const base = filesUrl.replace(/\/+$/, '');
  const shell: AptPrestep['shell'] = [];
  for (const r of repos) {
    const keyring = src.filePath(`repos/${r.os}/${KEYRING_FILE}`);
    if (!keyring) continue;
    shell.push({
      os: r.os,
      text: prestepShell({
        repoUrl: `${base}/repos/${r.os}`,
        suite: r.suite,
        keyring: await fs.readFile(keyring),
      }),
    });
  }
  shell.push(...(await rpmPrestepShells(src, filesUrl)));
  return {
    playbook: await fs.readFile(file, 'utf8'),
    command: `ansible-playbook -i INVENTORY ${PRESTEP_FILE} -b -e @offline.yml   # before cluster.yml; the ferry_${rpm.length && !repos.length ? 'rpm' : 'apt'}_* variables are in offline.yml`,
    shell,
  };
}
