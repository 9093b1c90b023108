import path from 'node:path';
import { configDir, dataDir } from '../../core/base/config/dirs.js';
import { deploy, planNodes } from '../../core/deploy/index.js';
import { FerryError } from '../../core/base/errors/index.js';
import { writeFileAtomic } from '../../core/base/fs/atomic.js';
import { importBundle } from '../../core/media/import/index.js';
import type { BundleSource } from '../../core/bundle/source.js';
import { loadKubespray } from '../../core/plan/catalog/index.js';
import { OfflineServer } from '../../core/serve/server.js';
import { openServeSources } from '../../core/serve/sources.js';
import { openVerifiedBundle } from '../../core/serve/verified-source.js';
import { storeSources } from '../../core/media/store/sources.js';
import { isArchiveDir } from '../../core/media/import/archive-head.js';
import { ensureServerCert, type TlsMaterial } from '../../core/serve/tls/ca.js';
import { bundleVars, containerdHostsText, type NamingStyle } from '../../core/serve/vars/index.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { jobOrThrow } from './jobs.js';
import { listInterfaces } from '../../core/serve/interfaces.js';

/**
 * The offline side after verification: import into the store, serve files and images straight
 * from the verified bundle, and generate the Kubespray variables that point at this machine.
 */

interface Serving {
  server: OfflineServer;
  /** The bundle the generated variables are for (its Kubespray tarball, its upstreams). */
  source: BundleSource;
  from: 'media' | 'store';
  bundles: number;
  tls?: TlsMaterial;
  vars: Map<NamingStyle, { offlineYml: string; containerdConfig: string; nextCommand: string }>;
}

const CA_ON_NODE = '/usr/local/share/ca-certificates/ferry-ca.crt';

/**
 * The stored bundle `bundleId` as a source, or a NOT_FOUND naming why it cannot be served (not
 * imported, or imported incomplete and waiting for repair).
 */
export async function storedBundleSource(
  store: string,
  bundleId: string,
  sources?: BundleSource[],
): Promise<BundleSource> {
  const all = sources ?? (await storeSources(store));
  const found = all.find((b) => b.id === bundleId);
  if (found) return found;
  throw new FerryError(
    'NOT_FOUND',
    `Bundle ${bundleId} is not complete in this machine's store (${store}).`,
    {
      artifact: bundleId,
      hint: 'Import it first; a bundle imported with damaged or missing artifacts is served once a second copy repaired it. Or serve the bundle folder from the media.',
    },
  );
}

export function offlineHandlers(
  s: AppServices,
): Pick<
  Handlers,
  | 'import.start'
  | 'serve.start'
  | 'serve.stop'
  | 'serve.status'
  | 'vars.generate'
  | 'vars.save'
  | 'deploy.start'
> {
  const serving = new Map<string, Serving>();

  const runningServe = (): { id: string; v: Serving } | undefined => {
    for (const [id, v] of serving) if (s.jobs.get(id)?.state === 'running') return { id, v };
    return undefined;
  };

  const varsFor = async (jobId: string, style: NamingStyle, kubesprayToken?: string) => {
    const job = jobOrThrow(s, jobId);
    const sv = serving.get(jobId);
    if (job.kind === 'serve' && job.state === 'running' && !sv) {
      throw new FerryError('USAGE', 'The services are still starting (checking the bundle).', {
        hint: 'Wait until they show as serving.',
      });
    }
    if (job.kind !== 'serve' || !sv || job.state !== 'running') {
      throw new FerryError('USAGE', 'The services are not running.', {
        hint: 'Start them first: the variables name their addresses.',
      });
    }
    const cached = sv.vars.get(style);
    if (cached) return cached;
    const data = kubesprayToken
      ? await loadKubespray({ dir: s.picks.resolve(kubesprayToken, 'kubespray') })
      : undefined;
    const { generated, data: used } = await bundleVars({
      source: sv.source,
      ...(data ? { data } : {}),
      filesUrl: sv.server.filesUrl,
      registry: sv.server.registryHost,
      registryTls: !!sv.tls,
      style,
      ...(sv.tls?.ca ? { caPem: sv.tls.ca, caPathOnNode: CA_ON_NODE } : {}),
      madeBy: 'Ferry app',
    });
    const out = {
      offlineYml: generated.yaml,
      // The same files Kubespray's containerd role writes on each node from these variables.
      containerdConfig: containerdHostsText(generated.variables, used.tag),
      nextCommand:
        'cp offline.yml inventory/mycluster/group_vars/all/offline.yml\nansible-playbook -i inventory/mycluster/hosts.yaml -b cluster.yml',
    };
    sv.vars.set(style, out);
    return out;
  };

  return {
    'import.start': async ({ bundle, allowUntrusted, allowUnsigned }) => {
      const dir = s.picks.resolve(bundle.token, 'bundle');
      const store = await s.settings.storeDir();
      const job = s.jobs.start('import', (ctx) =>
        importBundle(dir, { store, allowUntrusted, allowUnsigned, keyStore: s.keyStore, job: ctx }),
      );
      return { jobId: job.id };
    },
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
          ...(tls ? { tls } : {}),
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
      };
    },
    'vars.generate': async ({ jobId, style, kubespray }) => ({
      style,
      ...(await varsFor(jobId, style, kubespray)),
    }),
    'vars.save': async ({ jobId, style, kubespray, which }) => {
      const v = await varsFor(jobId, style, kubespray);
      const target = await s.dialogs.saveFile({
        title: which === 'offlineYml' ? 'Save offline.yml' : 'Save the containerd configuration',
        defaultName: which === 'offlineYml' ? 'offline.yml' : 'containerd-hosts.toml',
      });
      if (!target) return { saved: null };
      await writeFileAtomic(target, which === 'offlineYml' ? v.offlineYml : v.containerdConfig);
      return { saved: target };
    },
    'deploy.start': async (o) => {
      const sv = serving.get(o.serveJobId);
      if (!sv || s.jobs.get(o.serveJobId)?.state !== 'running')
        throw new FerryError('USAGE', 'The services are not running.', {
          hint: 'Start them in the services step: the nodes install from them.',
        });
      if (s.jobs.list().some((j) => j.kind === 'deploy' && j.state === 'running'))
        throw new FerryError('USAGE', 'A deploy is already running.', { hint: 'Wait for it, or cancel it.' });
      const inventoryFrom = o.inventory ? s.picks.resolve(o.inventory, 'inventory') : undefined;
      // Refused here, before a job exists, so the form shows what is wrong with the nodes.
      const nodes = inventoryFrom ? [] : planNodes(o.nodes);
      const sshKey = o.sshKey ? s.picks.resolve(o.sshKey, 'sshKey') : undefined;
      const { offlineYml } = await varsFor(o.serveJobId, o.style);
      const job = s.jobs.start('deploy', (ctx) =>
        deploy(
          {
            source: sv.source,
            dir: path.join(dataDir(s.env), 'deploy', sv.source.id),
            nodes,
            ...(inventoryFrom ? { inventoryFrom } : {}),
            offlineYml,
            playbook: o.playbook,
            ...(o.sshUser ? { sshUser: o.sshUser } : {}),
            ...(sshKey ? { sshKey } : {}),
            become: o.become,
            preflightOnly: o.preflightOnly,
            skipPreflight: o.skipPreflight,
            ...(sv.tls?.ca ? { caPem: sv.tls.ca } : {}),
            env: s.env,
          },
          ctx,
        ),
      );
      return { jobId: job.id };
    },
  };
}
