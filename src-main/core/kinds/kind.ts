import type { Artifact, FileEntry, Manifest } from '../bundle/manifest.js';
import type { OciIndexEntry } from '../bundle/oci-layout.js';
import type { RepoSigner } from '../bundle/keys/repo-key.js';
import type { BundleSource } from '../bundle/source.js';
import type { BundleWriter } from '../bundle/writer.js';
import type { ErrorValue } from '../base/errors/index.js';
import type { HttpClient } from '../fetch/download/http-client.js';
import type { MirrorMap } from '../fetch/download/mirrors.js';
import type { KindLabel } from './labels.js';
import type { ToolFile } from './tool/source.js';

/**
 * One artifact kind, as every stage sees it. The manifest's `ArtifactSchema` says what a kind's
 * record holds; this says what each stage does with it, so a stage iterates the registry
 * (kinds/index.ts) instead of branching on `a.kind`, and a new kind is one module plus one
 * registry entry. A kind module may call stage code (the stages keep their machinery: the HTTP
 * layer, the OCI client, the hash pool); stages reach kinds only through the registry.
 */
export interface ArtifactKind<A extends Artifact = Artifact> {
  readonly kind: A['kind'];
  /** Nouns for the UI and the CLI (kinds/labels.ts, which the renderer imports too). */
  readonly label: KindLabel;
  /** The human name of one artifact in reports, tiles and errors ('kubeadm (amd64) https://…'). */
  name(a: A): string;
  /**
   * Every bundle path this artifact keeps: its manifest `paths` plus anything it implies (an
   * image's top manifest blob). A replanned fetch removes files no artifact owns.
   */
  ownedPaths(a: A): string[];
  /** Verification of the artifact's own record against the file list (after the files hash). */
  verify: KindVerify<A>;
  /** The plan/room chart and integrity tile grouping. */
  summarize(a: A): KindSummary;
  /** How serve exposes it. */
  serve: KindServe<A>;
  /** Bundle-writer hook at finalize: an image names itself in the OCI layout's index.json. */
  ociIndexEntry?(a: A): OciIndexEntry;
  /**
   * Fetch hook: whether a held artifact is still the wanted one. The download runs themselves
   * (HTTP, OCI) stay in core/fetch; a kind without the hook is never reused across replans.
   */
  fetch?: KindFetch<A>;
  /**
   * Carry hook, for a kind the plan lists in a section of its own (plan.json `debs`, `python`;
   * the tools fetch is given): after the files and images, it downloads, verifies and adds those
   * artifacts to the bundle itself, through the same HTTP client and writer, and drops the ones
   * of its kind the plan no longer names. Per-item failures go to `ctx.onItem` (fetch counts them
   * with the others when the kind has `planned`); a failure of the whole section throws.
   */
  carry?(want: CarryWant, ctx: CarryContext): Promise<CarryOutcome | void>;
  /**
   * Carry only once every download and every other kind's counted item arrived: what finishes a
   * bundle rather than fills it (the signed apt repositories over the whole package set, the
   * tools). Without it a kind carries beside the downloads and its failures count with theirs.
   */
  waitsForDownloads?: boolean;
  /**
   * The items `carry` will carry, in the fetch's counts and progress (total, present, fetched,
   * failed). A kind without it carries outside the counts (its items still show in the list).
   */
  planned?(want: CarryWant): Array<{ id: string; name: string }>;
  /**
   * Does a finished bundle already hold everything `carry` would carry, with its files in place?
   * Fetch calls a bundle up to date (and makes no request) only when every carrying kind says so.
   */
  held?(dir: string, manifest: Manifest, want: CarryWant): Promise<boolean>;
  /** Offline variables the kind contributes for a bundle, given where its files are served. */
  vars?(src: BundleSource, filesUrl: string): Promise<Record<string, unknown>>;
}

/** What a fetch asks the carrying kinds for: the plan, and the executables it was given. */
export interface CarryWant {
  /** plan.json as fetch got it; each kind reads (and checks) its own section. */
  plan: unknown;
  /**
   * Ferry's own executables to carry under tools/. [] carries none and drops any the bundle had;
   * undefined leaves the bundle's tools as they are.
   */
  tools?: readonly ToolFile[];
}

/** What a carry hook tells fetch beyond its per-item events. */
export interface CarryOutcome {
  /** Artifacts of its kind it dropped because the plan no longer names them (counted as removed). */
  removed?: number;
  /** The tool kind: the platforms carried, and whether this run copied or found each. */
  tools?: Array<{ platform: string; version: string; state: 'present' | 'added' }>;
}

/** One carried item's progress: 'present', 'started', 'done' or 'failed' (with its error). */
export interface CarryItemEvent {
  id: string;
  name: string;
  status: 'present' | 'started' | 'done' | 'failed';
  bytes?: number;
  error?: ErrorValue;
}

/** What fetch lends a kind's carry hook. */
export interface CarryContext {
  client: HttpClient;
  writer: BundleWriter;
  mirrors?: MirrorMap | undefined;
  signal: AbortSignal;
  concurrency: number;
  onBytes?: ((n: number) => void) | undefined;
  /** Per-artifact progress, shown in the download list. */
  onItem?: (ev: CarryItemEvent) => void;
  log?: ((level: 'info' | 'warn', message: string) => void) | undefined;
  /** Where this machine's keys live (a repository signing key is made there on first use). */
  keysDir: string;
  /** A repository signer to use instead of the machine's (tests). */
  repoSigner?: RepoSigner;
}

export interface KindVerify<A extends Artifact> {
  /**
   * Problems in the artifact's record itself, given the manifest's (signed) file list: e.g. a
   * package whose declared sha256 is not the sha256 the file list gives its file. An empty list
   * means the record is consistent; the files' bytes are checked by the hash pool regardless.
   */
  record(a: A, listed: ReadonlyMap<string, FileEntry>): RecordProblem[];
  /** What to do when the artifact is missing or damaged. */
  repairHint(a: A): string;
}

export interface RecordProblem {
  path: string;
  /** Which claim disagrees: the declared size or the declared digest. */
  status: 'wrong-size' | 'wrong-digest';
  expectedSize: number;
  expectedSha256: string;
  actualSize?: number;
  actualSha256?: string;
  error: string;
}

export interface KindSummary {
  /** The component the room chart and the integrity map count it towards ('kubeadm', 'calico/node'). */
  group: string;
}

export interface KindServe<A extends Artifact> {
  /** Which server exposes it: the registry, the file server (incl. /kubespray/), or nothing. */
  via: 'registry' | 'files' | 'none';
  /** The upstream host a client would have pulled it from (containerd mirrors, hosts.toml). */
  upstream?(a: A): string | undefined;
  /**
   * More URLs the file server answers from the bundle's files, as [url path, bundle path]: a file
   * stored once but served at several places (a .deb two OSes share, in each OS's pool).
   */
  aliases?(artifacts: readonly Artifact[]): Array<[string, string]>;
}

export interface KindFetch<A extends Artifact> {
  /**
   * Does the artifact the bundle holds still satisfy what the plan wants, so fetch leaves it
   * alone? `wanted` holds the fields fetch knows before downloading (a URL and its published
   * checksum, an image's reference and platforms): what the download is, not what it produced.
   */
  holds(held: A, wanted: Partial<A>): boolean;
}
