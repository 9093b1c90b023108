import { FerryError } from '../base/errors/index.js';
import type { ArtifactSize } from './metering.js';
import { noSpaceError } from './no-space.js';
import type { FetchResult } from './options.js';
import { unreachableGroups } from './unreachable.js';

/**
 * The one error a fetch with failed artifacts ends in: a full disk as NO_SPACE with what is
 * still needed; many artifacts behind one unreachable host as one NETWORK cause; otherwise the
 * first failure (a checksum mismatch before anything else), with how many failed and what is kept.
 */
export async function failuresError(
  dir: string,
  sizes: Map<string, ArtifactSize>,
  result: FetchResult,
): Promise<FerryError> {
  const checksum = result.failures.find((f) => f.error.code === 'CHECKSUM');
  // A full disk fails every download still running, each with the same ENOSPC: one error that
  // says which disk and how much more it must hold is what the user can act on.
  if (!checksum && result.failures.some((f) => f.error.code === 'NO_SPACE'))
    return noSpaceError(dir, sizes, result);
  const groups = unreachableGroups(result.failures);
  const kept = `the ${result.counts.present + result.counts.fetched} finished artifacts are kept`;
  if (!checksum && groups.length) {
    // One cause for many artifacts: say it once, not once per artifact.
    const hints = [...new Set(groups.map((g) => g.error.hint).filter(Boolean))];
    return new FerryError(
      'NETWORK',
      `${result.failures.length} of ${result.counts.total} artifacts failed; the bundle is not finished. ${groups
        .map((g) => `${g.error.message} (${g.count} artifact${g.count === 1 ? '' : 's'})`)
        .join(' ')}`,
      {
        artifact: dir,
        details: { failures: result.failures, counts: result.counts, unreachable: groups },
        hint: `${hints.join(' ')} Until then ${kept}.`,
      },
    );
  }
  const first = checksum ?? result.failures[0];
  return new FerryError(
    first.error.code,
    `${result.failures.length} of ${result.counts.total} artifacts failed; the bundle is not finished. First: ${first.error.artifact ? `${first.error.artifact}: ` : ''}${first.error.message}`,
    {
      artifact: dir,
      details: { failures: result.failures, counts: result.counts },
      hint: `${first.error.hint ? first.error.hint + ' ' : ''}Then run the same command again: ${kept}.`,
    },
  );
}
