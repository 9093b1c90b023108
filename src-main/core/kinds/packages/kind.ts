import type { RepoSigner } from '../../bundle/keys/repo-key.js';
import { filesAtSize } from '../../bundle/intact.js';
import type { Artifact, DebArtifact, RepoArtifact, RpmArtifact } from '../../bundle/manifest.js';
import type { BundleSource } from '../../bundle/source.js';
import type { ArtifactKind, CarryContext, RecordProblem } from '../kind.js';

const REPAIR_PACKAGE =
  'Copy the bundle again from the connected side, or repair just this package with `ferry export --only <id>` from an intact copy.';

/**
 * The stage hooks the deb and rpm kinds share (deb/kind.ts, rpm/kind.ts): a package is repaired,
 * grouped and served alike, is carried after the downloads from the plan's own section, counts as
 * held only while its files (and its repositories') are in place, and adds its repositories' vars.
 * A kind adds its own `fetch.holds`, which names the fields that pin its packages.
 */
export function packageKind<A extends DebArtifact | RpmArtifact, R>(
  carried: ArtifactKind<A>,
  o: {
    /** The file server's extra URLs for packages stored under another OS or architecture. */
    aliases: (artifacts: readonly Artifact[]) => Array<[string, string]>;
    /** The kind's carry: the plan's section into the bundle (packages/carry.ts). */
    carryPlan: (
      plan: unknown,
      o: Omit<CarryContext, 'repoSigner'> & { signer?: RepoSigner },
    ) => Promise<unknown>;
    /** The artifacts whose files `held` checks. */
    checks: (a: Artifact) => boolean;
    reposOf: (src: BundleSource) => R[] | Promise<R[]>;
    vars: (filesUrl: string, repos: R[]) => Record<string, unknown>;
  },
): ArtifactKind<A> {
  return {
    ...carried,
    verify: { record: carried.verify.record, repairHint: () => REPAIR_PACKAGE },
    summarize: (a) => ({ group: `${a.os} packages` }),
    serve: { ...carried.serve, aliases: o.aliases },
    waitsForDownloads: true,
    async carry(want, ctx) {
      const { repoSigner, ...rest } = ctx;
      await o.carryPlan(want.plan, { ...rest, ...(repoSigner ? { signer: repoSigner } : {}) });
    },
    // plan.json (which names the packages) matched already: their files, and their repositories',
    // must still be there too.
    held: async (dir, m) => {
      const sizes = new Map(m.files.map((f) => [f.path, f.size]));
      for (const a of m.artifacts) if (o.checks(a) && !(await filesAtSize(dir, a.paths, sizes))) return false;
      return true;
    },
    async vars(src, filesUrl) {
      const repos = await o.reposOf(src);
      return repos.length ? o.vars(filesUrl, repos) : {};
    },
  };
}

/** One file a generated repository's record must name (relative to repos/<os>/). */
export interface RepoNeed {
  test: (p: string) => boolean;
  what: string;
}

/**
 * A generated repository record's problems: each file `need` asks for (given the record's own
 * paths below repos/<os>/) that the record does not name; without it the node's apt or dnf
 * could not use the repository.
 */
export function repoRecordProblems(
  a: RepoArtifact & { os: string },
  family: string,
  need: (own: string[]) => RepoNeed[],
): RecordProblem[] {
  const root = `repos/${a.os}/`;
  const own = a.paths.filter((p) => p.startsWith(root)).map((p) => p.slice(root.length));
  return need(own)
    .filter((n) => !own.some(n.test))
    .map((n) => ({
      path: `${root}${n.what}`,
      // The record does not describe a usable repository: it disagrees with what it claims to be.
      status: 'wrong-digest' as const,
      expectedSize: 0,
      expectedSha256: '',
      error: `the ${family} repository for ${a.os} does not name ${n.what}`,
    }));
}
