import fs from 'node:fs/promises';
import path from 'node:path';
import { toErrorValue, type ErrorValue } from '../../base/errors/index.js';
import { ARCHIVE_INDEX } from '../../bundle/archive-format.js';
import { checkSignature, type KeyInfo, type SignatureStatus } from '../../bundle/keys/index.js';
import { MANIFEST_FILE } from '../../bundle/manifest.js';
import { openBundle } from '../../bundle/reader.js';
import { countKinds } from '../../kinds/index.js';
import { isArchiveDir, readArchiveHead } from '../import/archive-head.js';

/**
 * The bundle scan: which bundles a drive (or any folder) carries, read without verifying them,
 * for the app's media step and `ferry bundles`. A bundle folder is summarised from its manifest,
 * an archive export from its index and the head of its parts; the signature is checked against
 * the trusted keys, the contents are not (verify and import do that).
 */

/** How deep below a drive's root a bundle folder is looked for (root, ferry/, ferry/<id>/). */
const SCAN_DEPTH = 2;
const SCAN_MAX_DIRS = 200;

export interface FoundBundle {
  dir: string;
  format: 'folder' | 'archive';
  /** Archive exports: how many bundle.tar.NNN parts the index lists. */
  parts?: number;
  id: string;
  kubesprayVersion: string | null;
  kubeVersion: string | null;
  arches: string[];
  createdAt: string;
  /** What its files add up to. */
  bytes: number;
  counts: { files: number; images: number; artifacts: number };
  signature: SignatureStatus;
  /** Ferry's own executables it carries (the tool kind), by platform: how to run Ferry from it. */
  tools: Array<{ platform: string; version: string; path: string }>;
}

/** A bundle folder or an archive export, summarised; throws if it is neither. */
export async function describeBundle(dir: string, trusted: KeyInfo[]): Promise<FoundBundle> {
  const head = (await isArchiveDir(dir)) ? await readArchiveHead(dir) : undefined;
  const b = head ?? (await openBundle(dir));
  const m = b.manifest;
  const kinds = countKinds(m.artifacts);
  return {
    dir: b.dir,
    format: head ? 'archive' : 'folder',
    ...(head ? { parts: head.index.parts.length } : {}),
    id: m.id,
    kubesprayVersion: m.kubespray?.version ?? null,
    kubeVersion: m.kubespray?.kubeVersion ?? null,
    arches: m.kubespray?.arches ?? [],
    createdAt: m.createdAt,
    bytes: m.files.reduce((n, f) => n + f.size, 0),
    counts: {
      files: kinds.file,
      images: kinds.image,
      artifacts: m.artifacts.length,
    },
    signature: await checkSignature(b.manifestBytes, b.signatureBytes, trusted),
    tools: m.artifacts
      .flatMap((a) =>
        a.kind === 'tool' ? [{ platform: a.platform, version: a.version, path: a.paths[0] }] : [],
      )
      .sort((x, y) => x.platform.localeCompare(y.platform)),
  };
}

/**
 * Folders under root (to SCAN_DEPTH) that hold a manifest.json (bundle folders) or a
 * ferry-archive.json (archive exports, pushed to `archives`); hidden folders are skipped.
 */
export async function findBundleDirs(root: string, archives: string[] = []): Promise<string[]> {
  const found: string[] = [];
  let visited = 0;
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (visited++ > SCAN_MAX_DIRS) return;
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.isFile() && e.name === MANIFEST_FILE)) {
      found.push(dir);
      return;
    }
    if (entries.some((e) => e.isFile() && e.name === ARCHIVE_INDEX)) {
      archives.push(dir);
      return;
    }
    if (depth >= SCAN_DEPTH) return;
    for (const e of entries) {
      if (e.isDirectory() && !e.name.startsWith('.') && !e.name.startsWith('$'))
        await walk(path.join(dir, e.name), depth + 1);
    }
  };
  await walk(root, 0);
  return found;
}

export interface ScanResult {
  bundles: FoundBundle[];
  /** Places that looked like bundles but could not be read, with why. */
  problems: Array<{ label: string; dir: string; error: ErrorValue }>;
}

/** Every bundle under each root (a drive's mount point, a folder), `label` naming the root. */
export async function scanForBundles(
  roots: Array<{ label: string; dir: string }>,
  trusted: KeyInfo[],
): Promise<ScanResult> {
  const out: ScanResult = { bundles: [], problems: [] };
  for (const root of roots) {
    const archives: string[] = [];
    const dirs = await findBundleDirs(root.dir, archives);
    for (const dir of [...dirs, ...archives]) {
      try {
        out.bundles.push(await describeBundle(dir, trusted));
      } catch (err) {
        out.problems.push({
          label: `${root.label}: ${path.relative(root.dir, dir) || '/'}`,
          dir,
          error: toErrorValue(err),
        });
      }
    }
  }
  return out;
}
