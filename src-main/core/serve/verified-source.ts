import fs from 'node:fs/promises';
import { registerServedRoot } from './fileserver/send.js';
import { FerryError } from '../base/errors/index.js';
import { openBundle } from '../bundle/reader.js';
import { directorySource, type BundleSource } from '../bundle/source.js';
import {
  extraFilesProblem,
  verifyOpenedBundle,
  type VerifyOptions,
  type VerifyReport,
} from '../bundle/verify/index.js';

/** A source that only exposes the given bundle paths: what is not verified does not exist. */
export function restrictSource(src: BundleSource, allowed: (rel: string) => boolean): BundleSource {
  return {
    id: src.id,
    manifest: src.manifest,
    entry: (rel) => (allowed(rel) ? src.entry(rel) : undefined),
    filePath: (rel) => (allowed(rel) ? src.filePath(rel) : undefined),
  };
}

export interface VerifiedBundle {
  source: BundleSource;
  report: VerifyReport;
  /** Bundle paths left out because they did not verify. */
  excluded: string[];
  /** With allowDamaged, the extra-file problem served around (the files themselves are never served). */
  extraProblem?: string;
}

/**
 * Verify a bundle folder and return a source over its intact files. A damaged bundle is refused
 * unless allowDamaged: then only the files that hashed correctly are served, and an image with
 * any damaged blob is left out whole by the registry (a partial image is worse than none: the
 * pull fails on a node halfway through instead of at once with 'manifest unknown').
 */
export async function openVerifiedBundle(
  dir: string,
  opts: VerifyOptions & { allowDamaged?: boolean } = {},
): Promise<VerifiedBundle> {
  // The manifest served is the very object whose bytes the signature and the hashes were checked
  // against: a manifest swapped in on disk during or after verification is never read.
  const opened = await openBundle(dir);
  // The root's real path is taken before hashing, so a root swapped later does not move what is served.
  const realRoot = await fs.realpath(opened.dir);
  const report = await verifyOpenedBundle(opened, opts);
  const bad = new Set<string>();
  for (const a of report.artifacts) for (const p of a.problems) bad.add(p.path);
  // The same extra-file policy as `ferry verify` (one function): extra files make the bundle not intact.
  const extraProblem = extraFilesProblem(report.extras);
  if (extraProblem && !opts.allowDamaged)
    throw new FerryError(
      'INTEGRITY',
      `The bundle at ${report.bundle} holds ${extraProblem}; \`ferry verify\` refuses it too.`,
      {
        artifact: report.extras[0],
        hint: 'Remove the extra files or copy the bundle again; --allow-damaged serves the listed, intact files only.',
        details: { extras: report.extras },
      },
    );
  if (bad.size > 0 && !opts.allowDamaged) {
    const names = report.artifacts.filter((a) => a.status !== 'ok').map((a) => a.name);
    throw new FerryError(
      'INTEGRITY',
      `The bundle at ${report.bundle} has ${bad.size} damaged or missing file(s) (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}); Ferry serves only verified content.`,
      {
        artifact: report.bundle,
        hint: 'Copy the bundle again, or pass --allow-damaged to serve the intact part (damaged images and files are left out).',
        details: { damaged: names },
      },
    );
  }
  const src = directorySource(opened);
  registerServedRoot(opened.dir, realRoot);
  const listed = new Set(src.manifest.files.map((f) => f.path));
  return {
    source: restrictSource(src, (rel) => listed.has(rel) && !bad.has(rel)),
    report,
    excluded: [...bad].sort(),
    ...(extraProblem ? { extraProblem } : {}),
  };
}
