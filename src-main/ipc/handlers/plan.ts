import { supportedKubeVersions } from '../../core/plan/catalog/index.js';
import type { Plan } from '../../core/plan/catalog/index.js';
import { plannedItems } from '../../core/kinds/index.js';
import type { PlanPrepared, PlanSizesT, PlanSummary } from '../contract.js';
import { sizePlanOnline, type PlanSizes } from '../../core/fetch/sizes.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { roomFromSizes, roomGroups } from '../../core/plan/room.js';
import { knownReleases } from '../../core/plan/releases.js';
import { mirrorOptions, type Planner } from './planning.js';
/** plan.*: the known releases, a release read, the plan and its sizes from the cluster choices. */
export function planHandlers(
  s: AppServices,
  { load, corePlan, withOsPackages }: Planner,
): Pick<Handlers, 'plan.kubesprayVersions' | 'plan.prepare' | 'plan.compute' | 'plan.sizes'> {
  return {
    'plan.kubesprayVersions': () =>
      knownReleases({ env: s.env }).map(({ version, newest, cached }) => ({ version, newest, cached })),
    'plan.prepare': ({ kubespray }) => {
      const job = s.jobs.start('plan', async (ctx): Promise<PlanPrepared> => {
        ctx.progress.setPhase('reading Kubespray');
        ctx.report();
        const { data } = await load(kubespray, ctx);
        ctx.progress.setPhase('ready');
        return { kubesprayVersion: data.tag, kubeVersions: supportedKubeVersions(data) };
      });
      return { jobId: job.id };
    },
    'plan.compute': async (choices) => {
      const { plan, warnings } = await corePlan(choices);
      const view = planView(plan);
      return { ...view, warnings: [...warnings, ...view.warnings] };
    },
    'plan.sizes': async (choices) => {
      const r = await corePlan(choices);
      // The nodes' OS packages are sized from the archives' signed indexes (the same resolution
      // fetch.start makes, its indexes cached); an archive out of reach leaves them unsized.
      let plan: Plan = r.plan;
      let debsUnknown: string | undefined;
      try {
        plan = await withOsPackages(choices, r);
      } catch (err) {
        debsUnknown = (err as Error)?.message ?? String(err);
      }
      const net = await mirrorOptions(s);
      const sizes = await sizePlanOnline(plan, { env: s.env, ...net });
      if (debsUnknown)
        sizes.artifacts.push({
          kind: 'debs',
          key: 'debs',
          name: 'OS packages',
          bytes: null,
          unknown: debsUnknown,
          group: 'os packages',
        });
      return sizesView(plan, { ...sizes, unsized: sizes.artifacts.filter((a) => a.bytes === null).length });
    },
  };
}

/** Sizes grouped as planView groups the plan (core/plan/room), so the room chart draws bytes. */
export function sizesView(p: Plan, sizes: PlanSizes): PlanSizesT {
  return {
    bytes: sizes.unsized ? null : sizes.knownBytes,
    knownBytes: sizes.knownBytes,
    unsized: sizes.unsized,
    largestFile: Math.max(0, ...sizes.artifacts.map((a) => a.largestFile ?? a.bytes ?? 0)),
    groups: roomFromSizes(p, sizes.artifacts),
    notSized: sizes.artifacts
      .filter((a) => a.bytes === null)
      .map((a) => ({ name: a.name, reason: a.unknown ?? 'unknown' })),
  };
}

export function planView(p: Plan): PlanSummary {
  const files = p.files.filter((f) => f.enabled !== false);
  const images = p.images.filter((i) => i.enabled !== false);
  // What the kinds carry from sections of their own (the deploy host's wheels).
  const wheels = plannedItems({ plan: p }).length;
  const warnings: string[] = [];
  const noSum = files.filter((f) => !f.checksum);
  if (noSum.length)
    warnings.push(
      `${noSum.length} file(s) have no published checksum: ${noSum
        .slice(0, 3)
        .map((f) => f.key)
        .join(', ')}`,
    );
  return {
    kubesprayVersion: p.kubespray,
    kubeVersion: p.kubeVersion,
    arches: p.arches,
    counts: {
      files: files.length,
      images: images.length,
      total: files.length + images.length + (p.kubesprayTarball ? 1 : 0) + wheels,
    },
    bytes: null,
    groups: roomGroups(p),
    warnings,
  };
}
