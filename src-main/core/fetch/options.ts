import type { ManifestSigner } from '../bundle/writer.js';
import type { RepoSigner } from '../bundle/keys/repo-key.js';
import type { ErrorValue } from '../base/errors/index.js';
import type { CarryOutcome, ToolFile } from '../kinds/index.js';
import type { ExtraFile } from '../plan/plan.js';
import type { HttpClientOptions, TlsSettings } from './download/http-client.js';
import type { MirrorMap } from './download/mirrors.js';
import type { ProxyConfig } from './download/proxy.js';
import type { RegistrySettings } from './oci/auth.js';

/** What a fetch takes, tells per artifact and returns (fetch-bundle.ts; the CLI and IPC see these). */

export interface FetchOptions {
  out: string;
  /** Transfers at once (files and blobs together). */
  concurrency?: number;
  /**
   * Connections one large transfer may open to its host (segmented download); total
   * connections stay within concurrency × this. 1: one connection per transfer.
   */
  connectionsPerHost?: number;
  /** URL prefix → mirror prefix, for files and the Kubespray tarball. */
  mirrors?: MirrorMap;
  /** Registry host → mirror base URL. */
  registryMirrors?: Record<string, string>;
  insecureRegistries?: string[];
  /** The profile's proxy; the environment fills what it leaves out. */
  proxy?: ProxyConfig;
  registries?: Record<string, RegistrySettings>;
  authFile?: string;
  /** The profile's extra files (when the plan does not already list them). */
  extraFiles?: ExtraFile[];
  env?: NodeJS.ProcessEnv;
  /** undefined: sign with the user's key when one exists; null: do not sign. */
  signer?: ManifestSigner | null;
  /** The Kubespray tarball already on disk (from loading the catalog). */
  kubesprayTarballFile?: string;
  /**
   * TLS per `host:port` beyond the registries': the RPM repositories' hosts with the client
   * certificate and CA planning used (rpmFetchTls), so the .rpm downloads reach the same CDN.
   */
  hostTls?: Record<string, TlsSettings>;
  /** Timeouts and retry policy (tests shorten them). */
  http?: Omit<HttpClientOptions, 'proxy' | 'tls'>;
  /**
   * Ferry's own executables to carry under tools/ (kinds/tool: findTools). [] carries none and
   * drops any the bundle had; undefined leaves the bundle's tools as they are.
   */
  tools?: ToolFile[];
  /** Signs the OS package repositories; default: this machine's repository key (made on first use). */
  repoSigner?: RepoSigner;
}

export type ItemStatus = 'present' | 'started' | 'done' | 'failed' | 'removed';

export interface FetchItemEvent {
  id: string;
  kind: 'file' | 'image' | 'kubespray';
  name: string;
  status: ItemStatus;
  /**
   * 'started': bytes of this artifact on disk so far (resumed ones included), repeated while it
   * downloads; 'done': bytes this run downloaded for it.
   */
  bytes?: number;
  /** 'started': the artifact's size once a response (Content-Length) or the image's blob list said it. */
  total?: number;
  error?: ErrorValue;
}

export interface FetchResult {
  bundle: string;
  bundleId: string;
  /** The bundle already matched the plan: nothing was downloaded or written. */
  upToDate: boolean;
  counts: { total: number; present: number; fetched: number; failed: number; removed: number };
  bytesDownloaded: number;
  requests: number;
  seconds: number;
  signedBy?: string;
  failures: Array<{ id: string; name: string; error: ErrorValue }>;
  /** The Ferry executables the bundle carries, when the fetch was given some. */
  tools?: CarryOutcome['tools'];
}

export const DEFAULT_CONCURRENCY = 6;
/** Like a browser's six per host, below aria2's `-x16` maximum. */
export const DEFAULT_CONNECTIONS_PER_HOST = 4;
