import { EXIT, FerryError } from '../../core/base/errors/index.js';
import { formatBytes } from '../../core/base/jobs/progress.js';
import { defaultStoreDir, gcStore, Store } from '../../core/media/store/index.js';
import type { Command, CommandContext } from '../command.js';
import { printJson, println, str } from '../output.js';
import { storeOption } from './import.js';

function storeFrom(ctx: CommandContext): Store {
  return new Store(str(ctx.values.store) ?? defaultStoreDir(ctx.env));
}

export const storeLs: Command = {
  name: 'store ls',
  summary: 'List the bundles in the local store',
  options: { ...storeOption },
  async run(ctx) {
    const store = storeFrom(ctx);
    const bundles = await store.list();
    const rows = bundles.map((b) => ({
      id: b.record.bundleId,
      version: b.record.manifestSha256.slice(0, 16),
      status: b.record.status,
      kubespray: b.manifest.kubespray?.version,
      createdAt: b.manifest.createdAt,
      importedAt: b.record.importedAt,
      signature: b.record.signature,
      artifacts: b.manifest.artifacts.length,
      bytes: b.record.bytes,
      ...(b.record.base ? { base: b.record.base.id } : {}),
      damaged: b.record.damaged.map((d) => d.path),
      missing: b.record.missing.map((d) => d.path),
    }));
    if (ctx.json) {
      printJson(ctx, { store: store.root, bundles: rows });
      return EXIT.OK;
    }
    println(ctx, `Store ${store.root}: ${rows.length} bundle version(s)`);
    for (const r of rows) {
      const sig = r.signature.status === 'trusted' ? `signed by ${r.signature.signer}` : r.signature.status;
      println(
        ctx,
        `  ${r.id}  v${r.version}  ${r.status.toUpperCase()}  Kubespray ${r.kubespray ?? '?'}  ${r.artifacts} artifacts, ${formatBytes(r.bytes)}  ${sig}${r.base ? `  delta of ${r.base}` : ''}`,
      );
      for (const d of [...r.damaged, ...r.missing]) println(ctx, `      needs repair: ${d}`);
    }
    return EXIT.OK;
  },
};

export const storeGc: Command = {
  name: 'store gc',
  summary: 'Delete blobs no stored bundle uses, and leftover temp files',
  options: {
    ...storeOption,
    'dry-run': { type: 'boolean', description: 'Only report what would be deleted.' },
    quarantine: { type: 'boolean', description: 'Also delete quarantined (damaged) files.' },
  },
  async run(ctx) {
    const store = storeFrom(ctx);
    const r = await gcStore(store, {
      dryRun: ctx.values['dry-run'] === true,
      quarantine: ctx.values.quarantine === true,
    });
    if (ctx.json) printJson(ctx, { store: store.root, ...r });
    else {
      println(
        ctx,
        `${r.dryRun ? 'Would delete' : 'Deleted'} ${r.removedBlobs} blob(s), ${formatBytes(r.removedBytes)}; kept ${r.keptBlobs}; ${r.removedTemp} temp file(s)` +
          (r.removedQuarantine ? `; ${r.removedQuarantine} quarantine folder(s)` : ''),
      );
    }
    return EXIT.OK;
  },
};

export const storeRm: Command = {
  name: 'store rm',
  summary: 'Remove a bundle (all versions, or one with --version) from the store',
  usage: 'BUNDLE_ID',
  options: {
    ...storeOption,
    version: {
      type: 'string',
      description: 'Only this version (as `ferry store ls` shows it).',
      valueName: 'V',
    },
    force: { type: 'boolean', description: 'Remove it even if a stored delta builds on it.' },
  },
  async run(ctx) {
    const id = ctx.positionals[0];
    if (!id || ctx.positionals.length > 1) throw new FerryError('USAGE', 'Usage: ferry store rm BUNDLE_ID');
    const store = storeFrom(ctx);
    const version = str(ctx.values.version);
    const all = await store.list();
    const victims = all.filter(
      (b) => b.record.bundleId === id && (!version || b.record.manifestSha256.startsWith(version)),
    );
    if (!victims.length)
      throw new FerryError(
        'NOT_FOUND',
        `No bundle ${id}${version ? ` version ${version}` : ''} in ${store.root}.`,
        { artifact: id },
      );
    const dependents = all.filter(
      (b) =>
        b.record.base &&
        victims.some(
          (v) =>
            v.record.bundleId === b.record.base!.id &&
            v.record.manifestSha256 === b.record.base!.manifestSha256,
        ),
    );
    if (dependents.length && ctx.values.force !== true) {
      throw new FerryError(
        'USAGE',
        `${dependents.length} stored delta(s) build on ${id}: ${dependents.map((d) => d.record.bundleId).join(', ')}.`,
        {
          hint: 'Remove them first, or pass --force (they then cannot be served).',
        },
      );
    }
    const n = await store.remove(id, version);
    if (ctx.json) printJson(ctx, { removed: n, id });
    else println(ctx, `Removed ${n} version(s) of ${id}. Run 'ferry store gc' to free the space.`);
    return EXIT.OK;
  },
};

export const storeCommands: Command[] = [storeLs, storeGc, storeRm];
