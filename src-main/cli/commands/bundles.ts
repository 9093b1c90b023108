import path from 'node:path';
import { EXIT, exitCodeFor } from '../../core/base/errors/index.js';
import { dataDir } from '../../core/base/config/dirs.js';
import { formatBytes } from '../../core/base/format/bytes.js';
import { KeyStore } from '../../core/bundle/keys/index.js';
import { describeSignature } from '../../core/bundle/verify/index.js';
import { systemDriveSource } from '../../core/media/drives/index.js';
import { scanForBundles, type FoundBundle } from '../../core/media/scan/index.js';
import type { Command, CommandContext } from '../command.js';
import { printJson, println } from '../output.js';

function bundleLines(b: FoundBundle): string[] {
  const ks = [
    b.kubesprayVersion ? `Kubespray ${b.kubesprayVersion}` : 'no Kubespray recorded',
    b.kubeVersion ? `Kubernetes ${b.kubeVersion}` : '',
    b.arches.join(', '),
  ]
    .filter(Boolean)
    .join(' · ');
  const what =
    b.format === 'archive'
      ? `archive export in ${b.parts} part${b.parts === 1 ? '' : 's'} (checked while imported: ferry import)`
      : 'bundle folder (ferry verify, ferry serve or ferry import)';
  return [
    `${b.dir}`,
    `  ${what}`,
    `  ${b.id} · ${ks}`,
    `  ${b.counts.files} files, ${b.counts.images} images · ${formatBytes(b.bytes)} · created ${b.createdAt}`,
    `  Signature: ${describeSignature(b.signature)}`,
    b.tools.length
      ? `  Carries Ferry ${b.tools[0].version} for ${b.tools.map((t) => t.platform).join(', ')}: ${b.tools.map((t) => t.path).join(', ')}`
      : '  Does not carry Ferry itself',
  ];
}

export const bundles: Command = {
  name: 'bundles',
  summary: 'Find the bundles and archive exports on the drives (or in folders), as the app’s media step does',
  usage: '[DIR…]',
  description:
    'Looks on every mounted drive (or only in the folders given) for bundle folders and archive exports, up to\n' +
    'two levels down (DIR, DIR/ferry, DIR/ferry/<id>), and shows what each carries and who signed it. Nothing is\n' +
    'verified yet: `ferry verify` checks every byte of a folder, `ferry import` an archive as it copies it.',
  async run(ctx: CommandContext) {
    let roots: Array<{ label: string; dir: string }>;
    if (ctx.positionals.length) roots = ctx.positionals.map((d) => ({ label: d, dir: path.resolve(d) }));
    else {
      const drives = await systemDriveSource([dataDir(ctx.env), ctx.env.HOME ?? '']).list();
      roots = drives.map((d) => ({ label: d.label, dir: d.mountPoint }));
    }
    const found = await scanForBundles(roots, await KeyStore.fromEnv(ctx.env).list());
    const code =
      found.problems.length && !found.bundles.length ? exitCodeFor(found.problems[0].error.code) : EXIT.OK;
    if (ctx.json) {
      printJson(ctx, { ok: code === EXIT.OK, ...found, searched: roots.map((r) => r.dir) });
      return code;
    }
    if (!found.bundles.length && !found.problems.length) {
      const where = ctx.positionals.length ? ctx.positionals.join(', ') : `${roots.length} drive(s)`;
      println(ctx, `No bundle found in ${where}.`);
      println(ctx, 'A bundle is a folder with manifest.json, an archive export one with ferry-archive.json.');
    }
    for (const b of found.bundles) {
      for (const l of bundleLines(b)) println(ctx, l);
      println(ctx);
    }
    for (const p of found.problems)
      ctx.stderr.write(
        `cannot read ${p.label}: ${p.error.message}\n${p.error.hint ? `  → ${p.error.hint}\n` : ''}`,
      );
    // Only unreadable bundles found: the first one's reason is the exit code a script sees.
    return code;
  },
};
