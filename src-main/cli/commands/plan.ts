import {
  computePlan,
  loadKubespray,
  planFromRequest,
  requestSource,
  supportedKubeVersions,
  type ComputedPlan,
} from '../../core/plan/catalog/index.js';
import { EXIT } from '../../core/base/errors/index.js';
import { knownReleases } from '../../core/plan/releases.js';
import { kubesprayTarballFetcher } from '../kubespray-tarball.js';
import type { Command, CommandContext, OptionSpec } from '../command.js';
import { printJson, println } from '../output.js';
import {
  clusterOptions,
  clusterRequest,
  profileFrom,
  sourceOptions,
  sourceSettings,
} from '../source-options.js';
import { componentOf, roomGroups } from '../../core/plan/room.js';
import { roomLines } from '../room.js';
import { planSizes, sizeLines } from '../plan-sizes.js';
import { planOsPackagesForCli } from '../os-packages.js';
import { pythonOptions, pythonRequest, resolvePythonForPlan } from '../python-options.js';
import { describeWheelSets } from '../../core/kinds/python/plan.js';

const componentOfFile = (f: ComputedPlan['files'][number]) => (f.extra ? 'extra files' : componentOf(f.key));
const componentOfImage = (i: ComputedPlan['images'][number]) =>
  i.extra ? 'extra images' : componentOf(i.key);

function summary(plan: ComputedPlan, full: ComputedPlan | undefined): string[] {
  const out: string[] = [];
  const files = plan.files.filter((f) => f.enabled);
  const images = plan.images.filter((i) => i.enabled);
  out.push(`Kubespray ${plan.kubespray} · Kubernetes ${plan.kubeVersion} · ${plan.arches.join(', ')}`);
  out.push(
    `${files.length} files, ${images.length} images${plan.kubesprayTarball ? ', plus the Kubespray tarball' : ''}`,
  );
  out.push('');
  const groups = new Map<string, { files: string[]; images: string[] }>();
  for (const f of files) {
    const g = groups.get(componentOfFile(f)) ?? { files: [], images: [] };
    g.files.push(`${f.url.slice(f.url.lastIndexOf('/') + 1)} (${f.arches.join(', ')})`);
    groups.set(componentOfFile(f), g);
  }
  for (const i of images) {
    const g = groups.get(componentOfImage(i)) ?? { files: [], images: [] };
    g.images.push(
      i.ref +
        (plan.arches.length > 1 || i.platforms.length !== plan.arches.length
          ? ` [${i.platforms.join(', ')}]`
          : ''),
    );
    groups.set(componentOfImage(i), g);
  }
  const w = Math.max(10, ...[...groups.keys()].map((k) => k.length));
  for (const [name, g] of groups) {
    const parts = [...g.files.map((f) => `file ${f}`), ...g.images.map((i) => `image ${i}`)];
    out.push(`  ${name.padEnd(w)}  ${parts[0]}`);
    for (const p of parts.slice(1)) out.push(`  ${''.padEnd(w)}  ${p}`);
  }
  for (const c of plan.charts ?? [])
    out.push(`  ${'chart'.padEnd(w)}  ${c.url} (served with an index.yaml Ferry writes)`);
  out.push('', ...roomLines(roomGroups(plan), 'What takes the room'));
  if (full) {
    const total = full.files.length + full.images.length;
    const mine = files.length + images.length;
    const pct = total ? Math.round((100 * (total - mine)) / total) : 0;
    out.push('');
    out.push(
      `The full list (--all, what generate_list.sh gives) has ${full.files.length} files and ${full.images.length} images: ` +
        `this plan carries ${mine} of ${total} artifacts (${pct}% fewer).`,
    );
  }
  return out;
}

function listReleases(ctx: CommandContext): number {
  const releases = knownReleases({ env: ctx.env });
  if (ctx.json) {
    printJson(ctx, { releases });
    return EXIT.OK;
  }
  println(ctx, 'Kubespray releases this Ferry is tested with, newest first:');
  for (const r of releases)
    println(
      ctx,
      `  ${r.version.padEnd(9)} ${(r.newest ? 'newest' : '').padEnd(6)}  ${r.cached ? 'cached (plans without network)' : `downloaded when planned: ${r.url}`}`,
    );
  println(ctx, '');
  println(ctx, 'Plan one with: ferry plan --kubespray ' + releases[0].version);
  return EXIT.OK;
}

/** The app's Kubernetes version picker: the versions the Kubespray's checksum tables hold. */
async function listKubeVersions(
  ctx: CommandContext,
  req: ReturnType<typeof clusterRequest>,
  fetchTarball: (tag: string, url: string) => Promise<string>,
): Promise<number> {
  const data = await loadKubespray(await requestSource(req), {
    signal: ctx.signal,
    env: ctx.env,
    fetchTarball,
  });
  const versions = supportedKubeVersions(data);
  if (ctx.json) printJson(ctx, { kubespray: data.tag, kubeVersions: versions });
  else {
    println(ctx, `Kubespray ${data.tag} can install these Kubernetes versions, newest first:`);
    for (const k of versions) println(ctx, `  ${k}`);
  }
  return EXIT.OK;
}

export const plan: Command = {
  name: 'plan',
  summary: 'Compute exactly what Kubespray downloads for your cluster (files, checksums, images)',
  usage: '[--kubespray TAG|DIR|TARBALL] [--profile FILE] [--list-kube-versions] | --list-releases',
  description:
    "Evaluates Kubespray's own download data for the chosen tag, Kubernetes version, architectures and\n" +
    'inventory variables. Variable precedence: --kube-version > --set > profile vars > inventory > Kubespray.\n' +
    '--all lists every URL and image any download entry defines, enabled or not (like generate_list.sh).\n' +
    'A value Kubespray would refuse for kube_network_plugin, container_manager or kube_proxy_mode exits 2\n' +
    '(INVALID_CHOICE); a variable the tag defines nowhere is a warning (stderr; `warnings` with --json).\n' +
    'Takes every cluster and source option `ferry fetch` takes, so the same arguments plan what fetch\n' +
    'downloads; a tag is downloaded through --mirror and --proxy (the registry options only matter to fetch).',
  // Fresh objects per read: the same group as `ferry fetch`, so its arguments plan here too.
  get options(): Record<string, OptionSpec> {
    return {
      ...clusterOptions(),
      all: { type: 'boolean', description: 'List every download any entry defines, enabled or not.' },
      'list-releases': {
        type: 'boolean',
        description: 'List the Kubespray releases this Ferry is tested with (and which are cached).',
      },
      'list-kube-versions': {
        type: 'boolean',
        description: 'List the Kubernetes versions the chosen Kubespray can install, newest first.',
      },
      offline: {
        type: 'boolean',
        description: 'No network: skip the sizes (HEAD requests for files, registry manifests for images).',
      },
      ...sourceOptions(),
      ...pythonOptions(),
    };
  },
  async run(ctx: CommandContext): Promise<number> {
    const v = ctx.values;
    if (v['list-releases'] === true) return listReleases(ctx);
    const profile = await profileFrom(ctx);
    const req = { ...clusterRequest(ctx, profile), all: v.all === true };
    // A tag's release tarball is downloaded (and cached) through the same proxy and mirrors
    // `ferry fetch` would use with these arguments.
    const net = sourceSettings(ctx, profile);
    const tarballs = kubesprayTarballFetcher(ctx, { mirrors: net.mirrors, proxy: net.proxy });
    if (v['list-kube-versions'] === true)
      return listKubeVersions(ctx, req, tarballs.fetchTarball).finally(() => tarballs.close());
    const {
      plan: result,
      data,
      options,
      warnings,
    } = await planFromRequest(req, {
      signal: ctx.signal,
      env: ctx.env,
      fetchTarball: tarballs.fetchTarball,
    }).finally(() => tarballs.close());
    // OS packages: resolved from the archives' verified indexes (network), only when asked for.
    const os = req.all ? undefined : await planOsPackagesForCli(ctx, profile, { data, options });
    if (os) {
      result.debs = os.debs;
      if (os.rpms.length) result.rpms = os.rpms;
    }
    // The deploy host's wheels, when asked for (flags or the profile's `python:`).
    const py = pythonRequest(v, profile);
    if (py)
      result.python = await resolvePythonForPlan(py, data, ctx, {
        proxy: net.proxy,
        mirrors: net.mirrors,
      });
    // Sizes before downloading: the network unless --offline (a plan by folder needs none
    // otherwise). OS packages and wheels are sized from what was resolved above, without requests.
    const sizes =
      v.offline === true || req.all ? undefined : await planSizes(ctx, result, profile, net, data.tag);
    if (ctx.json) {
      // `warnings` and `sizes` ride along at the top; `ferry fetch --plan` ignores them (the plan
      // schema passes unknown keys through, and fetch drops them before writing plan.json).
      printJson(ctx, { ...result, warnings, ...(sizes ? { sizes } : {}) });
      return EXIT.OK;
    }
    // On stderr, so the plan on stdout stays the same with or without them.
    for (const w of warnings) ctx.stderr.write(`warning: ${w.message}\n`);
    if (req.all) {
      for (const f of result.files)
        println(ctx, `${f.enabled ? '*' : ' '} file  ${f.key}  ${f.url}  ${f.checksum}`);
      for (const i of result.images)
        println(ctx, `${i.enabled ? '*' : ' '} image ${i.key}  ${i.ref}  ${i.platforms.join(',')}`);
      println(ctx, '');
      println(ctx, `${result.files.length} files, ${result.images.length} images (* = used by this cluster)`);
      return EXIT.OK;
    }
    const full = computePlan(data, { ...options, all: true });
    for (const line of summary(result, full)) println(ctx, line);
    for (const line of os?.summary ?? []) println(ctx, line);
    if (sizes) for (const line of sizeLines(sizes, (a) => a.group ?? componentOf(a.key))) println(ctx, line);
    if (result.python?.length) {
      println(ctx, '');
      for (const line of describeWheelSets(result.python)) println(ctx, line);
    }
    for (const w of result.warnings ?? []) ctx.stderr.write(`warning: ${w}\n`);
    return EXIT.OK;
  },
};
