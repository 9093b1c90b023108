import path from 'node:path';
import { EXIT, FerryError } from '../../core/base/errors/index.js';
import { dataDir } from '../../core/base/config/dirs.js';
import { systemDriveSource } from '../../core/media/drives/index.js';
import { exportBundle, parseSize, type ExportResult } from '../../core/media/export/index.js';
import { formatBytes, ProgressTracker } from '../../core/base/jobs/progress.js';
import { KeyStore } from '../../core/bundle/keys/index.js';
import type { Command, CommandContext } from '../command.js';
import { printJson, println, str, strs, TerminalProgress } from '../output.js';

export const exportCommand: Command = {
  name: 'export',
  summary: 'Copy a bundle to removable media and read it back to prove the copy',
  usage: 'BUNDLE --to PATH',
  description:
    'Preflight first (free space, FAT32 4 GiB file limit, write permission, system drive), then every file is\n' +
    'copied with fsync and read back from the media (O_DIRECT on Linux, bypassing the page cache) and hashed.\n' +
    'The manifest and signature are written last. An interrupted export resumes when run again.\n' +
    'Files too large for FAT32 are split into parts listed in the (re-signed) manifest, unless --no-split.',
  options: {
    to: { type: 'string', description: 'Folder on the drive to write the bundle to.', valueName: 'PATH' },
    archive: {
      type: 'boolean',
      description: 'Write the bundle as tar parts plus an index (ferry-archive.json).',
    },
    split: {
      type: 'string',
      description: 'With --archive: maximum part size, e.g. 4000M or 700M.',
      valueName: 'SIZE',
    },
    since: {
      type: 'string',
      description: 'Delta: leave out what the bundle with this manifest (file or folder) already has.',
      valueName: 'OLD_MANIFEST',
    },
    only: {
      type: 'string',
      multiple: true,
      description:
        'Repair export: only this artifact (id as `ferry import` names it), for a store holding a damaged copy.',
      valueName: 'ARTIFACT_ID',
    },
    'no-split': { type: 'boolean', description: 'Refuse (instead of split) files too large for the target.' },
    force: { type: 'boolean', description: 'Allow a target on a system drive.' },
    'allow-untrusted': {
      type: 'boolean',
      description: 'Export a bundle signed by a key this machine does not trust.',
    },
    'no-direct': { type: 'boolean', description: 'Read back through the page cache (faster, proves less).' },
  },
  async run(ctx) {
    const bundle = ctx.positionals[0];
    const to = str(ctx.values.to);
    if (!bundle || ctx.positionals.length > 1 || !to)
      throw new FerryError('USAGE', 'Usage: ferry export BUNDLE --to PATH');
    const split = str(ctx.values.split);
    if (split && !ctx.values.archive) throw new FerryError('USAGE', '--split SIZE goes with --archive.');
    const progress = new ProgressTracker();
    const term = new TerminalProgress(ctx);
    const result = await exportBundle(bundle, {
      to,
      archive: ctx.values.archive === true,
      ...(split ? { split: parseSize(split) } : {}),
      since: str(ctx.values.since),
      ...(strs(ctx.values.only).length ? { only: strs(ctx.values.only) } : {}),
      splitLarge: ctx.values['no-split'] !== true,
      force: ctx.values.force === true,
      allowUntrusted: ctx.values['allow-untrusted'] === true,
      direct: ctx.values['no-direct'] !== true,
      keyStore: KeyStore.fromEnv(ctx.env),
      drives: systemDriveSource([dataDir(ctx.env), ctx.env.HOME ?? '']),
      signal: ctx.signal,
      progress,
      onProgress: () => term.update(progress.snapshot()),
      onLog: (level, m) => {
        if (!ctx.json && level === 'warn') {
          term.done();
          ctx.stderr.write(`warning: ${m}\n`);
        }
      },
    });
    term.done();
    if (ctx.json) printJson(ctx, { ok: true, ...result });
    else printExport(ctx, result);
    return EXIT.OK;
  },
};

export function readBackNote(r: ExportResult): string {
  const { direct, buffered } = r.readBack;
  if (direct + buffered === 0) return 'nothing new to read back';
  if (buffered === 0)
    return `all ${direct} file(s) read back from the device with O_DIRECT (page cache bypassed)`;
  if (direct === 0) {
    return `${buffered} file(s) read back through a fresh descriptor after fsync: this ${process.platform === 'linux' ? 'file system refused O_DIRECT, so ' : 'OS offers Node no cache bypass, so '}the read may have come from the OS cache and proves the file system, not the flash`;
  }
  return `${direct} file(s) read back with O_DIRECT, ${buffered} through a fresh descriptor (the file system refused O_DIRECT for them)`;
}

function printExport(ctx: CommandContext, r: ExportResult): void {
  println(
    ctx,
    `Exported bundle ${r.bundleId} to ${r.to} (${r.mode === 'archive' ? `${r.archiveParts} tar part(s)` : `${r.files} file(s)`})`,
  );
  println(
    ctx,
    `  written ${formatBytes(r.bytesWritten)}, already there and verified ${formatBytes(r.bytesReused)}, in ${r.seconds.toFixed(1)} s`,
  );
  println(ctx, `  read-back: ${readBackNote(r)}`);
  for (const s of r.split)
    println(ctx, `  split ${s.path} into ${s.parts} parts (FAT32 holds at most 4 GiB - 1 byte per file)`);
  if (r.delta)
    println(
      ctx,
      `  delta of ${r.delta.baseId}: left out ${r.delta.omittedFiles} file(s), ${formatBytes(r.delta.omittedBytes)}`,
    );
  println(
    ctx,
    `  manifest: ${r.signature === 'kept' ? `original signature kept${r.signer ? ` (${r.signer})` : ''}` : r.signature === 're-signed' ? `re-signed${r.signer ? ` by ${r.signer}` : ''}` : 'UNSIGNED'}`,
  );
  println(
    ctx,
    `Import on the offline side with: ferry import ${path.basename(r.to) === r.to ? r.to : JSON.stringify(r.to)}`,
  );
}
