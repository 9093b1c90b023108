import type { FileEntry, WheelArtifact } from '../../bundle/manifest.js';
import type { ArtifactKind, RecordProblem } from '../kind.js';
import { KIND_LABELS } from '../labels.js';
import { metadataPath, wheelPath } from './paths.js';

/**
 * The `wheel` kind (docs/bundle-format.md): a distribution at `python/files/<filename>` and,
 * when the index served one, its PEP 658 core metadata beside it as `<filename>.metadata`.
 * Served by the file server, with the /simple/ pages computed from these records (serve.ts).
 */

const REPAIR =
  'Copy the bundle again from the connected side; ferry fetch downloads a missing or damaged wheel again, checked against the index’s sha256.';

/**
 * The record against the signed file list: exactly the wheel's file and, optionally, its
 * metadata file, at their fixed paths; the wheel's declared sha256 is its file's.
 */
function record(a: WheelArtifact, listed: ReadonlyMap<string, FileEntry>): RecordProblem[] {
  const wheel = wheelPath(a.filename);
  const allowed = new Set([wheel, metadataPath(a.filename)]);
  const problems: RecordProblem[] = [];
  const stray = a.paths.filter((p) => !allowed.has(p));
  if (!a.paths.includes(wheel) || stray.length || new Set(a.paths).size !== a.paths.length)
    problems.push({
      path: stray[0] ?? a.paths[0] ?? wheel,
      expectedSize: 0,
      expectedSha256: a.sha256,
      status: 'wrong-digest',
      error: `a wheel artifact names ${wheel} and optionally ${wheel}.metadata, not ${a.paths.join(', ') || 'nothing'}`,
    });
  const f = listed.get(wheel);
  // An unlisted file is reported as missing by the file checks (or left to a delta's base).
  if (f && f.sha256 !== a.sha256)
    problems.push({
      path: f.path,
      expectedSize: f.size,
      expectedSha256: a.sha256,
      actualSize: f.size,
      actualSha256: f.sha256,
      status: 'wrong-digest',
      error: `the wheel record declares sha256 ${a.sha256} (the index's), the manifest's file list sha256 ${f.sha256}`,
    });
  return problems;
}

export const wheelKind: ArtifactKind<WheelArtifact> = {
  kind: 'wheel',
  label: KIND_LABELS.wheel,
  name: (a) => a.filename,
  ownedPaths: (a) => [...a.paths],
  verify: { record, repairHint: () => REPAIR },
  summarize: (a) => ({ group: a.project }),
  serve: { via: 'files' },
  fetch: {
    // The same file (by name and the index's sha256) is the same wheel.
    holds: (held, wanted) =>
      (wanted.filename === undefined || wanted.filename === held.filename) &&
      (wanted.sha256 === undefined || wanted.sha256 === held.sha256),
  },
};
