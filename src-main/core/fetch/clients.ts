import fs from 'node:fs/promises';
import { FerryError } from '../base/errors/index.js';
import { HttpClient, type TlsSettings } from './download/http-client.js';
import { DEFAULT_SEGMENT_MIN_BYTES } from './download/segmented.js';
import { mergeProxyConfig, proxyConfigFromEnv } from './download/proxy.js';
import { CredentialStore, defaultAuthFiles } from './oci/auth.js';
import { RegistryClient } from './oci/registry-client.js';
import { DEFAULT_CONCURRENCY, DEFAULT_CONNECTIONS_PER_HOST, type FetchOptions } from './options.js';

/**
 * The clients one fetch downloads through: one HTTP client (proxy from the profile and the
 * environment, per-registry TLS, segmented transfers) and the registry client on top of it
 * (credentials from the profile, then the auth file or the usual docker/podman ones).
 */

export function clientFor(opts: FetchOptions, env: NodeJS.ProcessEnv): Promise<HttpClient> {
  return (async () => {
    const tls: Record<string, TlsSettings> = {};
    for (const h of opts.insecureRegistries ?? []) tls[h] = { insecure: true };
    for (const [h, s] of Object.entries(opts.registries ?? {})) {
      if (s.insecure) tls[h] = { ...tls[h], insecure: true };
      if (s.caFile) {
        let ca: string;
        try {
          ca = await fs.readFile(s.caFile, 'utf8');
        } catch (err) {
          throw new FerryError(
            'CONFIG',
            `Cannot read the CA file for ${h} (${s.caFile}): ${(err as Error).message}`,
            {
              artifact: s.caFile,
              hint: 'Fix registries.' + h + '.caFile in the profile.',
            },
          );
        }
        tls[h] = { ...tls[h], ca };
      }
    }
    // Only the hosts the caller named (the RPM repositories'): a client certificate goes nowhere else.
    for (const [h, s] of Object.entries(opts.hostTls ?? {})) tls[h] = { ...tls[h], ...s };
    const perHost = opts.connectionsPerHost ?? DEFAULT_CONNECTIONS_PER_HOST;
    const conc = opts.concurrency ?? DEFAULT_CONCURRENCY;
    return new HttpClient({
      // undici's pool per origin must hold every segment of every transfer, or they queue there.
      connectionsPerOrigin: Math.max(16, conc * perHost),
      segments: { connections: perHost, minBytes: DEFAULT_SEGMENT_MIN_BYTES },
      ...(opts.http ?? {}),
      proxy: mergeProxyConfig(proxyConfigFromEnv(env), opts.proxy),
      tls,
    });
  })();
}

/** The OCI registry client over the fetch's HTTP client, with the fetch's credentials and mirrors. */
export function registryFor(
  client: HttpClient,
  opts: FetchOptions,
  env: NodeJS.ProcessEnv,
  log: (level: 'info' | 'warn', message: string) => void,
): RegistryClient {
  const credentials = new CredentialStore(opts.registries ?? {}, env);
  if (opts.authFile) credentials.loadAuthFile(opts.authFile, true);
  else for (const f of defaultAuthFiles(env)) credentials.loadAuthFile(f, false);
  return new RegistryClient(client, {
    credentials,
    registryMirrors: opts.registryMirrors,
    insecure: opts.insecureRegistries,
    log,
  });
}
