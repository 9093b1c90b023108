import type { Artifact, RepoArtifact, RpmArtifact } from '../../bundle/manifest.js';
import { rpmKind as carriedRpm } from '../carried.js';
import type { ArtifactKind, RecordProblem } from '../kind.js';
import { packageKind, repoRecordProblems, type RepoNeed } from '../packages/kind.js';
import { fetchPlanRpms } from './fetch.js';
import { rpmReposOf, rpmVars, RPM_FERRY_KEY } from './vars.js';

/**
 * The `rpm` kind as Ferry's RHEL-family support carries it (fetch.ts): one .rpm file, byte for
 * byte what the upstream repository served, whose record repeats the sha256 and size primary.xml
 * gave it (the carried check holds it to the signed file list). A noarch package two
 * architectures' repositories share is stored once, under the first architecture; the other
 * repository's artifact names that file, and serve answers it under both folders.
 */

/** The served URL of each `rpm` artifact stored under another architecture's folder. */
export function sharedRpmUrls(artifacts: readonly Artifact[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const a of artifacts) {
    if (a.kind !== 'rpm' || a.paths.length !== 1 || !a.repoArch) continue;
    const stored = a.paths[0];
    // repos/<os>/<arch>/Packages/…: the same place under this artifact's own architecture folder.
    const own = `repos/${a.os}/${a.repoArch}/${stored.split('/').slice(3).join('/')}`;
    if (own !== stored) out.push([own, stored]);
  }
  return out;
}

export const rpmKind: ArtifactKind<RpmArtifact> = {
  // The plan's RPM package sets (plan.json `rpms`) and their signed repositories.
  ...packageKind(carriedRpm, {
    aliases: sharedRpmUrls,
    carryPlan: fetchPlanRpms,
    checks: (a) => a.kind === 'rpm' || (a.kind === 'repo' && a.format === 'rpm'),
    reposOf: rpmReposOf,
    vars: rpmVars,
  }),
  fetch: {
    // The same package file, pinned by primary's sha256, for the same OS and repository.
    holds: (held, w) =>
      held.os === w.os &&
      held.package === w.package &&
      (held.epoch ?? 0) === (w.epoch ?? 0) &&
      held.version === w.version &&
      held.release === w.release &&
      held.arch === w.arch &&
      held.repoArch === w.repoArch &&
      held.sha256 === w.sha256 &&
      held.size === w.size &&
      (w.paths === undefined || (held.paths.length === 1 && held.paths[0] === w.paths[0])),
  },
};

/**
 * An RPM repository record must name, for every architecture folder it has, the signed
 * repomd.xml, its detached signature and a primary index, and Ferry's key beside them: without
 * one of them dnf on a node (repo_gpgcheck=1) cannot use that repository.
 */
export function rpmRepoRecord(a: RepoArtifact): RecordProblem[] {
  if (a.format !== 'rpm' || !a.os) return [];
  return repoRecordProblems({ ...a, os: a.os }, 'RPM', (own) => {
    const arches = [...new Set(own.map((p) => /^([^/]+)\/(repodata|Packages)\//.exec(p)?.[1]))].filter(
      (x): x is string => !!x,
    );
    const need: RepoNeed[] = [{ test: (p) => p === RPM_FERRY_KEY, what: RPM_FERRY_KEY }];
    if (arches.length === 0) need.push({ test: () => false, what: '<arch>/repodata/repomd.xml' });
    for (const arch of arches.sort()) {
      need.push(
        { test: (p) => p === `${arch}/repodata/repomd.xml`, what: `${arch}/repodata/repomd.xml` },
        { test: (p) => p === `${arch}/repodata/repomd.xml.asc`, what: `${arch}/repodata/repomd.xml.asc` },
        {
          test: (p) => new RegExp(`^${arch}/repodata/[^/]*primary\\.xml(\\.[a-z0-9]+)?$`).test(p),
          what: `${arch}/repodata/<sha>-primary.xml.gz`,
        },
      );
    }
    return need;
  });
}
