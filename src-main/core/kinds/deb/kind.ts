import type { DebArtifact, RepoArtifact } from '../../bundle/manifest.js';
import { debKind as carriedDeb, repoKind as carriedRepo } from '../carried.js';
import type { ArtifactKind, RecordProblem } from '../kind.js';
import { ARMORED_KEY_FILE, KEYRING_FILE } from './repo.js';
import { fetchPlanDebs } from './fetch.js';
import { sharedDebUrls } from './serve.js';
import { aptReposOf, aptVars } from './vars.js';
import { filesAtSize } from '../../bundle/intact.js';
import { rpmRepoRecord } from '../rpm/kind.js';

/**
 * The `deb` and `repo` (apt) kinds as Ferry's Debian/Ubuntu support carries them (fetch.ts,
 * repo.ts): a .deb is one file whose record repeats the sha256 and size of its signed stanza
 * (the carried check holds it to the file list); an apt repository must name its signed
 * InRelease, Release, indexes and keyrings, or apt on a node could not use it.
 */

const REPAIR_DEB =
  'Copy the bundle again from the connected side, or repair just this package with `ferry export --only <id>` from an intact copy.';

export const debKind: ArtifactKind<DebArtifact> = {
  ...carriedDeb,
  verify: { record: carriedDeb.verify.record, repairHint: () => REPAIR_DEB },
  summarize: (a) => ({ group: `${a.os} packages` }),
  serve: { ...carriedDeb.serve, aliases: sharedDebUrls },
  // The plan's OS package sets (plan.json `debs`) and their signed apt repositories.
  waitsForDownloads: true,
  async carry(want, ctx) {
    const { repoSigner, ...o } = ctx;
    await fetchPlanDebs(want.plan, { ...o, ...(repoSigner ? { signer: repoSigner } : {}) });
  },
  // plan.json (which names the packages) matched already: their files, and their repositories',
  // must still be there too.
  held: async (dir, m) => {
    const sizes = new Map(m.files.map((f) => [f.path, f.size]));
    for (const a of m.artifacts)
      if ((a.kind === 'deb' || a.kind === 'repo') && !(await filesAtSize(dir, a.paths, sizes))) return false;
    return true;
  },
  async vars(src, filesUrl) {
    const repos = await aptReposOf(src);
    return repos.length ? aptVars(filesUrl, repos) : {};
  },
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
  const root = `repos/${a.os}/`;
  const need = [
    { test: (p: string) => /^dists\/[^/]+\/InRelease$/.test(p), what: 'dists/<suite>/InRelease' },
    { test: (p: string) => /^dists\/[^/]+\/Release$/.test(p), what: 'dists/<suite>/Release' },
    {
      test: (p: string) => /^dists\/[^/]+\/[^/]+\/binary-[^/]+\/Packages$/.test(p),
      what: 'a Packages index',
    },
    { test: (p: string) => p === KEYRING_FILE, what: KEYRING_FILE },
    { test: (p: string) => p === ARMORED_KEY_FILE, what: ARMORED_KEY_FILE },
  ];
  const own = a.paths.filter((p) => p.startsWith(root)).map((p) => p.slice(root.length));
  return need
    .filter((n) => !own.some(n.test))
    .map((n) => ({
      path: `${root}${n.what}`,
      // The record does not describe a usable repository: it disagrees with what it claims to be.
      status: 'wrong-digest' as const,
      expectedSize: 0,
      expectedSha256: '',
      error: `the apt repository for ${a.os} does not name ${n.what}`,
    }));
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
