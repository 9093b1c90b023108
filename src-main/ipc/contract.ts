import { z } from 'zod';
import { ERROR_CODES } from '../core/base/errors/index.js';
import {
  ADDONS,
  ARCHES,
  DEPLOY_ARCHES,
  DEPLOY_OSES,
  NETWORK_PLUGINS,
  NODE_OSES,
  OPEN_EXTERNAL_ALLOWLIST,
  RPM_NODE_OSES,
  RUNTIMES,
} from './choices.js';
import { EVENT_CHANNEL, REQUEST_CHANNELS, type RequestChannel } from './channels.js';

/**
 * The one contract between the renderer and main. Every request channel has a request and a
 * response schema; every event has a payload schema. The dispatcher validates requests with
 * these, the renderer's types derive from them, and nothing crosses the boundary unchecked.
 *
 * The renderer never names a file-system path: it holds opaque tokens for folders and files a
 * native dialog (run in main) or a drive scan produced, and ids for drives.
 */

export { EVENT_CHANNEL, REQUEST_CHANNELS, type RequestChannel };

// ---------------------------------------------------------------- shared values

export const ErrorValueSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  hint: z.string().optional(),
  artifact: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorValueT = z.infer<typeof ErrorValueSchema>;

const Token = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be a token issued by main');
const Id = z.string().min(1).max(200);
const Empty = z.object({}).strict();
const Text = (max = 4096) => z.string().max(max);

/** Something main picked or found: the renderer sees a token and a label to show, never a path. */
export const PickedSchema = z.object({ token: Token, label: z.string(), kind: z.enum(['folder', 'file']) });
export type Picked = z.infer<typeof PickedSchema>;

/** Where a bundle is: a token from a dialog or a media scan. */
export const BundleRefSchema = z.object({ token: Token }).strict();

export const ProgressSchema = z.object({
  phase: z.string(),
  bytesDone: z.number(),
  bytesTotal: z.number().nullable(),
  itemsDone: z.number(),
  itemsTotal: z.number().nullable(),
  itemsFailed: z.number(),
  speed: z.number(),
  eta: z.number().nullable(),
  current: z.string().optional(),
});
export type Progress = z.infer<typeof ProgressSchema>;

export const JobKindSchema = z.enum([
  'plan',
  'fetch',
  'verify',
  'export',
  'import',
  'serve',
  'push',
  'gc',
  'deploy',
  'venv',
]);
export const JobStateSchema = z.enum(['running', 'done', 'failed', 'cancelled']);

export const JobSnapshotSchema = z.object({
  id: Id,
  kind: JobKindSchema,
  state: JobStateSchema,
  seq: z.number().int(),
  progress: ProgressSchema,
  items: z.array(z.record(z.string(), z.unknown())),
  result: z.unknown().optional(),
  error: ErrorValueSchema.optional(),
});
export type JobSnapshot = z.infer<typeof JobSnapshotSchema>;

export const JobStartedSchema = z.object({ jobId: Id });

// ---------------------------------------------------------------- connected side

export {
  ADDONS,
  ARCHES,
  DEPLOY_ARCHES,
  DEPLOY_OSES,
  NETWORK_PLUGINS,
  NODE_OSES,
  OPEN_EXTERNAL_ALLOWLIST,
  RPM_NODE_OSES,
  RUNTIMES,
};

/** Where the Kubespray a plan is computed from comes from. */
export const KubesprayChoiceSchema = z.discriminatedUnion('source', [
  z.object({ source: z.literal('release'), version: Text(40) }),
  /** A local Kubespray checkout, picked with a folder dialog. */
  z.object({ source: z.literal('folder'), token: Token }),
  /** An existing inventory folder whose group_vars pin the choices. */
  z.object({ source: z.literal('inventory'), token: Token, version: Text(40) }),
]);
export type KubesprayChoice = z.infer<typeof KubesprayChoiceSchema>;

export const ClusterChoicesSchema = z
  .object({
    kubespray: KubesprayChoiceSchema,
    kubeVersion: Text(40).optional(),
    arches: z.array(z.enum(ARCHES)).min(1, 'pick at least one architecture'),
    /** The nodes' OSes whose packages the bundle carries (none: Kubespray's downloads only). */
    os: z.array(z.enum(NODE_OSES)).max(NODE_OSES.length).optional(),
    /** RPM repository base URLs by OS (required for RHEL; --rpm-repo OS=URL). */
    rpmRepos: z
      .partialRecord(z.enum(NODE_OSES), Text(2048).regex(/^https?:\/\/\S+$/, 'must be an http(s) URL'))
      .optional(),
    /**
     * Files for the RPM repositories, as tokens of files picked for that purpose (never paths):
     * the PEM client certificate and its key for mutual TLS with the Red Hat CDN or a Satellite
     * (--client-cert/--client-key, both or neither), the CA of their hosts (--rpm-ca), and per RPM
     * OS a private mirror's own signing key trusted in place of the pinned one (--rpm-key OS=FILE).
     */
    rpmClientCert: Token.optional(),
    rpmClientKey: Token.optional(),
    rpmCa: Token.optional(),
    rpmKeys: z.partialRecord(z.enum(RPM_NODE_OSES), Token).optional(),
    runtime: z.enum(RUNTIMES),
    network: z.enum(NETWORK_PLUGINS),
    addons: z.array(z.enum(ADDONS)).max(ADDONS.length),
    /** Image references, one per entry ('registry/name:tag'). */
    extraImages: z.array(Text(512).regex(/^[^\s]+$/, 'an image reference has no spaces')).max(500),
    /** Extra files with their published sha256 (a download without a checksum cannot be verified). */
    extraFiles: z
      .array(
        z
          .object({
            url: Text(2048).regex(/^https?:\/\/\S+$/, 'must be an http(s) URL'),
            sha256: z.string().regex(/^(sha256:)?[0-9a-f]{64}$/, 'must be 64 lowercase hex characters'),
          })
          .strict(),
      )
      .max(500),
    /**
     * The deploy host, when its Python should travel too: Kubespray's requirements.txt resolved
     * to wheels for that OS's Python and glibc on each architecture (core/kinds/python).
     */
    deployHost: z
      .object({ os: z.enum(DEPLOY_OSES), arches: z.array(z.enum(DEPLOY_ARCHES)).min(1) })
      .strict()
      .optional(),
  })
  .strict();
export type ClusterChoices = z.infer<typeof ClusterChoicesSchema>;

export const KubesprayVersionSchema = z.object({
  version: z.string(),
  newest: z.boolean(),
  /** Its data is on this machine already (no download needed to plan). */
  cached: z.boolean(),
});

export const PlanGroupSchema = z.object({
  /** 'images', 'kubeadm', 'calico'… what the renderer draws a bar for. */
  name: z.string(),
  kind: z.enum(['file', 'image', 'kubespray']),
  count: z.number().int(),
  /** Null when the size is not known before downloading. */
  bytes: z.number().nullable(),
});

/** Result of a plan.prepare job: the Kubernetes versions that Kubespray has checksums for, newest first. */
export const PlanPreparedSchema = z.object({
  kubesprayVersion: z.string(),
  kubeVersions: z.array(z.string()),
});
export type PlanPrepared = z.infer<typeof PlanPreparedSchema>;

/** What the app shows of a plan: counts, the room chart's groups, warnings (core's Plan is core/plan/plan.ts). */
export const PlanSummarySchema = z.object({
  kubesprayVersion: z.string(),
  kubeVersion: z.string(),
  arches: z.array(z.string()),
  counts: z.object({ files: z.number().int(), images: z.number().int(), total: z.number().int() }),
  bytes: z.number().nullable(),
  groups: z.array(PlanGroupSchema),
  warnings: z.array(z.string()),
  /** The largest single file the bundle will hold (FAT32 keeps none of 4 GiB or more), once sized. */
  largestFile: z.number().nullable().optional(),
  /** What is known of the size while some artifact is not sized (a lower bound), once sized. */
  knownBytes: z.number().optional(),
});
export type PlanSummary = z.infer<typeof PlanSummarySchema>;

/** plan.sizes: the bundle's size before downloading (HEAD requests, registry manifests). */
export const PlanSizesSchema = z.object({
  /** Null while any artifact could not be sized. */
  bytes: z.number().nullable(),
  /** What is known (a lower bound while some are not). */
  knownBytes: z.number(),
  unsized: z.number().int(),
  largestFile: z.number(),
  groups: z.array(PlanGroupSchema),
  notSized: z.array(z.object({ name: z.string(), reason: z.string() })),
});
export type PlanSizesT = z.infer<typeof PlanSizesSchema>;

export const DriveSchema = z.object({
  id: Id,
  label: z.string(),
  /** Where it is mounted, shown to the user; never sent back. */
  mount: z.string(),
  fsType: z.string(),
  size: z.number(),
  free: z.number().nullable(),
  removable: z.boolean(),
  warnings: z.array(z.string()),
});
export type Drive = z.infer<typeof DriveSchema>;

export const ExportTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('drive'), driveId: Id }),
  z.object({ kind: z.literal('folder'), token: Token }),
  /** Tar parts (split to fit the file system) plus an index, in a folder picked for export. */
  z.object({ kind: z.literal('archive'), token: Token }),
]);

// ---------------------------------------------------------------- offline side

export const SignatureViewSchema = z.object({
  status: z.enum(['trusted', 'unknown-key', 'unsigned', 'bad-signature']),
  fingerprint: z.string().optional(),
  signer: z.string().optional(),
  reason: z.string().optional(),
});

export const BundleSummarySchema = z.object({
  token: Token,
  label: z.string(),
  /**
   * A bundle folder is verified in place and can be served from the media; an archive export
   * (tar parts plus ferry-archive.json) is checked part by part while it is imported into the store.
   */
  format: z.enum(['folder', 'archive']),
  /** Archive exports: how many bundle.tar.NNN parts the index lists. */
  parts: z.number().int().optional(),
  id: z.string(),
  kubesprayVersion: z.string().nullable(),
  kubeVersion: z.string().nullable(),
  arches: z.array(z.string()),
  createdAt: z.string(),
  bytes: z.number(),
  counts: z.object({ files: z.number(), images: z.number(), artifacts: z.number() }),
  signature: SignatureViewSchema,
  /**
   * Ferry's own executables the bundle carries (the tool kind), with their bundle-relative path
   * (`tools/ferry-linux-x64`), so the media step can say how to run Ferry without the app.
   */
  tools: z.array(z.object({ platform: z.string(), version: z.string(), path: z.string() })).optional(),
});
export type BundleSummary = z.infer<typeof BundleSummarySchema>;

export const MediaFoundSchema = z.object({
  bundles: z.array(BundleSummarySchema),
  /** Places that looked like bundles but could not be read, with why. */
  problems: z.array(z.object({ label: z.string(), error: ErrorValueSchema })),
  drivesSearched: z.number().int(),
});

export const InterfaceSchema = z.object({
  name: z.string(),
  address: z.string(),
  family: z.enum(['IPv4', 'IPv6']),
  internal: z.boolean(),
});

/**
 * What the services read from: the bundle folder on the media (verified again as the services
 * start, nothing copied), or this machine's store (what import verified on the way in).
 * `bundleId` names the imported bundle the generated variables are for.
 */
export const ServeFromSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('media'), bundle: BundleRefSchema }).strict(),
  z.object({ kind: z.literal('store'), bundleId: Id }).strict(),
]);
export type ServeFrom = z.infer<typeof ServeFromSchema>;

export const ServeOptionsSchema = z
  .object({
    from: ServeFromSchema,
    address: z.union([z.ipv4(), z.ipv6()]),
    filesPort: z.number().int().min(1).max(65535),
    registryPort: z.number().int().min(1).max(65535),
    tls: z.boolean(),
    /** The technician accepted this bundle's signature state on the integrity step. */
    allowUntrusted: z.boolean(),
    allowUnsigned: z.boolean(),
  })
  .strict();

export const ServeStatusSchema = z.object({
  running: z.boolean(),
  jobId: z.string().optional(),
  /** Where the running services read from, and how many bundles they serve. */
  from: z.enum(['media', 'store']).optional(),
  bundles: z.number().int().optional(),
  filesUrl: z.string().optional(),
  registryUrl: z.string().optional(),
  requests: z.number(),
  bytesServed: z.number(),
  recentClients: z.array(z.object({ address: z.string(), lastSeen: z.string(), requests: z.number() })),
  /** The deploy host's Python index at <filesUrl>/simple/, when the bundle carries wheels. */
  python: z.object({ projects: z.number(), wheels: z.number() }).optional(),
});

export const GeneratedVarsSchema = z.object({
  style: z.enum(['kubespray', 'mirror']),
  offlineYml: z.string(),
  containerdConfig: z.string(),
  nextCommand: z.string(),
  /** The node pre-step that points apt at Ferry's repositories (null: the bundle carries none). */
  osPrestep: z
    .object({
      playbook: z.string(),
      command: z.string(),
      shell: z.array(z.object({ os: z.string(), text: z.string() })),
    })
    .nullable(),
});
export type GeneratedVars = z.infer<typeof GeneratedVarsSchema>;

export const KeyInfoSchema = z.object({
  fingerprint: z.string(),
  name: z.string(),
  publicKeyPem: z.string(),
  own: z.boolean(),
});

export const SettingsSchema = z
  .object({
    proxy: z
      .object({
        http: Text(2048).optional(),
        https: Text(2048).optional(),
        noProxy: Text(4096).optional(),
      })
      .strict(),
    /**
     * A URL prefix → mirror prefix for files ('https://github.com' → 'https://mirror/github'), or a
     * registry host → mirror base URL for images ('docker.io' → 'https://mirror.example').
     */
    mirrors: z
      .array(
        z.object({
          upstream: Text(2048).min(1),
          mirror: Text(2048).regex(/^https?:\/\/\S+$/, 'must be an http(s) URL'),
        }),
      )
      .max(50),
    /** Registry hosts (host:port) reached over plain HTTP, e.g. an internal mirror without TLS. */
    insecureRegistries: z.array(Text(253).regex(/^[A-Za-z0-9.[\]:-]+$/, 'must be host or host:port')).max(50),
    /** Where the offline store lives; shown, but changed only through a folder dialog. */
    storeLabel: z.string().nullable(),
    theme: z.enum(['system', 'light', 'dark']),
  })
  .strict();
export type Settings = z.infer<typeof SettingsSchema>;

export const SettingsPatchSchema = z
  .object({
    proxy: SettingsSchema.shape.proxy.optional(),
    mirrors: SettingsSchema.shape.mirrors.optional(),
    insecureRegistries: SettingsSchema.shape.insecureRegistries.optional(),
    theme: SettingsSchema.shape.theme.optional(),
  })
  .strict();

// ---------------------------------------------------------------- the channels

const ch = <Req extends z.ZodType, Res extends z.ZodType>(req: Req, res: Res) => ({ req, res });

/** A node of the cluster to deploy (core/deploy NodeSpec); 'local' is the deploy host itself. */
export const DeployNodeSchema = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
        'must be a Kubernetes node name',
      )
      .max(253),
    address: z
      .string()
      .regex(
        /^(local|[0-9a-fA-F:.]+|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?)$/,
        'must be an IP address or host name',
      )
      .max(253),
    roles: z.array(z.enum(['control-plane', 'etcd', 'worker'])).max(3),
  })
  .strict();
export type DeployNode = z.infer<typeof DeployNodeSchema>;

export const DEPLOY_PLAYBOOKS = [
  'cluster.yml',
  'scale.yml',
  'upgrade-cluster.yml',
  'reset.yml',
  'remove-node.yml',
] as const;

export const DeployOptionsSchema = z
  .object({
    /** The running serve job: its bundle, and the offline.yml that points at it. */
    serveJobId: Id,
    style: z.enum(['kubespray', 'mirror']),
    nodes: z.array(DeployNodeSchema).max(1000),
    /** Instead of nodes: an inventory folder picked on this machine. */
    inventory: Token.optional(),
    sshUser: z
      .string()
      .regex(/^[a-z_][a-z0-9_.-]*$/i)
      .max(64)
      .optional(),
    sshKey: Token.optional(),
    become: z.boolean(),
    playbook: z.enum(DEPLOY_PLAYBOOKS),
    preflightOnly: z.boolean(),
    skipPreflight: z.boolean(),
  })
  .strict();
export type DeployOptions = z.infer<typeof DeployOptionsSchema>;

const HostCounts = z.object({
  ok: z.number(),
  changed: z.number(),
  failed: z.number(),
  skipped: z.number(),
  unreachable: z.number(),
});

/** Deploy jobs' items (core/deploy): preflight checks, the current task, a row per host, failures. */
export const DeployItemSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('preflight'),
    id: z.string(),
    node: z.string(),
    check: z.string(),
    ok: z.boolean(),
    detail: z.string(),
    fix: z.string().optional(),
  }),
  z.object({
    type: z.literal('task'),
    id: z.literal('current'),
    name: z.string(),
    n: z.number(),
    play: z.string().optional(),
  }),
  z.object({
    type: z.literal('host'),
    id: z.string(),
    task: z.string().optional(),
    counts: HostCounts,
    down: z.boolean(),
  }),
  z.object({
    type: z.literal('failure'),
    id: z.string(),
    host: z.string(),
    task: z.string(),
    status: z.enum(['failed', 'unreachable']),
    message: z.string(),
  }),
]);
export type DeployItem = z.infer<typeof DeployItemSchema>;

export const DeployResultSchema = z.object({
  ok: z.boolean(),
  dir: z.string(),
  playbook: z.string(),
  logFile: z.string(),
  exitCode: z.number(),
  seconds: z.number(),
});
export type DeployResultT = z.infer<typeof DeployResultSchema>;

/** A venv job's result (core/kinds/python/venv.ts), as the renderer shows it. */
export const VenvResultSchema = z.object({
  dir: z.string(),
  reused: z.boolean(),
  python: z.object({ path: z.string(), version: z.string() }),
  pip: z.string(),
  installed: z.array(z.object({ project: z.string(), version: z.string(), filename: z.string() })),
  skipped: z.array(z.object({ filename: z.string(), reason: z.string() })),
  ansiblePlaybook: z.string().optional(),
  ansibleCore: z
    .object({ expected: z.string(), reported: z.string(), requiredBy: z.string().optional() })
    .optional(),
  seconds: z.number(),
});
export type VenvResultT = z.infer<typeof VenvResultSchema>;

export const requests = {
  'app.info': ch(
    Empty,
    z.object({ version: z.string(), platform: z.string(), modules: z.record(z.string(), z.boolean()) }),
  ),
  'app.openExternal': ch(z.object({ url: Text(2048) }).strict(), z.object({ opened: z.boolean() })),
  'app.copyText': ch(z.object({ text: Text(1 << 20) }).strict(), z.object({ copied: z.boolean() })),

  'dialog.pickFolder': ch(
    z.object({ purpose: z.enum(['kubespray', 'inventory', 'bundle', 'export', 'store']) }).strict(),
    PickedSchema.nullable(),
  ),
  'dialog.pickFile': ch(
    z
      .object({ purpose: z.enum(['key', 'sshKey', 'rpmClientCert', 'rpmClientKey', 'rpmCa', 'rpmKey']) })
      .strict(),
    PickedSchema.nullable(),
  ),

  'jobs.get': ch(z.object({ id: Id }).strict(), JobSnapshotSchema),
  'jobs.list': ch(Empty, z.array(JobSnapshotSchema)),
  'jobs.cancel': ch(z.object({ id: Id }).strict(), z.object({ cancelled: z.boolean() })),

  'plan.kubesprayVersions': ch(Empty, z.array(KubesprayVersionSchema)),
  /**
   * Get the chosen Kubespray's data ready (a release's tarball is downloaded once and cached), as
   * a 'plan' job with download progress; its result is a PlanPrepared. Planning is instant after.
   */
  'plan.prepare': ch(z.object({ kubespray: KubesprayChoiceSchema }).strict(), JobStartedSchema),
  'plan.compute': ch(ClusterChoicesSchema, PlanSummarySchema),
  /** Sizes the plan over the network (seconds, not instant): what plan.compute's bytes leave null. */
  'plan.sizes': ch(ClusterChoicesSchema, PlanSizesSchema),

  'fetch.start': ch(z.object({ choices: ClusterChoicesSchema }).strict(), JobStartedSchema),
  /** Pause is a cancel that keeps every finished download; resume starts the same fetch again. */
  'fetch.pause': ch(z.object({ jobId: Id }).strict(), z.object({ paused: z.boolean() })),
  'fetch.resume': ch(z.object({ jobId: Id }).strict(), JobStartedSchema),
  'fetch.retryFailed': ch(z.object({ jobId: Id }).strict(), JobStartedSchema),

  'drives.list': ch(Empty, z.array(DriveSchema)),
  /** Export always reads every byte back from the drive and checks it. */
  'export.start': ch(z.object({ target: ExportTargetSchema }).strict(), JobStartedSchema),

  'media.scan': ch(Empty, MediaFoundSchema),
  'bundle.open': ch(BundleRefSchema, BundleSummarySchema),
  'verify.start': ch(
    z.object({ bundle: BundleRefSchema, allowUntrusted: z.boolean(), allowUnsigned: z.boolean() }).strict(),
    JobStartedSchema,
  ),
  'import.start': ch(
    z.object({ bundle: BundleRefSchema, allowUntrusted: z.boolean(), allowUnsigned: z.boolean() }).strict(),
    JobStartedSchema,
  ),

  'serve.interfaces': ch(Empty, z.array(InterfaceSchema)),
  'serve.start': ch(ServeOptionsSchema, JobStartedSchema),
  'serve.stop': ch(z.object({ jobId: Id }).strict(), z.object({ stopped: z.boolean() })),
  'serve.status': ch(Empty, ServeStatusSchema),
  /** `kubespray`: a Kubespray folder picked on this machine, for bundles made without the release tarball. */
  'vars.generate': ch(
    z.object({ jobId: Id, style: z.enum(['kubespray', 'mirror']), kubespray: Token.optional() }).strict(),
    GeneratedVarsSchema,
  ),
  'vars.save': ch(
    z
      .object({
        jobId: Id,
        style: z.enum(['kubespray', 'mirror']),
        kubespray: Token.optional(),
        which: z.enum(['offlineYml', 'containerdConfig']),
      })
      .strict(),
    z.object({ saved: z.string().nullable() }),
  ),

  /** Stage 5 from the running services: their offline.yml, the nodes, then Kubespray's playbook. */
  'deploy.start': ch(DeployOptionsSchema, JobStartedSchema),
  /** The deploy host's Ansible virtualenv from the served bundle's wheels (where deploy looks for it). */
  'venv.start': ch(z.object({ serveJobId: Id }).strict(), JobStartedSchema),

  'keys.list': ch(Empty, z.array(KeyInfoSchema)),
  'keys.generate': ch(z.object({ name: Text(200).optional(), force: z.boolean() }).strict(), KeyInfoSchema),
  'keys.exportPublic': ch(Empty, z.object({ saved: z.string().nullable() })),
  'keys.trust': ch(z.object({ pem: Text(16384), name: Text(200).optional() }).strict(), KeyInfoSchema),
  'keys.trustFile': ch(Empty, KeyInfoSchema.nullable()),
  'keys.untrust': ch(z.object({ fingerprint: Text(64) }).strict(), z.object({ removed: z.boolean() })),

  'settings.get': ch(Empty, SettingsSchema),
  'settings.set': ch(SettingsPatchSchema, SettingsSchema),
  'settings.pickStore': ch(Empty, SettingsSchema),
} satisfies Record<RequestChannel, { req: z.ZodType; res: z.ZodType }>;

export type Requests = typeof requests;
export type Req<C extends RequestChannel> = z.input<Requests[C]['req']>;
export type Res<C extends RequestChannel> = z.output<Requests[C]['res']>;

export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: ErrorValueT };

// ---------------------------------------------------------------- events

export const JobEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), jobId: Id, seq: z.number().int(), progress: ProgressSchema }),
  z.object({
    type: z.literal('item'),
    jobId: Id,
    seq: z.number().int(),
    item: z.record(z.string(), z.unknown()),
  }),
  z.object({
    type: z.literal('log'),
    jobId: Id,
    seq: z.number().int(),
    level: z.enum(['info', 'warn', 'error']),
    message: z.string(),
  }),
  z.object({ type: z.literal('done'), jobId: Id, seq: z.number().int(), result: z.unknown() }),
  z.object({ type: z.literal('failed'), jobId: Id, seq: z.number().int(), error: ErrorValueSchema }),
  z.object({ type: z.literal('cancelled'), jobId: Id, seq: z.number().int() }),
]);
export type JobEventT = z.infer<typeof JobEventSchema>;

/** Everything main pushes to the renderer travels on one channel as one of these. */
export const AppEventSchema = z.discriminatedUnion('channel', [
  z.object({ channel: z.literal('job'), kind: JobKindSchema, event: JobEventSchema }),
  z.object({ channel: z.literal('drives'), drives: z.array(DriveSchema) }),
]);
export type AppEvent = z.infer<typeof AppEventSchema>;

/** What the preload (and the test harness) installs as window.ferry. */
export interface FerryApi {
  invoke<C extends RequestChannel>(channel: C, req: Req<C>): Promise<IpcResult<Res<C>>>;
  /** Subscribe to app events; returns the unsubscribe function. */
  onEvent(fn: (e: AppEvent) => void): () => void;
}

// ---------------------------------------------------------------- item payloads of jobs

/** Verify jobs emit one 'plan' item (every artifact, for the waiting tiles) then one per artifact. */
export const VerifyItemSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('verify.plan'),
    artifacts: z.array(z.object({ id: z.string(), kind: z.string(), name: z.string(), bytes: z.number() })),
  }),
  z.object({
    type: z.literal('verify.checking'),
    id: z.string(),
  }),
  z.object({
    type: z.literal('verify.artifact'),
    id: z.string(),
    kind: z.string(),
    name: z.string(),
    status: z.enum(['ok', 'missing', 'damaged']),
    bytes: z.number(),
    hint: z.string().optional(),
    problems: z.array(
      z.object({
        path: z.string(),
        status: z.string(),
        expectedSize: z.number(),
        expectedSha256: z.string(),
        actualSize: z.number().optional(),
        actualSha256: z.string().optional(),
        error: z.string().optional(),
      }),
    ),
  }),
]);
export type VerifyItem = z.infer<typeof VerifyItemSchema>;

/** Fetch jobs emit an item each time an artifact changes state (core/fetch FetchItemEvent). */
export const FetchItemSchema = z.object({
  id: z.string(),
  kind: z.enum(['file', 'image', 'kubespray']),
  name: z.string(),
  status: z.enum(['present', 'started', 'done', 'failed', 'removed']),
  /** 'started': bytes on disk so far (repeated about once a second); 'done': bytes this run downloaded. */
  bytes: z.number().optional(),
  /** 'started': the artifact's size, once a response or the image's blob list said it. */
  total: z.number().optional(),
  error: ErrorValueSchema.optional(),
});
export type FetchItem = z.infer<typeof FetchItemSchema>;

export const VerifySummarySchema = z.object({
  ok: z.boolean(),
  verified: z.boolean(),
  bundleId: z.string(),
  signature: SignatureViewSchema,
  counts: z.object({
    artifacts: z.number(),
    files: z.number(),
    ok: z.number(),
    missing: z.number(),
    wrongSize: z.number(),
    wrongDigest: z.number(),
    extra: z.number(),
  }),
  bytes: z.number(),
  seconds: z.number(),
  extras: z.array(z.string()),
});
export type VerifySummary = z.infer<typeof VerifySummarySchema>;

export const ExportSummarySchema = z.object({
  /** The signing key's fingerprint, as the offline side shows it; null when unsigned. */
  fingerprint: z.string().nullable(),
  signature: z.enum(['kept', 're-signed', 'unsigned']),
  bundleId: z.string(),
  files: z.number(),
  bytesWritten: z.number(),
  bytesReused: z.number(),
  seconds: z.number(),
  label: z.string(),
});
export type ExportSummary = z.infer<typeof ExportSummarySchema>;

/**
 * Import jobs (core/import ImportItem): the signature verdict first, archive parts as they are
 * hashed, then one 'waiting' item per artifact and its changes (checking, good, damaged, missing).
 */
export const ImportItemSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('signature'),
    status: SignatureViewSchema.shape.status,
    fingerprint: z.string().optional(),
    description: z.string(),
  }),
  z.object({
    type: z.literal('part'),
    id: z.string(),
    name: z.string(),
    state: z.enum(['checking', 'good', 'damaged', 'missing']),
    message: z.string().optional(),
  }),
  z.object({
    type: z.literal('artifact'),
    id: z.string(),
    kind: z.string(),
    name: z.string(),
    state: z.enum(['waiting', 'checking', 'good', 'damaged', 'missing']),
    bytes: z.number(),
    message: z.string().optional(),
  }),
]);
export type ImportItem = z.infer<typeof ImportItemSchema>;

/** What an import job returns (core/import ImportReport), as far as the renderer reads it. */
export const ImportSummarySchema = z.object({
  bundleId: z.string(),
  status: z.enum(['complete', 'incomplete']),
  signature: SignatureViewSchema,
  artifacts: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      state: z.enum(['good', 'damaged', 'missing']),
      problems: z.array(z.string()).optional(),
    }),
  ),
  filesCopied: z.number(),
  bytesCopied: z.number(),
  filesShared: z.number(),
  seconds: z.number(),
  hint: z.string().optional(),
});
export type ImportSummary = z.infer<typeof ImportSummarySchema>;
