import type { FileEntry, WheelArtifact } from '../../bundle/manifest.js';
import type { ArtifactKind, RecordProblem } from '../kind.js';
import { KIND_LABELS } from '../labels.js';

/**
 * The `wheel` kind (a Python distribution for the deploy host): the distribution file, named
 * by its `filename`, and beside a wheel its PEP 658 core metadata `<file>.metadata`
 * (kinds/python/fetch-wheels.ts writes `python/files/<filename>` and the sidecar). The record
 * declares the index's sha256, which must be the sha256 the signed file list gives the file.
 */

function record(a: WheelArtifact, listed: ReadonlyMap<string, FileEntry>): RecordProblem[] {
  const [file, meta, ...rest] = a.paths;
  const bad = (error: string, path = file ?? a.id): RecordProblem[] => [
    // A record that names its files wrongly cannot vouch for their digest.
    {
      path,
      status: 'wrong-digest',
      expectedSize: listed.get(path)?.size ?? 0,
      expectedSha256: a.sha256,
      error,
    },
  ];
  if (!file || rest.length)
    return bad(`a wheel artifact names ${a.paths.length} files; it names its file and at most its .metadata`);
  if (file.slice(file.lastIndexOf('/') + 1) !== a.filename)
    return bad(`the wheel record names ${a.filename}, its path is ${file}`);
  if (meta !== undefined && meta !== `${file}.metadata`)
    return bad(`the wheel's second path must be ${file}.metadata, not ${meta}`, meta);
  const f = listed.get(file);
  // An unlisted file is reported as missing by the file checks (or left to a delta's base).
  if (!f || f.sha256 === a.sha256) return [];
  return [
    {
      path: f.path,
      status: 'wrong-digest',
      expectedSize: f.size,
      expectedSha256: a.sha256,
      actualSize: f.size,
      actualSha256: f.sha256,
      error: `the wheel record declares sha256 ${a.sha256} (the index's), the manifest's file list sha256 ${f.sha256}`,
    },
  ];
}

export const wheelKind: ArtifactKind<WheelArtifact> = {
  kind: 'wheel',
  label: KIND_LABELS.wheel,
  name: (a) => a.filename,
  ownedPaths: (a) => [...a.paths],
  verify: {
    record,
    repairHint: (a) =>
      `Copy the bundle again, or fetch again on the connected side (${a.filename}${a.url ? ` comes from ${a.url}` : ''}).`,
  },
  summarize: (a) => ({ group: a.project }),
  serve: { via: 'files' },
  fetch: {
    // The index's sha256 decides: the same filename with other bytes is another file.
    holds: (a, w) => a.filename === w.filename && a.sha256 === w.sha256,
  },
};
