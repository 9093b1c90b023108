import { EXIT, FerryError } from '../../core/base/errors/index.js';
import { importBundle, type ImportReport } from '../../core/media/import/index.js';
import { formatBytes, ProgressTracker } from '../../core/base/jobs/progress.js';
import { describeSignature } from '../../core/bundle/verify/index.js';
import { defaultStoreDir } from '../../core/media/store/index.js';
import type { Command, CommandContext } from '../command.js';
import { printJson, println, str, TerminalProgress } from '../output.js';
import { signatureFlags, signatureOptions } from './verify.js';

export const storeOption = {
  store: {
    type: 'string',
    description: 'The store folder (default: the store in Ferry’s data folder).',
    valueName: 'DIR',
  },
} as const;

export const importCommand: Command = {
  name: 'import',
  summary: 'Verify a bundle from media and import it into the local store',
  usage: 'SOURCE',
  description:
    'SOURCE is a bundle folder or an archive export (ferry-archive.json and its tar parts). The signature is\n' +
    'checked first; then every file is verified on all cores as it is copied into the store. Damaged files are\n' +
    'quarantined and named, the rest imports; importing a second copy (or a re-export) repairs the bundle.\n' +
    'The source is only read. Exit 0 when the bundle is complete in the store, 1 when something is damaged.',
  options: {
    ...storeOption,
    ...signatureOptions,
  },
  async run(ctx) {
    const source = ctx.positionals[0];
    if (!source || ctx.positionals.length > 1)
      throw new FerryError('USAGE', 'Usage: ferry import SOURCE [--store DIR]');
    const progress = new ProgressTracker();
    const term = new TerminalProgress(ctx);
    const report = await importBundle(source, {
      store: str(ctx.values.store) ?? defaultStoreDir(ctx.env),
      ...signatureFlags(ctx),
      signal: ctx.signal,
      progress,
      onProgress: () => term.update(progress.snapshot()),
      onItem: (i) => {
        if (i.type === 'signature' && !ctx.json) {
          term.done();
          ctx.stderr.write(`Signature: ${i.description}\n`);
        }
      },
    });
    term.done();
    if (ctx.json) printJson(ctx, { ok: report.status === 'complete', ...report });
    else printImport(ctx, report);
    return report.status === 'complete' ? EXIT.OK : EXIT.INTEGRITY;
  },
};

function printImport(ctx: CommandContext, r: ImportReport): void {
  println(ctx, `Bundle ${r.bundleId} from ${r.source}`);
  println(ctx, `  Signature: ${describeSignature(r.signature)}`);
  for (const a of r.artifacts.filter((x) => x.state !== 'good')) {
    println(ctx, `  ✗ ${a.state.toUpperCase()}  ${a.name}`);
    for (const p of a.problems ?? []) println(ctx, `      ${p}`);
  }
  for (const e of r.extras) println(ctx, `  ! EXTRA    ${e} (not in the manifest, not imported)`);
  for (const d of r.damaged) if (d.quarantined) println(ctx, `  quarantined ${d.path} → ${d.quarantined}`);
  const good = r.artifacts.filter((a) => a.state === 'good').length;
  println(
    ctx,
    `  ${good}/${r.artifacts.length} artifacts good · copied ${r.filesCopied} file(s), ${formatBytes(r.bytesCopied)} · ${r.filesShared} already in the store · ${r.seconds.toFixed(1)} s`,
  );
  for (const id of r.repaired) println(ctx, `  repaired bundle ${id}: it is now complete`);
  println(ctx, `  store: ${r.store}`);
  for (const t of r.tools ?? [])
    println(ctx, `  Ferry ${t.version} for ${t.platform}, ready to run: ${t.path}`);
  if (r.status === 'complete') println(ctx, 'IMPORTED: every artifact verified against the signed manifest.');
  else {
    println(ctx, 'INCOMPLETE: the good artifacts are imported; the bundle is not served until repaired.');
    if (r.hint) println(ctx, `  → ${r.hint}`);
  }
}
