import { formatBytes } from '../core/base/jobs/progress.js';
import {
  sizePlanOnline,
  sizesBy,
  type PlanSizes,
  type SizablePlan,
  type SizedArtifact,
} from '../core/fetch/sizes.js';
import { cachedTarballPath } from '../core/plan/catalog/index.js';
import type { Profile } from '../core/plan/profile/index.js';
import type { CommandContext } from './command.js';
import type { SourceSettings } from './source-options.js';

/**
 * `ferry plan`'s sizes: HEAD requests and registry manifests through the same proxy, mirrors
 * and registry credentials `ferry fetch` would use with these arguments. Short timeouts and few
 * retries: a plan that cannot reach the network still prints, its sizes marked unknown.
 */
export async function planSizes(
  ctx: CommandContext,
  plan: SizablePlan,
  profile: Profile | undefined,
  net: SourceSettings,
  /** The Kubespray tag planned, whose tarball plan's cache may already hold. */
  tag?: string,
): Promise<PlanSizes> {
  return sizePlanOnline(plan, {
    env: ctx.env,
    proxy: net.proxy,
    mirrors: net.mirrors,
    registryMirrors: net.registryMirrors,
    insecureRegistries: net.insecureRegistries,
    ...(profile?.registries ? { registries: profile.registries } : {}),
    ...(profile?.authFile ? { authFile: profile.authFile } : {}),
    ...(tag ? { localTarball: cachedTarballPath(tag, { env: ctx.env }) } : {}),
    signal: ctx.signal,
  });
}

/** The plan's component a sized artifact belongs to, by the same grouping as the summary. */
export function sizeLines(sizes: PlanSizes, componentOf: (a: SizedArtifact) => string): string[] {
  const out: string[] = [''];
  const unsized = sizes.artifacts.filter((a) => a.bytes === null);
  out.push(
    `Bundle size before downloading: ${unsized.length ? 'at least ' : ''}${formatBytes(sizes.knownBytes)}` +
      (sizes.sharedImageBytes
        ? ` (image layers shared between images counted once: ${formatBytes(sizes.sharedImageBytes)} saved)`
        : ''),
  );
  const groups = sizesBy(sizes, componentOf);
  const w = Math.max(10, ...groups.map((g) => g.name.length));
  for (const g of groups) {
    const shown = g.unsized === g.count ? 'not sized' : formatBytes(g.bytes);
    const more = g.unsized && g.unsized < g.count ? `  (+ ${g.unsized} of ${g.count} not sized)` : '';
    out.push(`  ${g.name.padEnd(w)}  ${shown.padStart(10)}${more}`);
  }
  if (unsized.length) {
    // One line per reason: an unreachable host is one cause, not twenty artifacts.
    const reasons = new Map<string, string[]>();
    for (const a of unsized) {
      const r = (a.unknown ?? 'unknown').replace(a.name, '(the URL)');
      reasons.set(r, [...(reasons.get(r) ?? []), a.name]);
    }
    out.push(`Not sized (${unsized.length}, left out of the total):`);
    for (const [r, names] of reasons)
      out.push(`  ${names.length === 1 ? names[0] : `${names.length} artifacts`}: ${r}`);
    if (unsized.length === sizes.artifacts.length)
      out.push('  (no size could be fetched; --offline skips the network, --json lists every artifact)');
  }
  return out;
}
