import fs from 'node:fs/promises';
import path from 'node:path';
import { copyFileHashed } from '../../base/fs/atomic.js';
import { FerryError } from '../../base/errors/index.js';
import type { Manifest, ToolArtifact } from '../../bundle/manifest.js';
import { resolveInside } from '../../bundle/paths.js';
import type { BundleWriter } from '../../bundle/writer.js';
import { toolId, toolPath } from './paths.js';
import type { ToolFile } from './source.js';

/**
 * The `tool` artifact kind in a bundle (docs/bundle-format.md): Ferry's own executable for one
 * platform at `tools/ferry-<platform>`, id `tool:ferry-<platform>`. Its bytes are listed, hashed
 * and verified like every other file; what this module adds is putting them there, and the
 * executable bit, which no manifest records and every copy (fetch, export to a folder, import)
 * must give back.
 */

export function toolArtifact(t: Pick<ToolFile, 'name' | 'platform' | 'version'>): ToolArtifact {
  return {
    id: toolId(t.name, t.platform),
    kind: 'tool',
    name: t.name,
    platform: t.platform,
    version: t.version,
    paths: [toolPath(t.platform)],
  };
}

export function toolArtifacts(m: Pick<Manifest, 'artifacts'>): ToolArtifact[] {
  return m.artifacts.filter((a): a is ToolArtifact => a.kind === 'tool');
}

/** Does the artifact (and its file entry) hold exactly this executable? */
function holds(
  a: ToolArtifact | undefined,
  entry: { size: number; sha256: string } | undefined,
  t: ToolFile,
): boolean {
  const want = toolArtifact(t);
  return (
    !!a &&
    !!entry &&
    a.version === want.version &&
    a.paths.length === 1 &&
    a.paths[0] === want.paths[0] &&
    entry.size === t.size &&
    entry.sha256 === t.sha256
  );
}

/**
 * A finished bundle carries exactly these executables (no more, no fewer, same bytes, present at
 * their size): what a fetch checks before it calls a bundle up to date.
 */
export async function toolsHeld(dir: string, m: Manifest, tools: readonly ToolFile[]): Promise<boolean> {
  const have = toolArtifacts(m);
  if (have.length !== tools.length) return false;
  const files = new Map(m.files.map((f) => [f.path, f]));
  for (const t of tools) {
    const a = have.find((x) => x.id === toolId(t.name, t.platform));
    const entry = files.get(toolPath(t.platform));
    if (!holds(a, entry, t)) return false;
    const st = await fs.lstat(resolveInside(dir, toolPath(t.platform))).catch(() => undefined);
    if (!st?.isFile() || st.size !== t.size) return false;
  }
  return true;
}

export interface ToolSync {
  /** Platforms carried, and whether this run copied the executable or found it in place. */
  tools: Array<{ platform: string; version: string; state: 'present' | 'added' }>;
  removed: string[];
}

/**
 * Make the writer's bundle carry exactly `tools`: executables no longer wanted go (their files
 * follow when the fetch drops unreferenced files), a missing or different one is copied in,
 * checked against the sha256 the build recorded, and made executable before it is renamed into
 * place.
 */
export async function syncTools(
  writer: BundleWriter,
  tools: readonly ToolFile[],
  opts: { signal?: AbortSignal | undefined; onBytes?: ((n: number) => void) | undefined } = {},
): Promise<ToolSync> {
  const out: ToolSync = { tools: [], removed: [] };
  const wanted = new Set(tools.map((t) => toolId(t.name, t.platform)));
  for (const a of writer.listArtifacts())
    if (a.kind === 'tool' && !wanted.has(a.id)) {
      await writer.removeArtifact(a.id);
      out.removed.push(a.id);
    }
  for (const t of tools) {
    const rel = toolPath(t.platform);
    const abs = resolveInside(writer.dir, rel);
    const a = writer.artifact(toolId(t.name, t.platform));
    const st = await fs.lstat(abs).catch(() => undefined);
    if (
      holds(a?.kind === 'tool' ? a : undefined, writer.file(rel), t) &&
      st?.isFile() &&
      st.size === t.size
    ) {
      await makeExecutable(abs);
      out.tools.push({ platform: t.platform, version: t.version, state: 'present' });
      continue;
    }
    const tmp = writer.tempPath(path.basename(rel));
    const h = await copyFileHashed(t.file, tmp, opts);
    if (h.sha256 !== t.sha256 || h.size !== t.size) {
      await fs.rm(tmp, { force: true });
      throw new FerryError(
        'CHECKSUM',
        `${t.file} is not the executable the build recorded (sha256 ${h.sha256.slice(0, 16)}…, expected ${t.sha256.slice(0, 16)}…).`,
        { artifact: t.file, hint: 'Build it again with `npm run build:cli`, then run the fetch again.' },
      );
    }
    await makeExecutable(tmp);
    await writer.commitFile(tmp, rel, h);
    await writer.addArtifact(toolArtifact(t));
    out.tools.push({ platform: t.platform, version: t.version, state: 'added' });
  }
  return out;
}

/**
 * chmod a+x, keeping the other bits. A file system without Unix modes (FAT, exFAT, NTFS through
 * some drivers) refuses or ignores it; there the mount options decide, so that is not an error.
 */
export async function makeExecutable(abs: string): Promise<boolean> {
  try {
    const st = await fs.stat(abs);
    await fs.chmod(abs, (st.mode & 0o7777) | 0o111);
    return ((await fs.stat(abs)).mode & 0o111) === 0o111;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EROFS' || code === 'EACCES') return false;
    throw err;
  }
}

/** Give back the executable bit to every tool of a bundle folder (an export target, a copy). */
export async function markToolsExecutable(dir: string, m: Manifest): Promise<string[]> {
  const done: string[] = [];
  const files = new Map(m.files.map((f) => [f.path, f]));
  for (const a of toolArtifacts(m))
    for (const p of a.paths) {
      // A split tool (never, at 128 MB, but the format allows it) has no whole file to run.
      if (files.get(p)?.parts) continue;
      const abs = resolveInside(dir, p);
      if (
        await fs.lstat(abs).then(
          (s) => s.isFile(),
          () => false,
        )
      )
        if (await makeExecutable(abs)) done.push(p);
    }
  return done;
}
