import type { JobContext } from '../base/jobs/job.js';
import { CARRYING_KINDS, type CarryContext, type CarryWant } from '../kinds/index.js';
import type { FetchItemEvent, FetchResult } from './options.js';

/**
 * One run over the kinds that carry a section of their own (kinds/kind.ts `carry`: OS packages
 * and their signed repositories, wheels, Ferry's own tools), in registry order, after the files
 * and images: with `last`, the kinds that wait for the downloads (`waitsForDownloads`), else the
 * others. A kind's per-item failures count with the downloads' when it counts its items
 * (`planned`); the errors of sections that failed as a whole are returned, for fetch to throw
 * after the downloads' own failures.
 */
export async function carrySections(
  carried: CarryWant,
  result: FetchResult,
  ctx: JobContext,
  lent: Omit<CarryContext, 'onItem'>,
  last: boolean,
): Promise<unknown[]> {
  const p = ctx.progress;
  const errors: unknown[] = [];
  for (const k of CARRYING_KINDS) {
    if (!!k.waitsForDownloads !== last) continue;
    const counted = !!k.planned;
    const out = await k.carry!(carried, {
      ...lent,
      // A package or a wheel is a file to the app's download list.
      onItem: (ev) => {
        if (counted) {
          if (ev.status === 'present') result.counts.present++;
          if (ev.status === 'done') result.counts.fetched++;
          if (ev.status === 'failed') {
            result.counts.failed++;
            p.itemsFailed++;
            result.failures.push({ id: ev.id, name: ev.name, error: ev.error! });
          } else if (ev.status !== 'started') p.itemsDone++;
        }
        ctx.item({ ...ev, kind: 'file' } satisfies FetchItemEvent);
        if (counted) ctx.report();
      },
    }).catch((err: unknown) => {
      if (!ctx.signal.aborted) errors.push(err);
      return undefined;
    });
    if (ctx.signal.aborted) break;
    result.counts.removed += out?.removed ?? 0;
    if (out?.tools) result.tools = out.tools;
  }
  return errors;
}
