import { z } from 'zod';
import { PythonRequestSchema } from '../../kinds/sets.js';

/**
 * The profile file (`ferry.yaml`): what cluster to carry and how to fetch it. Every field is
 * optional so a profile can hold only what differs from the defaults; the CLI's flags win over
 * it. Unknown keys are errors (a typo must not silently fall back to a default).
 */

export const ARCH_VALUES = ['amd64', 'arm64'] as const;

const nonEmpty = z.string().min(1);

export const KubesprayRefSchema = z
  .union([
    nonEmpty.describe('A Kubespray release tag, e.g. v2.31.0 (downloaded once, then carried in the bundle).'),
    z.strictObject({ dir: nonEmpty.describe('A Kubespray source folder (relative to this file).') }),
    z.strictObject({ tarball: nonEmpty.describe('A Kubespray release tarball (relative to this file).') }),
  ])
  .describe('Which Kubespray: a tag, {dir: PATH} or {tarball: PATH}.');

const platform = z.string().regex(/^linux\/(amd64|arm64)$/, 'expected linux/amd64 or linux/arm64');

export const ExtraImageSchema = z.union([
  nonEmpty.describe('An image reference, e.g. docker.io/library/busybox:1.36 (all plan architectures).'),
  z.strictObject({
    ref: nonEmpty.describe('An image reference.'),
    platforms: z
      .array(platform)
      .min(1)
      .optional()
      .describe('Platforms to carry; default: the plan architectures.'),
  }),
]);

export const ExtraFileSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).describe('Where to download the file.'),
  sha256: z
    .string()
    .regex(/^(sha256:)?[0-9a-fA-F]{64}$/, 'expected 64 hex digits')
    .describe('The SHA-256 of the file (required: nothing enters a bundle unverified).'),
  path: nonEmpty
    .optional()
    .describe(
      "Path under files/ in the bundle; default: files/<host>/<url path>, as Kubespray's mirrors expect.",
    ),
});

export const RegistryCredentialsSchema = z.strictObject({
  username: nonEmpty.optional(),
  password: z
    .string()
    .optional()
    .describe('Prefer passwordEnv or authFile: a password here is stored in plain text.'),
  passwordEnv: nonEmpty.optional().describe('Name of an environment variable holding the password.'),
  insecure: z
    .boolean()
    .optional()
    .describe('Allow plain HTTP or an unverified certificate for this registry.'),
  caFile: nonEmpty.optional().describe('PEM file with the CA that signed the registry certificate.'),
});

export const ProxySchema = z.strictObject({
  http: nonEmpty
    .optional()
    .describe('Proxy URL for http:// downloads; credentials go in the URL (http://user:pass@host:port).'),
  https: nonEmpty.optional().describe('Proxy URL for https:// downloads.'),
  noProxy: z
    .array(nonEmpty)
    .optional()
    .describe('Hosts, domains (.example.com) or CIDRs that bypass the proxy.'),
});

export const OsPackagesSchema = z
  .strictObject({
    extra: z.array(nonEmpty).optional().describe('More OS packages by name (NAME or NAME=VERSION).'),
    recommends: z.boolean().optional().describe('Follow Recommends, as apt does on a node. Default: true.'),
    keyrings: z
      .record(z.string(), nonEmpty)
      .optional()
      .describe(
        "Keyring files by OS id (or 'docker'), relative to this file: Ubuntu's archive key, a private mirror's key.",
      ),
    deployHost: nonEmpty
      .optional()
      .describe('The deploy host’s OS: its set gains python3, python3-venv, openssh-client and rsync.'),
    rpmRepos: z
      .record(z.string(), nonEmpty)
      .optional()
      .describe(
        "RPM repository base URLs: 'rhel-9' → a distribution root (URL/BaseOS/$basearch/os, or with $repo/$repoid and $basearch in it), 'rocky-9:crb' → one repository. Required for RHEL (a Satellite, a reposync, an ISO over HTTP).",
      ),
    rpmKeys: z
      .record(z.string(), nonEmpty)
      .optional()
      .describe(
        "Public key files trusted for RPM repositories, by OS id (or 'epel', 'docker'), relative to this file: a private mirror's own key, in place of the distribution key Ferry pins.",
      ),
    clientCert: nonEmpty
      .optional()
      .describe(
        'PEM client certificate for the RPM repositories (Red Hat CDN entitlement, Satellite), relative to this file.',
      ),
    clientKey: nonEmpty.optional().describe('PEM key of clientCert, relative to this file.'),
    rpmCa: nonEmpty
      .optional()
      .describe(
        "PEM CA the RPM repositories' HTTPS hosts are signed by, when not a public one (Red Hat's CDN: /etc/rhsm/ca/redhat-uep.pem), relative to this file.",
      ),
  })
  .describe('How the OS packages of the nodes are chosen.');

export const ProfileSchema = z
  .strictObject({
    kubespray: KubesprayRefSchema.optional(),
    kubeVersion: z
      .string()
      .regex(/^v?\d+\.\d+\.\d+$/, 'expected a Kubernetes version like 1.31.4 (quote it in YAML)')
      .optional()
      .describe(
        'Kubernetes version; any version the Kubespray tag has checksums for. Default: the tag’s default.',
      ),
    arch: z.array(z.enum(ARCH_VALUES)).min(1).optional().describe('Target architectures. Default: [amd64].'),
    inventory: nonEmpty
      .optional()
      .describe('Your Kubespray inventory folder (group_vars/all, group_vars/k8s_cluster are read).'),
    vars: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'Kubespray inventory variables, e.g. kube_network_plugin: cilium. Win over the inventory folder.',
      ),
    extraImages: z.array(ExtraImageSchema).optional().describe('More images to carry (your workloads).'),
    extraFiles: z.array(ExtraFileSchema).optional().describe('More files to carry, each with its sha256.'),
    mirrors: z
      .record(z.string(), nonEmpty)
      .optional()
      .describe(
        'Download mirrors: URL prefix → mirror prefix, e.g. https://github.com/: https://mirror.example/github/.',
      ),
    registryMirrors: z
      .record(z.string(), nonEmpty)
      .optional()
      .describe(
        'Registry mirrors: registry host → mirror base URL, e.g. docker.io: https://mirror.example:5000.',
      ),
    proxy: ProxySchema.optional(),
    registries: z
      .record(z.string(), RegistryCredentialsSchema)
      .optional()
      .describe('Per-registry credentials and TLS settings.'),
    authFile: nonEmpty.optional().describe('A Docker/Podman-style auth.json with registry credentials.'),
    python: PythonRequestSchema.optional().describe(
      "The deploy host's Python: Kubespray's requirements.txt resolved to wheels for these targets.",
    ),
    concurrency: z.number().int().min(1).max(64).optional().describe('Parallel downloads. Default: 6.'),
    connectionsPerHost: z
      .number()
      .int()
      .min(1)
      .max(16)
      .optional()
      .describe(
        'Connections one large download may open to its host (Range segments); total connections stay within concurrency × this. Default: 4; 1 turns segmenting off.',
      ),
    os: z
      .array(z.string().regex(/^[a-z]+-[0-9.]+$/, 'expected an OS id like debian-12 or ubuntu-24.04'))
      .optional()
      .describe(
        'Target operating systems of the nodes, whose OS packages are carried: debian-12, debian-13, ubuntu-22.04, ubuntu-24.04.',
      ),
    osPackages: OsPackagesSchema.optional(),
  })
  .describe('Ferry profile (ferry.yaml): the cluster to carry across the air gap.');

export type Profile = z.infer<typeof ProfileSchema>;
export type ExtraImageSpec = z.infer<typeof ExtraImageSchema>;
export type ExtraFileSpec = z.infer<typeof ExtraFileSchema>;

/** The JSON Schema editors use for completion (resources/ferry-profile.schema.json). */
export function profileJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ProfileSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: 'Ferry profile',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}
