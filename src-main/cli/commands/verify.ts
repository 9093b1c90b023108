import { EXIT, FerryError } from '../../core/base/errors/index.js';
import { formatBytes } from '../../core/base/jobs/progress.js';
import { ProgressTracker } from '../../core/base/jobs/progress.js';
import { KeyStore } from '../../core/bundle/keys/index.js';
import { describeSignature, verifyBundle, type VerifyReport } from '../../core/bundle/verify/index.js';
import type { Command, CommandContext } from '../command.js';
import { printJson, println, TerminalProgress } from '../output.js';

export const signatureOptions = {
  'allow-untrusted': {
    type: 'boolean',
    description: 'Accept a valid signature by a key this machine does not trust.',
  },
  'allow-unsigned': { type: 'boolean', description: 'Accept a bundle with no signature.' },
} as const;

/** What signatureOptions ask of core's signature gate, with this machine's trusted keys. */
export function signatureFlags(ctx: CommandContext): {
  allowUntrusted: boolean;
  allowUnsigned: boolean;
  keyStore: KeyStore;
} {
  return {
    allowUntrusted: ctx.values['allow-untrusted'] === true,
    allowUnsigned: ctx.values['allow-unsigned'] === true,
    keyStore: KeyStore.fromEnv(ctx.env),
  };
}

export const verify: Command = {
  name: 'verify',
  summary: 'Check a bundle’s signature and every byte of every artifact',
  usage: 'BUNDLE',
  description:
    'Checks the signature first (trusted, unknown key, unsigned, bad), then hashes every file on all cores and\n' +
    'reports per artifact: ok, missing, wrong size, wrong digest, and extra files. Only a trusted signature over\n' +
    'an intact bundle counts as verified (exit 0); anything else exits 1.',
  options: { ...signatureOptions },
  async run(ctx) {
    const dir = ctx.positionals[0];
    if (!dir || ctx.positionals.length > 1)
      throw new FerryError('USAGE', 'ferry verify takes one BUNDLE folder.');
    const progress = new ProgressTracker();
    const term = new TerminalProgress(ctx);
    const report = await verifyBundle(dir, {
      ...signatureFlags(ctx),
      signal: ctx.signal,
      progress,
      onProgress: () => term.update(progress.snapshot()),
    });
    term.done();
    if (ctx.json) printJson(ctx, report);
    else printReport(ctx, report);
    return report.ok ? EXIT.OK : EXIT.INTEGRITY;
  },
};

export function printReport(ctx: CommandContext, r: VerifyReport): void {
  println(ctx, `Bundle ${r.bundle}`);
  if (r.kubespray)
    println(
      ctx,
      `  Kubespray ${r.kubespray.version}${r.kubespray.kubeVersion ? `, Kubernetes ${r.kubespray.kubeVersion}` : ''}, ${r.kubespray.arches.join(', ')}`,
    );
  println(ctx, `  Signature: ${describeSignature(r.signature)}`);
  const bad = r.artifacts.filter((a) => a.status !== 'ok');
  for (const a of bad) {
    println(ctx, `  ✗ ${a.status.toUpperCase()}  ${a.name}`);
    for (const p of a.problems) {
      const detail =
        p.status === 'wrong-digest'
          ? `sha256 ${p.actualSha256}, expected ${p.expectedSha256}`
          : p.status === 'wrong-size'
            ? `${p.actualSize} bytes, expected ${p.expectedSize}`
            : p.status === 'unreadable'
              ? `unreadable: ${p.error}`
              : 'missing';
      println(ctx, `      ${p.path}: ${detail}`);
    }
    if (a.hint) println(ctx, `      → ${a.hint}`);
  }
  for (const e of r.extras) println(ctx, `  ✗ EXTRA    ${e} (not in the manifest)`);
  const c = r.counts;
  println(
    ctx,
    `  ${r.artifacts.length - bad.length}/${r.artifacts.length} artifacts ok · ${c.files} files, ${formatBytes(r.bytes)} in ${r.seconds.toFixed(1)} s` +
      ` (${formatBytes(r.bytes / Math.max(r.seconds, 0.001))}/s) · ${c.missing} missing · ${c.wrongSize} wrong size · ${c.wrongDigest} wrong digest · ${c.extra} extra`,
  );
  println(
    ctx,
    r.ok
      ? r.verified
        ? 'VERIFIED: every byte matches the signed manifest.'
        : 'INTACT: every byte matches the manifest (signature accepted by your flags, not trusted).'
      : 'NOT VERIFIED.',
  );
}
