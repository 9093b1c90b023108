import type { WheelArtifact } from '../../bundle/manifest.js';
import type { ArtifactKind } from '../kind.js';
import type { ResolvedWheelSet } from './set.js';
import { fetchWheels, wheelArtifactId, wheelsInManifest, wheelsOf } from './fetch-wheels.js';

/**
 * The wheel kind's carry hooks (kinds/kind.ts): the plan's `python` section is the deploy host's
 * wheel sets; every wheel is one counted item of the fetch. Kept apart from kind.ts so the
 * registry's record checks do not pull in the download layer through it.
 */

/** plan.json's `python` section (the plan schema checked it when the plan was read). */
function setsOf(plan: unknown): readonly ResolvedWheelSet[] | undefined {
  return (plan as { python?: ResolvedWheelSet[] } | null)?.python;
}

export const wheelCarry: Pick<ArtifactKind<WheelArtifact>, 'carry' | 'planned' | 'held'> = {
  planned: (want) =>
    wheelsOf(setsOf(want.plan)).map((w) => ({ id: wheelArtifactId(w.filename), name: w.filename })),
  held: (dir, m, want) => wheelsInManifest(dir, m, setsOf(want.plan)),
  async carry(want, ctx) {
    const r = await fetchWheels(setsOf(want.plan), {
      client: ctx.client,
      writer: ctx.writer,
      signal: ctx.signal,
      concurrency: ctx.concurrency,
      mirrors: ctx.mirrors,
      onBytes: ctx.onBytes,
      onItem: (id, name, status, error) => ctx.onItem?.({ id, name, status, ...(error ? { error } : {}) }),
    });
    return { removed: r.removed };
  },
};
