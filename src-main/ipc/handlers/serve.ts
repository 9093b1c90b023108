import path from 'node:path';
import { configDir } from '../../core/base/config/dirs.js';
import { FerryError } from '../../core/base/errors/index.js';
import type { BundleSource } from '../../core/bundle/source.js';
import { OfflineServer } from '../../core/serve/server.js';
import { openServeSources } from '../../core/serve/sources.js';
import { openVerifiedBundle } from '../../core/serve/verified-source.js';
import { isArchiveDir } from '../../core/media/import/archive-head.js';
import { ensureServerCert } from '../../core/serve/tls/ca.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { jobOrThrow } from './jobs.js';
import { listInterfaces } from '../../core/serve/interfaces.js';
import { storedBundleSource, type ServingState } from './serving.js';
/** serve.*: this machine's addresses; the file server and registry started, stopped, watched. */
export function serveHandlers(
  s: AppServices,
  { serving, runningServe }: ServingState,
): Pick<Handlers, 'serve.interfaces' | 'serve.start' | 'serve.stop' | 'serve.status'> {
  return {
    'serve.interfaces': () => listInterfaces(),
    'serve.start': async (o) => {
      if (runningServe())
        throw new FerryError('USAGE', 'The services are already running.', {
          hint: 'Stop them first to change address or ports.',
        });
      if (!listInterfaces().some((i) => i.address === o.address) && o.address !== '0.0.0.0') {
        throw new FerryError('USAGE', `${o.address} is not an address of this machine.`, {
          hint: 'Pick one from the list.',
        });
      }
      const from = o.from;
      const store = await s.settings.storeDir();
      let dir = '';
      if (from.kind === 'media') {
        dir = s.picks.resolve(from.bundle.token, 'bundle');
        if (await isArchiveDir(dir)) {
          throw new FerryError('USAGE', 'An archive export cannot be served from the media.', {
            artifact: dir,
            hint: 'Import it into the store (the integrity step does), then serve from the store.',
          });
        }
      } else {
        await storedBundleSource(store, from.bundleId);
      }
      let id = '';
      const job = s.jobs.start('serve', async (ctx) => {
        let sources: BundleSource[];
        let source: BundleSource;
        if (from.kind === 'media') {
          ctx.progress.setPhase('verifying');
          const v = await openVerifiedBundle(dir, {
            allowUntrusted: o.allowUntrusted,
            allowUnsigned: o.allowUnsigned,
            keyStore: s.keyStore,
            signal: ctx.signal,
            progress: ctx.progress,
            onProgress: () => ctx.report(),
          });
          sources = [v.source];
          source = v.source;
        } else {
          ctx.progress.setPhase('opening the store');
          ctx.report();
          // Every complete bundle in the store is served (a cluster may install from an older
          // one); the variables are made for the one the technician imported.
          sources = (await openServeSources({ store })).sources;
          source = await storedBundleSource(store, from.bundleId, sources);
          ctx.log('info', `Serving ${sources.length} bundle(s) from the store at ${store}.`);
        }
        const tls = o.tls
          ? await ensureServerCert(path.join(configDir(s.env), 'tls'), [o.address, 'localhost', '127.0.0.1'])
          : undefined;
        const server = await OfflineServer.start({
          sources,
          listen: o.address,
          filesPort: o.filesPort,
          registryPort: o.registryPort,
          advertise: o.address,
          tls,
        });
        serving.set(id, {
          server,
          source,
          from: from.kind,
          bundles: sources.length,
          ...(tls ? { tls } : {}),
          vars: new Map(),
        });
        ctx.progress.setPhase('serving');
        ctx.report();
        await new Promise<void>((resolve) => {
          if (ctx.signal.aborted) resolve();
          ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        await server.stop();
        const end = server.status();
        // Stopping is how serving ends, so it is a success, not a cancellation.
        return {
          requests: end.files.requests + end.registry.requests,
          bytesServed: end.files.bytes + end.registry.bytes,
        };
      });
      id = job.id;
      return { jobId: job.id };
    },
    'serve.stop': ({ jobId }) => {
      const job = jobOrThrow(s, jobId);
      if (job.kind !== 'serve' || job.state !== 'running') return { stopped: false };
      job.cancel();
      return { stopped: true };
    },
    'serve.status': () => {
      const r = runningServe();
      const st = r?.v.server.status();
      if (!r || !st) return { running: false, requests: 0, bytesServed: 0, recentClients: [] };
      return {
        running: st.running,
        jobId: r.id,
        from: r.v.from,
        bundles: r.v.bundles,
        filesUrl: st.files.url,
        registryUrl: st.registry.url,
        requests: st.files.requests + st.registry.requests,
        bytesServed: st.files.bytes + st.registry.bytes,
        recentClients: st.clients
          .slice(0, 10)
          .map((c) => ({ address: c.address, lastSeen: c.lastSeen, requests: c.requests })),
        ...(st.python.wheels ? { python: st.python } : {}),
      };
    },
  };
}
