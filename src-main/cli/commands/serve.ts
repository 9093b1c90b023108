import path from 'node:path';
import { EXIT, FerryError } from '../../core/base/errors/index.js';
import { configDir } from '../../core/base/config/dirs.js';
import { formatBytes, ProgressTracker } from '../../core/base/jobs/progress.js';
import type { BundleSource } from '../../core/bundle/source.js';
import { openServeSources } from '../../core/serve/sources.js';
import {
  DEFAULT_FILES_PORT,
  DEFAULT_REGISTRY_PORT,
  OfflineServer,
  defaultAdvertiseAddress,
  type RequestLog,
} from '../../core/serve/server.js';
import { ensureServerCert, loadUserCert, type TlsMaterial } from '../../core/serve/tls/ca.js';
import { bundleVars, generateVars } from '../../core/serve/vars/index.js';
import { defaultStoreDir } from '../../core/media/store/index.js';
import { pipConfig } from '../../core/kinds/python/pip-config.js';
import type { Command, CommandContext, OptionSpec } from '../command.js';
import { printJson, printJsonLine, println, str, strs, TerminalProgress } from '../output.js';
import { listInterfaces } from '../../core/serve/interfaces.js';
import { signatureFlags, signatureOptions } from './verify.js';

export const tlsOptions = {
  tls: {
    type: 'boolean',
    description: "Serve HTTPS with a certificate from Ferry's local CA (made once, kept in the config dir).",
  },
  hostname: {
    type: 'string',
    multiple: true,
    valueName: 'NAME',
    description:
      'Name or address nodes use to reach this machine (first one goes into the URLs and the certificate).',
  },
  'tls-cert': {
    type: 'string',
    valueName: 'FILE',
    description: 'Use your own certificate (PEM) instead of Ferry’s CA.',
  },
  'tls-key': { type: 'string', valueName: 'FILE', description: 'Key of --tls-cert (PEM).' },
  'tls-ca': { type: 'string', valueName: 'FILE', description: 'CA that issued --tls-cert, handed to nodes.' },
  'tls-dir': {
    type: 'string',
    valueName: 'DIR',
    description: 'Where Ferry keeps its CA and server certificate (default: <config dir>/tls).',
  },
} as const;

export function parsePort(v: unknown, flag: string, dflt: number): number {
  const s = str(v);
  if (s === undefined) return dflt;
  if (!/^\d{1,5}$/.test(s) || Number(s) > 65535)
    throw new FerryError('USAGE', `--${flag} must be a port number (0–65535), not '${s}'.`);
  return Number(s);
}

/** TLS material from the flags: the user's own certificate, Ferry's CA, or none. */
export async function tlsFromFlags(ctx: CommandContext, advertise: string): Promise<TlsMaterial | undefined> {
  const cert = str(ctx.values['tls-cert']);
  const key = str(ctx.values['tls-key']);
  if (cert || key) {
    if (!cert || !key) throw new FerryError('USAGE', '--tls-cert and --tls-key go together.');
    return loadUserCert(cert, key, str(ctx.values['tls-ca']));
  }
  if (ctx.values.tls !== true) return undefined;
  const names = strs(ctx.values.hostname);
  const all = [...new Set([...(names.length ? names : [advertise]), 'localhost', '127.0.0.1'])];
  return ensureServerCert(str(ctx.values['tls-dir']) ?? path.join(configDir(ctx.env), 'tls'), all);
}

/** The options openSources reads to find the bundles: --bundle, or else the store. */
export function bundleOptions(
  bundle: string,
  store = 'The local store (imported bundles; the default when no --bundle is given).',
) {
  return {
    bundle: { type: 'string', valueName: 'DIR', description: bundle },
    store: { type: 'string', valueName: 'DIR', description: store },
  } as const satisfies Record<string, OptionSpec>;
}

export async function openSources(
  ctx: CommandContext,
  onVerify?: (line: string) => void,
): Promise<BundleSource[]> {
  const progress = new ProgressTracker();
  const term = new TerminalProgress(ctx);
  const bundle = str(ctx.values.bundle);
  // After `ferry import`, the default store is what a technician means when naming nothing.
  const store = str(ctx.values.store) ?? (bundle ? undefined : defaultStoreDir(ctx.env));
  const opened = await openServeSources({
    bundle,
    store,
    ...signatureFlags(ctx),
    allowDamaged: ctx.values['allow-damaged'] === true,
    signal: ctx.signal,
    progress,
    onProgress: () => term.update(progress.snapshot()),
  });
  term.done();
  onVerify?.(opened.summary);
  return opened.sources;
}

function printInterfaces(ctx: CommandContext): number {
  const all = listInterfaces();
  if (ctx.json) {
    printJson(ctx, { interfaces: all });
    return EXIT.OK;
  }
  const w = Math.max(9, ...all.map((i) => i.name.length));
  println(ctx, `${'INTERFACE'.padEnd(w)}  ADDRESS`);
  for (const i of all)
    println(ctx, `${i.name.padEnd(w)}  ${i.address}${i.internal ? '  (loopback: this machine only)' : ''}`);
  println(ctx, '');
  println(ctx, 'Serve on one with --listen ADDRESS (default: every address).');
  return EXIT.OK;
}

export const serve: Command = {
  name: 'serve',
  summary: 'Serve a bundle’s files and images to the cluster (file server + OCI registry)',
  description:
    'Verifies the bundle, then serves its files/ tree as Kubespray’s files_repo and its images as a read-only\n' +
    'OCI registry, both straight from the bundle (no copy). Images answer by Kubespray-style names\n' +
    '(quay.io/calico/node → <registry>/calico/node) and, for containerd hosts.toml mirrors, by their original\n' +
    'names (?ns=quay.io). Prints the URLs and the variables to use, logs requests, stops on Ctrl-C.',
  options: {
    ...bundleOptions(
      'The bundle folder to serve.',
      'The local store to serve (every imported bundle; the default when no --bundle is given).',
    ),
    listen: { type: 'string', valueName: 'ADDR', description: 'Address to listen on (default: all).' },
    'files-port': {
      type: 'string',
      valueName: 'N',
      description: `File server port (default ${DEFAULT_FILES_PORT}).`,
    },
    'registry-port': {
      type: 'string',
      valueName: 'N',
      description: `Registry port (default ${DEFAULT_REGISTRY_PORT}).`,
    },
    ...tlsOptions,
    'allow-damaged': {
      type: 'boolean',
      description: 'Serve the intact part of a damaged bundle (damaged images and files are left out).',
    },
    quiet: { type: 'boolean', short: 'q', description: 'Do not log each request.' },
    'list-interfaces': {
      type: 'boolean',
      description: 'List the addresses --listen can take (as the app offers them) and exit.',
    },
    ...signatureOptions,
  },
  async run(ctx) {
    if (ctx.values['list-interfaces'] === true) return printInterfaces(ctx);
    const filesPort = parsePort(ctx.values['files-port'], 'files-port', DEFAULT_FILES_PORT);
    const registryPort = parsePort(ctx.values['registry-port'], 'registry-port', DEFAULT_REGISTRY_PORT);
    const listen = str(ctx.values.listen);
    const advertise = strs(ctx.values.hostname)[0] ?? defaultAdvertiseAddress(listen);
    const note = (line: string) => (ctx.json ? undefined : ctx.stderr.write(line + '\n'));
    const sources = await openSources(ctx, note);
    const tls = await tlsFromFlags(ctx, advertise);
    const quiet = ctx.values.quiet === true;
    const onRequest = (r: RequestLog) => {
      // A refusal (content changed or moved since it was verified) is logged even with --quiet.
      if (quiet && !r.refused) return;
      if (ctx.json) printJsonLine(ctx, { event: 'request', ...r });
      else
        ctx.stderr.write(
          `${r.time} ${r.client} ${r.service} ${r.method} ${r.path} ${r.status} ${formatBytes(r.bytes)} ${r.ms}ms` +
            (r.refused ? ` refused ${r.refused}` : '') +
            '\n',
        );
    };
    const server = await OfflineServer.start({
      sources,
      listen,
      filesPort,
      registryPort,
      tls,
      advertise,
      onRequest,
    });
    const st = server.status();
    // The variables for the bundle's own Kubespray version; without its tarball, just the addresses.
    const varsInput = {
      filesUrl: server.filesUrl,
      registry: server.registryHost,
      registryTls: !!tls,
      style: 'kubespray' as const,
      madeBy: 'ferry serve',
      ...(tls?.ca ? { caPem: tls.ca } : {}),
    };
    const vars = await bundleVars({ source: sources[0], ...varsInput }).then(
      (r) => r.generated.variables,
      () =>
        generateVars({ ...varsInput, kubesprayVersion: 'unknown', defaults: new Map(), upstreams: [] })
          .variables,
    );
    delete vars.ferry_ca_certificate;
    if (ctx.json) {
      printJsonLine(ctx, {
        event: 'ready',
        filesUrl: server.filesUrl,
        registryUrl: server.registryUrl,
        ...(server.pythonIndexUrl ? { pythonIndexUrl: server.pythonIndexUrl } : {}),
        caFile: tls?.caFile,
        status: st,
        variables: vars,
      });
    } else {
      println(ctx, `Files:    ${server.filesUrl}/   (${st.fileCount} files)`);
      println(ctx, `Registry: ${server.registryUrl}   (${st.images} images)`);
      const pip = server.pythonIndexUrl ? pipConfig({ indexUrl: server.pythonIndexUrl }) : undefined;
      if (pip)
        println(
          ctx,
          `Python:   ${server.pythonIndexUrl}   (${st.python.wheels} wheels, ${st.python.projects} projects; hashes: ${pip.requirementsUrl})`,
        );
      if (tls?.caFile) println(ctx, `CA:       ${tls.caFile}  (also at ${server.filesUrl}/ca.crt)`);
      for (const c of st.collisions)
        println(
          ctx,
          `Warning: '${c.name}' exists at ${c.upstreams.join(' and ')}; Kubespray-style name not served, use original names (mirror style).`,
        );
      for (const s of st.skipped) println(ctx, `Not served: ${s.ref}: ${s.reason}`);
      println(ctx, '');
      println(ctx, 'Kubespray variables (run `ferry vars` for the complete offline.yml):');
      for (const [k, v] of Object.entries(vars)) println(ctx, `  ${k}: "${String(v)}"`);
      if (pip) {
        println(ctx, '');
        println(ctx, 'Deploy host’s pip (or `ferry venv`, or `ferry vars --pip`):');
        for (const [k, v] of Object.entries(pip.env)) println(ctx, `  export ${k}=${v}`);
      }
      println(ctx, '');
      println(ctx, 'Serving. Press Ctrl-C to stop.');
    }
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) return resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await server.stop();
    const end = server.status();
    if (ctx.json) printJsonLine(ctx, { event: 'stopped', status: end });
    else
      println(
        ctx,
        `Stopped. ${end.files.requests + end.registry.requests} requests, ${formatBytes(end.files.bytes + end.registry.bytes)} served.`,
      );
    return EXIT.OK;
  },
};
