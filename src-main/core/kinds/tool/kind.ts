import type { FileEntry, ToolArtifact } from '../../bundle/manifest.js';
import type { ArtifactKind, RecordProblem } from '../kind.js';
import { KIND_LABELS } from '../labels.js';
import { toolId, toolPath } from './paths.js';

/**
 * The tool kind's entry in the registry (kinds/index.ts): what verify, import, the room chart and
 * fetch ask of a carried Ferry executable. Imports nothing that copies or hashes, so the bundle
 * writer's registry import stays light (the machinery is in source.ts and bundle.ts).
 */

/**
 * A tool record must say where its executable is as the format fixes it: one file at
 * tools/ferry-<platform>, under the id tool:ferry-<platform>, listed. A record naming another
 * file (a linux-x64 entry pointing at the arm64 binary) would hand the technician the wrong one.
 */
function record(a: ToolArtifact, listed: ReadonlyMap<string, FileEntry>): RecordProblem[] {
  const want = toolPath(a.platform);
  const f = listed.get(a.paths[0] ?? '');
  const wrong =
    a.paths.length !== 1
      ? `a tool artifact names ${a.paths.length} files; it must name exactly one`
      : a.paths[0] !== want
        ? `the ${a.platform} executable must be at ${want}, the record says ${a.paths[0]}`
        : a.id !== toolId(a.name, a.platform)
          ? `the record's id ${a.id} is not ${toolId(a.name, a.platform)}`
          : undefined;
  if (!wrong) return [];
  return [
    {
      path: a.paths[0] ?? want,
      // The bytes at the path the record names are not the executable its platform wants.
      status: 'wrong-digest',
      expectedSize: f?.size ?? 0,
      expectedSha256: f?.sha256 ?? '',
      error: wrong,
    },
  ];
}

export const toolKind: ArtifactKind<ToolArtifact> = {
  kind: 'tool',
  label: KIND_LABELS.tool,
  name: (a) => `${a.name} ${a.version} (${a.platform})`,
  ownedPaths: (a) => [...a.paths],
  verify: {
    record,
    repairHint: (a) =>
      `${toolPath(a.platform)} is Ferry's own executable: copy the bundle again, or fetch it again on the connected side (after npm run build:cli) and export it.`,
  },
  summarize: (a) => ({ group: a.name }),
  // The executables are for the deploy host, which reads them from the bundle or the store;
  // the nodes never fetch them, so no server offers them.
  serve: { via: 'none' },
  fetch: {
    holds: (held, wanted) =>
      (wanted.version === undefined || held.version === wanted.version) &&
      (wanted.platform === undefined || held.platform === wanted.platform) &&
      (wanted.paths === undefined ||
        (held.paths.length === wanted.paths.length && held.paths.every((p, i) => p === wanted.paths![i]))),
  },
  // The executables fetch was given (not a plan section: they are this build's, found by the
  // CLI) are copied under tools/, exactly those; without a list the bundle's tools stay as they
  // are. Not counted as downloads. bundle.ts copies and hashes: loaded only when a fetch runs.
  waitsForDownloads: true,
  held: async (dir, m, want) => !want.tools || (await import('./bundle.js')).toolsHeld(dir, m, want.tools),
  async carry(want, ctx) {
    if (!want.tools) return;
    const { syncTools } = await import('./bundle.js');
    const { tools } = await syncTools(ctx.writer, want.tools, { signal: ctx.signal });
    for (const t of tools.filter((x) => x.state === 'added'))
      ctx.log?.('info', `Carrying Ferry ${t.version} for ${t.platform} in tools/.`);
    return { tools };
  },
};
