import type { DebArtifact, RepoArtifact } from '../../bundle/manifest.js';
import { debKind as carriedDeb, repoKind as carriedRepo } from '../carried.js';
import type { ArtifactKind, RecordProblem } from '../kind.js';
import { ARMORED_KEY_FILE, KEYRING_FILE } from './repo.js';
import { fetchPlanDebs } from './fetch.js';
import { sharedDebUrls } from './serve.js';
import { aptReposOf, aptVars } from './vars.js';
import { packageKind, repoRecordProblems } from '../packages/kind.js';
import { rpmRepoRecord } from '../rpm/kind.js';

/**
 * The `deb` and `repo` (apt) kinds as Ferry's Debian/Ubuntu support carries them (fetch.ts,
 * repo.ts): a .deb is one file whose record repeats the sha256 and size of its signed stanza
 * (the carried check holds it to the file list); an apt repository must name its signed
 * InRelease, Release, indexes and keyrings, or apt on a node could not use it.
 */

export const debKind: ArtifactKind<DebArtifact> = {
  // The plan's OS package sets (plan.json `debs`) and their signed apt repositories.
  ...packageKind(carriedDeb, {
    aliases: sharedDebUrls,
    carryPlan: fetchPlanDebs,
    // Every repository record, apt or not, as this hook always checked.
    checks: (a) => a.kind === 'deb' || a.kind === 'repo',
    reposOf: aptReposOf,
    vars: aptVars,
  }),
  fetch: {
    // The same package file, pinned by its stanza's sha256, for the same OS.
    holds: (held, w) =>
      held.os === w.os &&
      held.package === w.package &&
      held.version === w.version &&
      held.arch === w.arch &&
      held.sha256 === w.sha256 &&
      held.size === w.size &&
      (w.paths === undefined || (held.paths.length === 1 && held.paths[0] === w.paths[0])),
  },
};

function aptRecord(a: RepoArtifact): RecordProblem[] {
  if (a.format !== 'apt' || !a.os) return [];
  return repoRecordProblems({ ...a, os: a.os }, 'apt', () => [
    { test: (p) => /^dists\/[^/]+\/InRelease$/.test(p), what: 'dists/<suite>/InRelease' },
    { test: (p) => /^dists\/[^/]+\/Release$/.test(p), what: 'dists/<suite>/Release' },
    { test: (p) => /^dists\/[^/]+\/[^/]+\/binary-[^/]+\/Packages$/.test(p), what: 'a Packages index' },
    { test: (p) => p === KEYRING_FILE, what: KEYRING_FILE },
    { test: (p) => p === ARMORED_KEY_FILE, what: ARMORED_KEY_FILE },
  ]);
}

/** Ferry's generated repositories: apt (this module) and RPM (kinds/rpm/kind.ts). */
export const repoKind: ArtifactKind<RepoArtifact> = {
  ...carriedRepo,
  name: (a) =>
    a.format === 'apt'
      ? `apt repository for ${a.os ?? '?'}`
      : a.format === 'rpm'
        ? `RPM repository for ${a.os ?? '?'}`
        : carriedRepo.name(a),
  verify: {
    record: (a) => (a.format === 'rpm' ? rpmRepoRecord(a) : aptRecord(a)),
    repairHint: carriedRepo.verify.repairHint,
  },
};
