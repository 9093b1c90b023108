import type { RepoArtifact } from '../../bundle/manifest.js';
import type { BundleWriter } from '../../bundle/writer.js';
import { metadataPath, wheelPath } from './paths.js';
import type { ResolvedWheelSet } from './set.js';
import { groupByProject, indexFile, projectHtml, rootHtml, type IndexFile } from './simple-index.js';

/**
 * The bundle's own static copy of its PEP 503 index (docs/bundle-format.md): `python/simple/
 * index.html` and `python/simple/<project>/index.html`, the same pages `ferry serve` computes, so
 * that any plain web server pointed at the bundle folder serves a working index
 * (`pip install --index-url http://host/python/simple/`). One `repo` artifact (format `pypi`)
 * lists them, so they are signed, verified and copied like every other file. HTML only (a plain
 * server cannot negotiate PEP 691 JSON), and metadata announced as `data-core-metadata` only, the
 * form Debian 12's pip 23.0.1 accepts (simple-index.ts).
 */

export const PYPI_REPO_ID = 'repo:pypi';
export const STATIC_INDEX_DIR = 'python/simple';

/** From `python/simple/<project>/` to `python/files/<filename>`. */
const href = (f: IndexFile): string => `../../files/${encodeURIComponent(f.filename)}`;

/**
 * Write the pages for the wheels the writer now holds (every wheel of `sets` fetched), and the
 * artifact naming them; with no wheels, the artifact goes (fetch drops its unreferenced pages).
 */
export async function writeStaticIndex(
  writer: BundleWriter,
  sets: readonly ResolvedWheelSet[] | undefined,
): Promise<RepoArtifact | undefined> {
  const files: IndexFile[] = [];
  const seen = new Set<string>();
  for (const set of sets ?? [])
    for (const w of set.wheels) {
      if (seen.has(w.filename)) continue;
      seen.add(w.filename);
      const entry = writer.file(wheelPath(w.filename));
      // Only what the bundle holds, as its file list says: a page never names a missing file.
      if (!entry) continue;
      files.push(indexFile(w, entry, writer.file(metadataPath(w.filename))));
    }
  if (!files.length) {
    await writer.removeArtifact(PYPI_REPO_ID);
    return undefined;
  }
  const grouped = groupByProject(files);
  const paths: string[] = [];
  const root = `${STATIC_INDEX_DIR}/index.html`;
  await writer.addBytes(root, rootHtml([...grouped.keys()]));
  paths.push(root);
  for (const [project, list] of grouped) {
    const rel = `${STATIC_INDEX_DIR}/${project}/index.html`;
    await writer.addBytes(rel, projectHtml(project, list, href));
    paths.push(rel);
  }
  const indexes = [...new Set((sets ?? []).flatMap((s) => s.indexes))];
  const a: RepoArtifact = {
    id: PYPI_REPO_ID,
    kind: 'repo',
    format: 'pypi',
    paths,
    sources: indexes.map((uri) => ({ uri })),
  };
  await writer.addArtifact(a);
  return a;
}
