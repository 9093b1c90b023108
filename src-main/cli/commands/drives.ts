import { EXIT } from '../../core/base/errors/index.js';
import { dataDir } from '../../core/base/config/dirs.js';
import { systemDriveSource, watchDrives, type Drive } from '../../core/media/drives/index.js';
import { formatBytes } from '../../core/base/format/bytes.js';
import { driveNotes } from '../../core/media/drives/notes.js';
import type { Command, CommandContext } from '../command.js';
import { printJson, printJsonLine, println } from '../output.js';

function line(d: Drive): string {
  const flags = [d.removable ? 'removable' : '', d.system ? 'SYSTEM' : ''].filter(Boolean).join(' ');
  return `  ${d.mountPoint.padEnd(24)} ${d.label.padEnd(16)} ${d.fsType.padEnd(8)} ${formatBytes(d.free).padStart(10)} free of ${formatBytes(d.size).padEnd(10)} ${d.device} ${flags}`;
}

/** A drive's line and, under it, the notes the app shows with it (FAT32, system drive). */
export function driveLines(d: Drive): string[] {
  return [line(d), ...driveNotes(d).map((n) => `      ${n}`)];
}

/** The drive as JSON: core's fields plus the notes. */
const withNotes = (d: Drive) => ({ ...d, notes: driveNotes(d) });

export const drives: Command = {
  name: 'drives',
  summary: 'List removable drives (export targets); --watch to follow them coming and going',
  options: {
    all: { type: 'boolean', description: 'Also list fixed and system drives.' },
    watch: { type: 'boolean', description: 'Keep listing changes until Ctrl-C (JSON: one object per line).' },
  },
  async run(ctx: CommandContext) {
    const source = systemDriveSource([dataDir(ctx.env), ctx.env.HOME ?? '']);
    const show = (ds: Drive[]) => (ctx.values.all ? ds : ds.filter((d) => d.removable && !d.system));
    if (!ctx.values.watch) {
      const ds = show(await source.list());
      if (ctx.json) printJson(ctx, { drives: ds.map(withNotes) });
      else {
        if (!ds.length)
          println(ctx, 'No removable drive found. Plug one in, or use --all to see every drive.');
        for (const d of ds) for (const l of driveLines(d)) println(ctx, l);
      }
      return EXIT.OK;
    }
    await new Promise<void>((resolve) => {
      watchDrives(
        source,
        (c) => {
          const added = show(c.added);
          const removed = show(c.removed);
          const changed = show(c.changed);
          if (ctx.json)
            printJsonLine(ctx, {
              added: added.map(withNotes),
              removed,
              changed: changed.map(withNotes),
              drives: show(c.drives).map(withNotes),
            });
          else {
            for (const d of added) {
              const [first, ...notes] = driveLines(d);
              println(ctx, `+ ${first.trim()}`);
              for (const n of notes) println(ctx, n);
            }
            for (const d of removed) println(ctx, `- ${d.mountPoint} (${d.label}) went away`);
            for (const d of changed) println(ctx, `~ ${line(d).trim()}`);
          }
        },
        { signal: ctx.signal },
      );
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    return EXIT.OK;
  },
};
