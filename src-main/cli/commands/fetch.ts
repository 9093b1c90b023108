import { planFromRequest } from '../../core/plan/catalog/index.js';
import {
  EXIT,
  exitCodeFor,
  FerryError,
  toErrorValue,
  type ErrorValue,
} from '../../core/base/errors/index.js';
import {
  startFetchJob,
  unreachableGroups,
  unreachableOf,
  DEFAULT_CONCURRENCY,
  DEFAULT_CONNECTIONS_PER_HOST,
  type FetchOptions,
  type FetchResult,
} from '../../core/fetch/fetch-bundle.js';
import { parsePlan, readPlanFile, type Plan } from '../../core/plan/plan.js';
import { formatBytes } from '../../core/base/jobs/progress.js';
import type { Command, CommandContext, OptionSpec } from '../command.js';
import { kubesprayTarballFetcher } from '../kubespray-tarball.js';
import { DEFAULT_TOOL_PLATFORMS, requireTools } from '../../core/kinds/tool/index.js';
import { roomFromDownloads, type DownloadedItem } from '../../core/plan/room.js';
import { roomLines } from '../room.js';
import { planOsPackagesForCli, rpmFetchTlsForCli } from '../os-packages.js';
import { pythonOptions, pythonRequest, resolvePythonForPlan } from '../python-options.js';
import { printJsonLine, println, str, strs, TerminalProgress } from '../output.js';
import {
  clusterOptions,
  clusterOptionsGiven,
  clusterRequest,
  profileFrom,
  sourceOptions,
  sourceSettings,
} from '../source-options.js';

function parseConcurrency(v: string | undefined, flag = '--concurrency', max = 64): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new FerryError('USAGE', `${flag} '${v}' is not a whole number from 1 to ${max}.`, {
      hint: `Example: ${flag} 8`,
    });
  }
  return n;
}

export const fetch: Command = {
  name: 'fetch',
  summary:
    'Download a plan into a verified, signed bundle (resumable, parallel, through proxies and mirrors)',
  usage: '--out DIR [--kubespray TAG|DIR|TARBALL] [--profile FILE] | --plan FILE --out DIR',
  description:
    'Computes the plan as `ferry plan` does (or reads one with --plan), downloads every file and image,\n' +
    "verifies each against Kubespray's checksum or the registry's digest, and writes a bundle signed with\n" +
    'your key (ferry keys generate). Run it again after an interruption to resume; on a finished bundle it\n' +
    'does nothing; with a new plan it downloads only what is new.',
  // A getter: main.ts strips descriptions from the option objects it parses with, and fresh
  // objects keep `ferry fetch --help` intact.
  get options(): Record<string, OptionSpec> {
    return {
      out: {
        type: 'string',
        short: 'o',
        valueName: 'DIR',
        description: 'Bundle folder to write (created if missing).',
      },
      ...clusterOptions(),
      plan: {
        type: 'string',
        valueName: 'FILE',
        description: "A plan from 'ferry plan --json' instead of computing one.",
      },
      concurrency: {
        type: 'string',
        valueName: 'N',
        description: `Downloads at once (default: the profile's, else ${DEFAULT_CONCURRENCY}).`,
      },
      'connections-per-host': {
        type: 'string',
        valueName: 'N',
        description: `Connections one large download may open to its host, as Range segments (default: the profile's, else ${DEFAULT_CONNECTIONS_PER_HOST}; 1 = off).`,
      },
      ...sourceOptions(),
      ...pythonOptions(),
      tools: {
        type: 'string',
        valueName: 'DIR',
        description:
          'Folder with the Ferry executables to carry in tools/ (default: FERRY_TOOLS_DIR, else out/cli of `npm run build:cli`).',
      },
      'tool-platform': {
        type: 'string',
        multiple: true,
        valueName: 'OS-ARCH',
        description: `Deploy-host platforms to carry Ferry for (default: ${DEFAULT_TOOL_PLATFORMS.join(', ')}).`,
      },
      'no-tools': {
        type: 'boolean',
        description: 'Do not carry Ferry itself; the offline side must have Ferry installed another way.',
      },
    };
  },
  async run(ctx: CommandContext): Promise<number> {
    const v = ctx.values;
    const out = str(v.out);
    if (!out)
      throw new FerryError('USAGE', 'Where should the bundle go? --out DIR is required.', {
        hint: 'ferry fetch --profile ferry.yaml --out ./bundle',
      });
    const profile = await profileFrom(ctx);
    const { proxy, mirrors, registryMirrors, insecureRegistries } = sourceSettings(ctx, profile);
    const opts: FetchOptions = {
      out,
      concurrency: parseConcurrency(str(v.concurrency)) ?? profile?.concurrency ?? DEFAULT_CONCURRENCY,
      connectionsPerHost:
        parseConcurrency(str(v['connections-per-host']), '--connections-per-host', 16) ??
        profile?.connectionsPerHost ??
        DEFAULT_CONNECTIONS_PER_HOST,
      mirrors,
      registryMirrors,
      insecureRegistries,
      proxy,
      registries: profile?.registries ?? {},
      ...(profile?.authFile ? { authFile: profile.authFile } : {}),
      env: ctx.env,
    };

    const progress = new TerminalProgress(ctx);
    let plan: Plan;
    const planFile = str(v.plan);
    if (planFile) {
      if (clusterOptionsGiven(ctx) || pythonRequest(v)) {
        throw new FerryError(
          'USAGE',
          '--plan takes a finished plan; it cannot be combined with --kubespray, --inventory, --set, --kube-version, --arch, the --os options or the deploy-host Python options.',
        );
      }
      plan = await readPlanFile(planFile);
      opts.extraFiles = (profile?.extraFiles ?? []).map((e) => ({
        url: e.url,
        sha256: e.sha256.toLowerCase(),
        ...(e.path ? { path: e.path } : {}),
      }));
    } else {
      const tarballs = kubesprayTarballFetcher(ctx, { mirrors, proxy }, { jsonLines: true });
      try {
        const {
          plan: computed,
          data,
          options: computeOptions,
          warnings,
        } = await planFromRequest(clusterRequest(ctx, profile), {
          signal: ctx.signal,
          env: ctx.env,
          fetchTarball: tarballs.fetchTarball,
        });
        for (const w of warnings) {
          if (ctx.json) printJsonLine(ctx, { type: 'warning', warning: w });
          else ctx.stderr.write(`warning: ${w.message}\n`);
        }
        // OS packages per --os / profile `os`, resolved now so plan.json pins them (core/kinds/deb).
        const osp = await planOsPackagesForCli(ctx, profile, { data, options: computeOptions });
        if (osp) {
          computed.debs = osp.debs;
          if (osp.rpms.length) computed.rpms = osp.rpms;
        }
        const py = pythonRequest(v, profile);
        if (py) computed.python = await resolvePythonForPlan(py, data, ctx, { proxy, mirrors });
        plan = parsePlan(computed, 'the computed plan');
        if (data.source.kind === 'tarball') opts.kubesprayTarballFile = data.source.path;
      } finally {
        await tarballs.close();
      }
    }

    // The .rpm files come from the hosts planning read the metadata from, with its certificate.
    const hostTls = await rpmFetchTlsForCli(ctx, profile, plan.rpms);
    if (hostTls) opts.hostTls = hostTls;

    // The bundle carries Ferry itself unless told not to (kinds/tool); checked before any
    // download, after the plan so that its usage errors come first.
    if (v['no-tools']) {
      if (v.tools || strs(v['tool-platform']).length)
        throw new FerryError('USAGE', '--no-tools cannot be combined with --tools or --tool-platform.');
      opts.tools = [];
    } else {
      const platforms = strs(v['tool-platform'])
        .flatMap((p) => p.split(','))
        .filter(Boolean);
      const toolsDir = str(v.tools);
      opts.tools = await requireTools({
        ...(toolsDir ? { dir: toolsDir } : {}),
        ...(platforms.length ? { platforms } : {}),
        env: ctx.env,
        signal: ctx.signal,
      });
    }

    const job = startFetchJob(plan, opts);
    const onAbort = () => job.cancel();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    // A host or proxy that cannot be reached fails every artifact behind it: named once here.
    const unreachableSeen = new Set<string>();
    // The latest news per artifact, for what the download took (the app's room picture).
    const news = new Map<string, DownloadedItem>();
    job.subscribe((e) => {
      if (e.type === 'item') {
        const { id, kind, name, status, bytes } = e.item;
        if (typeof id === 'string' && typeof name === 'string' && typeof status === 'string')
          if (kind === 'file' || kind === 'image' || kind === 'kubespray')
            news.set(id, { kind, name, status, ...(typeof bytes === 'number' ? { bytes } : {}) });
      }
      if (ctx.json) {
        if (e.type === 'progress' || e.type === 'item' || e.type === 'log') printJsonLine(ctx, e);
        return;
      }
      if (e.type === 'progress') progress.update(e.progress, e.progress.phase !== 'downloading');
      else if (e.type === 'log') {
        progress.done();
        ctx.stderr.write(`${e.level}: ${e.message}\n`);
      } else if (e.type === 'item' && e.item.status === 'failed') {
        progress.done();
        const err = e.item.error as ErrorValue;
        const u = unreachableOf(err);
        if (u) {
          if (unreachableSeen.has(`${u.kind} ${u.name}`)) return;
          unreachableSeen.add(`${u.kind} ${u.name}`);
          ctx.stderr.write(
            `failed: ${u.kind === 'proxy' ? 'the proxy ' : ''}${u.name} is unreachable; every artifact that needs it is skipped (why at the end).\n`,
          );
          return;
        }
        ctx.stderr.write(`failed: ${String(e.item.name)}: ${err.message}\n`);
      }
    });
    let result: FetchResult;
    try {
      result = await job.done;
    } catch (err) {
      progress.done();
      const ev = toErrorValue(err);
      const failures = (ev.details?.failures as FetchResult['failures'] | undefined) ?? [];
      if (ctx.json) {
        printJsonLine(ctx, {
          type: job.state === 'cancelled' ? 'cancelled' : 'failed',
          ok: false,
          error: ev,
          failures,
        });
      } else if (ev.code === 'CANCELLED') {
        ctx.stderr.write(`Cancelled. Run the same command again to resume: ${opts.out}\n`);
      } else if (ev.code === 'NO_SPACE') {
        // Every download the full disk stopped failed alike: say it once, with the disk and the
        // space, and list only the failures that had another cause.
        const others = failures.filter((f) => f.error.code !== 'NO_SPACE');
        if (others.length) {
          ctx.stderr.write(`\n${others.length} failed for another reason:\n`);
          for (const f of others) ctx.stderr.write(`  ${f.name}\n    ${f.error.message}\n`);
        }
        ctx.stderr.write(`\nferry fetch: ${ev.message}\n${ev.hint ? `  → ${ev.hint}\n` : ''}`);
        const c = ev.details?.counts as FetchResult['counts'] | undefined;
        if (c)
          ctx.stderr.write(
            `Summary: ${c.fetched} fetched, ${c.present} already present, ${c.failed} not finished (${failures.length - others.length} for lack of space) of ${c.total}.\n`,
          );
      } else {
        if (failures.length) {
          ctx.stderr.write(`\n${failures.length} failed:\n`);
          for (const g of unreachableGroups(failures))
            ctx.stderr.write(
              `  ${g.count} artifact${g.count === 1 ? '' : 's'} ${g.kind === 'proxy' ? 'through the proxy' : 'from'} ${g.name}\n    ${g.error.message}\n${g.error.hint ? `    → ${g.error.hint}\n` : ''}`,
            );
          for (const f of failures.filter((x) => !unreachableOf(x.error)))
            ctx.stderr.write(
              `  ${f.name}\n    ${f.error.message}\n${f.error.hint ? `    → ${f.error.hint}\n` : ''}`,
            );
          ctx.stderr.write(
            `The bundle in ${opts.out} is not finished; the rest is kept. Fix the above and run the same command again.\n`,
          );
        } else {
          ctx.stderr.write(
            `ferry fetch: ${ev.artifact ? `${ev.artifact}: ` : ''}${ev.message}\n${ev.hint ? `  → ${ev.hint}\n` : ''}`,
          );
        }
      }
      return ev.code === 'CANCELLED' ? EXIT.FAILURE : exitCodeFor(ev.code);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
    progress.done();
    if (ctx.json) {
      printJsonLine(ctx, { type: 'result', ok: true, result });
      return EXIT.OK;
    }
    const c = result.counts;
    if (result.upToDate)
      println(ctx, `${result.bundle} is up to date: all ${c.total} artifacts present, nothing downloaded.`);
    else {
      println(ctx, `Bundle ${result.bundle} (${result.bundleId})`);
      println(
        ctx,
        `${c.fetched} fetched, ${c.present} already present${c.removed ? `, ${c.removed} removed (no longer planned)` : ''} · ${formatBytes(result.bytesDownloaded)} in ${result.seconds.toFixed(1)} s`,
      );
      println(
        ctx,
        result.signedBy
          ? `Signed with key ${result.signedBy}.`
          : "Not signed: no key yet (create one with 'ferry keys generate').",
      );
      const room = roomLines(roomFromDownloads([...news.values()]), 'What the download took');
      if (room.length) println(ctx, ['', ...room].join('\n'));
    }
    if (result.tools?.length)
      println(
        ctx,
        `Carries Ferry ${result.tools[0].version} for ${result.tools.map((t) => t.platform).join(', ')}: on the offline side run tools/ferry-<platform> from the bundle (no Node.js needed).`,
      );
    return EXIT.OK;
  },
};
