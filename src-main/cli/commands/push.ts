import fs from 'node:fs/promises';
import { EXIT, FerryError } from '../../core/base/errors/index.js';
import { formatBytes, ProgressTracker } from '../../core/base/jobs/progress.js';
import { CredentialStore, defaultAuthFiles } from '../../core/fetch/oci/auth.js';
import { parsePushTarget, pushImages } from '../../core/serve/push/index.js';
import type { Command } from '../command.js';
import { printJson, println, str, TerminalProgress } from '../output.js';
import { openSources, bundleOptions } from './serve.js';
import { signatureOptions } from './verify.js';

export const push: Command = {
  name: 'push',
  summary: 'Copy every image of a bundle into a registry the site already runs (Harbor, Nexus, …)',
  description:
    'Images go under REGISTRY/PREFIX with Kubespray-style names (quay.io/calico/node → PREFIX/calico/node), so\n' +
    '`ferry vars --registry REGISTRY/PREFIX` points Kubespray at them. Blobs already there are skipped, blobs\n' +
    'pushed in this run are mounted across repositories, large blobs go up in chunks. Credentials: --username\n' +
    'with --password-env, or a Docker/Podman auth.json (--auth-file, else the usual locations).',
  options: {
    to: {
      type: 'string',
      valueName: 'REGISTRY[/PREFIX]',
      description: 'Target registry and optional repository prefix.',
    },
    ...bundleOptions('The bundle whose images to push.'),
    ca: {
      type: 'string',
      valueName: 'FILE',
      description: 'CA certificate (PEM) that issued the registry’s certificate.',
    },
    insecure: {
      type: 'boolean',
      description: 'Plain HTTP (or HTTPS without verification with --ca absent and --https).',
    },
    https: {
      type: 'boolean',
      description: 'With --insecure: HTTPS without certificate verification instead of plain HTTP.',
    },
    username: { type: 'string', valueName: 'USER', description: 'Registry user.' },
    'password-env': {
      type: 'string',
      valueName: 'VAR',
      description: 'Environment variable holding the password (never on the command line).',
    },
    'auth-file': {
      type: 'string',
      valueName: 'FILE',
      description: 'Docker/Podman auth.json with credentials.',
    },
    'chunk-size': {
      type: 'string',
      valueName: 'MiB',
      description: 'Blobs above this go up in chunks of this size (default 32).',
    },
    'allow-damaged': { type: 'boolean', description: 'Push the intact images of a damaged bundle.' },
    ...signatureOptions,
  },
  async run(ctx) {
    const to = str(ctx.values.to);
    if (!to) throw new FerryError('USAGE', 'ferry push needs --to REGISTRY[/PREFIX].');
    const target = parsePushTarget(to);
    const chunkRaw = str(ctx.values['chunk-size']);
    if (chunkRaw !== undefined && !/^\d{1,5}$/.test(chunkRaw))
      throw new FerryError('USAGE', `--chunk-size is a number of MiB, not '${chunkRaw}'.`);
    const user = str(ctx.values.username);
    const passEnv = str(ctx.values['password-env']);
    if (user && !passEnv)
      throw new FerryError(
        'USAGE',
        '--username needs --password-env VAR (the password is read from that variable).',
      );
    if (passEnv && ctx.env[passEnv] === undefined)
      throw new FerryError('USAGE', `The environment variable ${passEnv} is not set.`);
    const creds = new CredentialStore(
      user ? { [target.host]: { username: user, passwordEnv: passEnv } } : {},
      ctx.env,
    );
    const authFile = str(ctx.values['auth-file']);
    if (authFile) creds.loadAuthFile(authFile, true);
    else for (const f of defaultAuthFiles(ctx.env)) creds.loadAuthFile(f, false);
    const caFile = str(ctx.values.ca);
    const ca = caFile
      ? await fs.readFile(caFile, 'utf8').catch((err) => {
          throw new FerryError(
            'CONFIG',
            `Cannot read the CA certificate ${caFile}: ${(err as Error).message}`,
            { artifact: caFile },
          );
        })
      : undefined;
    const insecure = ctx.values.insecure === true;
    const sources = await openSources(ctx, (line) => (ctx.json ? undefined : ctx.stderr.write(line + '\n')));
    const progress = new ProgressTracker();
    const term = new TerminalProgress(ctx);
    const summary = await pushImages({
      sources,
      target,
      credentials: creds,
      ...(ca ? { ca } : {}),
      insecure,
      scheme: insecure && !ctx.values.https && !ca ? 'http' : 'https',
      ...(chunkRaw ? { chunkSize: Number(chunkRaw) * 1024 * 1024 } : {}),
      signal: ctx.signal,
      progress,
      onItem: () => term.update(progress.snapshot()),
      log: (_l, m) => (ctx.json ? undefined : (term.done(), ctx.stderr.write(m + '\n'))),
    });
    term.done();
    const c = summary.counts;
    if (ctx.json) printJson(ctx, summary);
    else {
      for (const i of summary.images) {
        const mark = i.status === 'pushed' ? '↑' : i.status === 'present' ? '=' : '✗';
        println(
          ctx,
          `  ${mark} ${i.status.padEnd(7)} ${i.ref} → ${i.target}${i.error ? `  (${i.error})` : ''}`,
        );
        if (i.reducedIndex)
          println(
            ctx,
            `      index reduced to the ${i.reducedIndex.platforms} platform(s) in the bundle: ${i.reducedIndex.digest} (upstream ${i.reducedIndex.upstreamDigest})`,
          );
      }
      println(
        ctx,
        `${c.pushed} pushed, ${c.present} already there, ${c.failed} failed, ${c.skipped} skipped · blobs: ${c.blobsUploaded} uploaded (${formatBytes(c.bytesUploaded)}), ${c.blobsMounted} mounted, ${c.blobsPresent} already there · ${summary.seconds.toFixed(1)} s`,
      );
      if (c.failed + c.skipped === 0)
        println(
          ctx,
          `Next: ferry vars --registry ${to.replace(/^[a-z]+:\/\//i, '')}${ca ? ` --ca ${caFile}` : ''} …`,
        );
    }
    return c.failed + c.skipped > 0 ? EXIT.FAILURE : EXIT.OK;
  },
};
