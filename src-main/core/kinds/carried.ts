import type { Artifact, DebArtifact, FileEntry, RepoArtifact, RpmArtifact } from '../bundle/manifest.js';
import type { ArtifactKind, RecordProblem } from './kind.js';
import { KIND_LABELS } from './labels.js';

/**
 * Minimal registry entries for the format-v2 kinds (docs/bundle-format.md): each is carried as
 * plain files, verified by the manifest's sha256 and size like any file, named and summarized.
 * The real kinds (kinds/deb, kinds/python, kinds/tool) have replaced their entries in kinds/index.ts;
 * what is left here (rpm) is a plain carried file until its kind lands, so a bundle holding one
 * verifies, imports, exports and is listed.
 */

const REPAIR = 'Copy the bundle again from the connected side.';

/**
 * A package record that declares its own sha256 (and size) must agree with the file list: the
 * signed manifest says both, and a disagreement means the record was written wrong or altered.
 */
function declaredDigest(
  a: Artifact & { sha256: string; size?: number },
  listed: ReadonlyMap<string, FileEntry>,
): RecordProblem[] {
  if (a.paths.length !== 1) {
    return [
      {
        path: a.paths[0] ?? a.id,
        status: 'wrong-digest',
        expectedSize: a.size ?? 0,
        expectedSha256: a.sha256,
        error: `a ${a.kind} artifact names ${a.paths.length} files; it must name exactly one`,
      },
    ];
  }
  const f = listed.get(a.paths[0]);
  // An unlisted file is reported as missing by the file checks (or left to a delta's base).
  if (!f) return [];
  const sizeOff = a.size !== undefined && a.size !== f.size;
  if (f.sha256 === a.sha256 && !sizeOff) return [];
  return [
    {
      path: f.path,
      status: sizeOff ? 'wrong-size' : 'wrong-digest',
      expectedSize: a.size ?? f.size,
      expectedSha256: a.sha256,
      actualSize: f.size,
      actualSha256: f.sha256,
      error: `the ${a.kind} record declares ${sizeOff ? `${a.size} bytes` : `sha256 ${a.sha256}`}, the manifest's file list ${sizeOff ? `${f.size} bytes` : `sha256 ${f.sha256}`}`,
    },
  ];
}

export const debKind: ArtifactKind<DebArtifact> = {
  kind: 'deb',
  label: KIND_LABELS.deb,
  name: (a) => `${a.package} ${a.version} (${a.arch}, ${a.os})`,
  ownedPaths: (a) => [...a.paths],
  verify: { record: declaredDigest, repairHint: () => REPAIR },
  summarize: (a) => ({ group: a.package }),
  serve: { via: 'files' },
};

export const rpmKind: ArtifactKind<RpmArtifact> = {
  kind: 'rpm',
  label: KIND_LABELS.rpm,
  name: (a) => `${a.package}-${a.epoch ? `${a.epoch}:` : ''}${a.version}-${a.release}.${a.arch} (${a.os})`,
  ownedPaths: (a) => [...a.paths],
  verify: { record: declaredDigest, repairHint: () => REPAIR },
  summarize: (a) => ({ group: a.package }),
  serve: { via: 'files' },
};

export const repoKind: ArtifactKind<RepoArtifact> = {
  kind: 'repo',
  label: KIND_LABELS.repo,
  name: (a) => `${a.format} repository${a.os ? ` for ${a.os}` : ''}`,
  ownedPaths: (a) => [...a.paths],
  verify: { record: () => [], repairHint: () => REPAIR },
  summarize: (a) => ({ group: `${a.format} repository` }),
  serve: { via: 'files' },
};
