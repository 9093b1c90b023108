import path from 'node:path';
import { BundleWriter } from '../bundle/writer.js';
import { kindOf, plannedItems, type CarryContext, type CarryWant } from '../kinds/index.js';
import { carrySections } from './sections.js';
import { filesAtSize } from '../bundle/intact.js';
import { FerryError, toErrorValue } from '../base/errors/index.js';
import { Job, type JobContext, type JobRegistry } from '../base/jobs/job.js';
import { noSpaceError } from './no-space.js';
import { failuresError } from './failures.js';
import { KeyStore } from '../bundle/keys/keystore.js';
import { Limiter } from './download/limit.js';
import { checkMirrors } from './download/mirrors.js';
import type { BlobStore } from './oci/pull.js';
import type { Plan } from '../plan/plan.js';
import { clientFor, registryFor } from './clients.js';
import { ArtifactMeter, type ArtifactSize } from './metering.js';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_CONNECTIONS_PER_HOST,
  type FetchItemEvent,
  type FetchOptions,
  type FetchResult,
} from './options.js';
import { runWant, type RunContext } from './runs.js';
import {
  artifactIds,
  FETCHED_KINDS,
  heldArtifacts,
  itemKind,
  planBytes,
  upToDate,
  wantedArtifacts,
  type Want,
} from './wants.js';

export { unreachableGroups, unreachableOf, type UnreachableGroup } from './unreachable.js';
export * from './options.js';
export { planBytes, wantedArtifacts } from './wants.js';

/**
 * plan → bundle. Works out which artifacts the bundle already holds (a finished bundle whose
 * contents match the plan is left untouched, without a single request), downloads the rest in
 * parallel into resumable partials, verifies every byte against the plan's checksums or the
 * registry's digests, and only then moves it into place. Artifacts a new plan no longer names
 * are dropped with their files. The manifest is written and signed only when nothing failed;
 * otherwise the journal and partials stay, and the same command resumes.
 *
 * The parts: wants.ts (what the plan wants, what is held), clients.ts (HTTP and registry
 * clients), metering.ts (per-artifact progress and bytes), runs.ts (the file, chart and image
 * downloads); the kinds' own sections through the registry's carry hook (kinds/kind.ts).
 */

export async function fetchBundle(plan: Plan, opts: FetchOptions, ctx: JobContext): Promise<FetchResult> {
  const started = Date.now();
  const env = opts.env ?? process.env;
  const dir = path.resolve(opts.out);
  const wants = wantedArtifacts(plan, opts.extraFiles);
  const planJson = planBytes(plan);
  if (opts.mirrors) checkMirrors(opts.mirrors);
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new FerryError('USAGE', `Concurrency ${concurrency} is out of range.`, {
      hint: 'Use a whole number from 1 to 64.',
    });
  }
  const perHost = opts.connectionsPerHost ?? DEFAULT_CONNECTIONS_PER_HOST;
  if (!Number.isInteger(perHost) || perHost < 1 || perHost > 16) {
    throw new FerryError('USAGE', `Connections per host ${perHost} is out of range.`, {
      hint: 'Use a whole number from 1 to 16.',
    });
  }
  // What the kinds carry from sections of their own (wheels), counted with the downloads.
  const carried: CarryWant = { plan, ...(opts.tools ? { tools: opts.tools } : {}) };
  const planned = plannedItems(carried);
  const p = ctx.progress;
  p.setPhase('checking');
  p.itemsTotal = wants.length + planned.length;
  ctx.report();

  const result: FetchResult = {
    bundle: dir,
    bundleId: '',
    upToDate: false,
    counts: { total: wants.length + planned.length, present: 0, fetched: 0, failed: 0, removed: 0 },
    bytesDownloaded: 0,
    requests: 0,
    seconds: 0,
    failures: [],
  };

  const signer =
    opts.signer === undefined ? await KeyStore.fromEnv(env).signer() : (opts.signer ?? undefined);
  const current = await upToDate(dir, wants, planJson, signer, carried);
  if (current) {
    for (const w of wants)
      ctx.item({ id: w.id, kind: itemKind(w), name: w.name, status: 'present' } satisfies FetchItemEvent);
    for (const c of planned) ctx.item({ id: c.id, kind: 'file', name: c.name, status: 'present' });
    p.itemsDone = wants.length;
    p.setPhase('done');
    ctx.report();
    return {
      ...result,
      bundleId: current.id,
      upToDate: true,
      counts: { ...result.counts, present: wants.length + planned.length },
      ...(opts.tools
        ? {
            tools: opts.tools.map((t) => ({
              platform: t.platform,
              version: t.version,
              state: 'present' as const,
            })),
          }
        : {}),
      seconds: (Date.now() - started) / 1000,
    };
  }

  const client = await clientFor(opts, env);
  const registry = registryFor(client, opts, env, (level, message) => ctx.log(level, message));
  const writer = await BundleWriter.open(dir);
  result.bundleId = writer.id;
  let finished = false;
  try {
    // What the bundle holds already, and what the new plan no longer wants.
    const wantIds = new Set(wants.flatMap(artifactIds));
    for (const a of writer.listArtifacts()) {
      if (!FETCHED_KINDS.has(a.kind) || wantIds.has(a.id)) continue;
      await writer.removeArtifact(a.id);
      result.counts.removed++;
      ctx.item({ id: a.id, kind: a.kind as FetchItemEvent['kind'], name: a.id, status: 'removed' });
    }
    const todo: Want[] = [];
    for (const w of wants) {
      const held = heldArtifacts(w, (id) => writer.artifact(id));
      const paths = held?.flatMap((a) => a.paths);
      if (paths && (await filesAtSize(dir, paths, (q) => writer.file(q)?.size))) {
        result.counts.present++;
        p.itemsDone++;
        ctx.item({ id: w.id, kind: itemKind(w), name: w.name, status: 'present' } satisfies FetchItemEvent);
      } else todo.push(w);
    }
    p.bytesTotal = 0;
    p.setPhase('downloading');
    ctx.report();

    // What each unfinished artifact still needs, for a full disk's message.
    const sizes = new Map<string, ArtifactSize>();
    const countedBlobs = new Set<string>();
    const onBytes = (n: number) => {
      result.bytesDownloaded += n;
      p.addBytes(n);
      ctx.report();
    };
    const store: BlobStore = {
      hasBlob: (d) => writer.hasBlob(d),
      addBlobBytes: (b) => writer.addBlobBytes(b),
      resumePath: (k) => writer.resumePath(k),
      commitBlob: (t, d, s) => writer.commitBlob(t, d, s),
      blobFile: (d) => writer.blobFile(d),
    };

    const run: RunContext = {
      client,
      registry,
      writer,
      store,
      transfers: new Limiter(concurrency),
      imageSlots: new Limiter(Math.max(2, concurrency)),
      inflight: new Map(),
      opts,
      env,
      job: ctx,
    };
    const runOne = async (w: Want): Promise<void> => {
      const meter = new ArtifactMeter(w, ctx, onBytes, countedBlobs);
      sizes.set(w.id, meter.size);
      await runWant(w, meter, run);
      const bytes = meter.bytes;
      sizes.delete(w.id);
      result.counts.fetched++;
      p.itemsDone++;
      ctx.item({ id: w.id, kind: itemKind(w), name: w.name, status: 'done', bytes } satisfies FetchItemEvent);
      ctx.report();
    };

    await Promise.all(
      todo.map(async (w) => {
        try {
          await runOne(w);
        } catch (err) {
          const ev = toErrorValue(err);
          if (ev.code === 'CANCELLED' || ctx.signal.aborted) return;
          result.counts.failed++;
          p.itemsFailed++;
          result.failures.push({ id: w.id, name: w.name, error: ev });
          ctx.item({
            id: w.id,
            kind: itemKind(w),
            name: w.name,
            status: 'failed',
            error: ev,
          } satisfies FetchItemEvent);
          ctx.report();
        }
      }),
    );
    // What the plan lists outside files and images (OS packages and their signed repositories,
    // wheels, Ferry's own tools): each kind carries its own section. Those that wait for the
    // downloads (kinds/kind.ts `waitsForDownloads`) run only once everything else arrived.
    const lent: Omit<CarryContext, 'onItem'> = {
      client,
      writer,
      mirrors: opts.mirrors,
      signal: ctx.signal,
      concurrency,
      onBytes,
      keysDir: KeyStore.fromEnv(env).dir,
      log: (level, message) => ctx.log(level, message),
      ...(opts.repoSigner ? { repoSigner: opts.repoSigner } : {}),
    };
    const cancelled = () => new FerryError('CANCELLED', 'Cancelled; run the same command again to resume.');
    const sectionErrors = await carrySections(carried, result, ctx, lent, false);
    result.requests = client.requests;
    if (ctx.signal.aborted) throw cancelled();
    if (result.failures.length) throw await failuresError(dir, sizes, result);
    if (sectionErrors.length) throw sectionErrors[0];
    const lastErrors = await carrySections(carried, result, ctx, lent, true);
    if (ctx.signal.aborted) throw cancelled();
    if (lastErrors.length) throw lastErrors[0];

    p.setPhase('finishing');
    p.current = undefined;
    ctx.report();
    await writer.addBytes('plan.json', planJson);
    await writer.addArtifact({ id: 'meta:plan', kind: 'meta', name: 'Plan', paths: ['plan.json'] });
    await writer.setKubespray({
      version: plan.kubespray,
      kubeVersion: plan.kubeVersion,
      arches: plan.arches,
    });
    await dropUnreferenced(writer);
    const manifest = await writer.finalize({ signer }).catch(async (err: unknown) => {
      // Every byte is in; only the plan, manifest or signature did not fit.
      throw toErrorValue(err).code === 'NO_SPACE' ? await noSpaceError(dir, sizes, result, err) : err;
    });
    finished = true;
    result.bundleId = manifest.id;
    const fingerprint = signer && (signer as { fingerprint?: string }).fingerprint;
    if (fingerprint) result.signedBy = fingerprint;
    p.setPhase('done');
    ctx.report();
    return { ...result, seconds: (Date.now() - started) / 1000 };
  } finally {
    if (!finished) await writer.close();
    result.requests = client.requests;
    await client.close();
  }
}

/** Files no artifact names any more (a replanned bundle) go, so the bundle is what the plan says. */
async function dropUnreferenced(writer: BundleWriter): Promise<void> {
  const keep = new Set<string>(['plan.json', 'images/oci-layout', 'images/index.json']);
  for (const a of writer.listArtifacts()) for (const q of kindOf(a).ownedPaths(a)) keep.add(q);
  for (const f of writer.listFiles()) if (!keep.has(f.path)) await writer.removeFile(f.path);
}

/** Run a fetch as a Job (the app's job registry, or a standalone job for the CLI). */
export function startFetchJob(plan: Plan, opts: FetchOptions, registry?: JobRegistry): Job<FetchResult> {
  const run = (ctx: JobContext) => fetchBundle(plan, opts, ctx);
  return registry ? registry.start('fetch', run) : new Job('fetch', run);
}
