import path from 'node:path';
import { dataDir } from '../core/base/config/dirs.js';
import { HttpClient, type TlsSettings } from '../core/fetch/download/http-client.js';
import { checkMirrors } from '../core/fetch/download/mirrors.js';
import { mergeProxyConfig, proxyConfigFromEnv } from '../core/fetch/download/proxy.js';
import {
  osPackagesSettings,
  osPackagesSummary,
  planOsPackages,
  rpmClientTls,
  rpmFetchTls,
  rpmPackagesSummary,
} from '../core/kinds/deb/plan-request.js';
import type { ResolvedDebSet } from '../core/kinds/deb/set.js';
import { OS_IDS } from '../core/kinds/os.js';
import type { ResolvedRpmSet } from '../core/kinds/rpm/set.js';
import type { ComputeOptions, KubesprayData } from '../core/plan/catalog/index.js';
import type { Profile } from '../core/plan/profile/schema.js';
import type { CommandContext, OptionSpec } from './command.js';
import { str, strs } from './output.js';
import { sourceSettings } from './source-options.js';

/** The flags `plan` and `fetch` take for OS packages (part of clusterOptions); --mirror and --proxy apply to archives too. */
export const OS_PACKAGE_OPTIONS: Record<string, OptionSpec> = {
  os: {
    type: 'string',
    multiple: true,
    valueName: 'OS',
    description: `Target OS of the nodes, whose OS packages are carried: ${OS_IDS.join(', ')} (repeat or comma list).`,
  },
  'os-package': {
    type: 'string',
    multiple: true,
    valueName: 'NAME',
    description: 'Another OS package to carry for every --os (NAME or NAME=VERSION).',
  },
  'no-recommends': {
    type: 'boolean',
    description: 'Do not follow Recommends (apt follows them by default).',
  },
  'deploy-os': {
    type: 'string',
    valueName: 'OS',
    description: 'The deploy host’s OS: adds python3, python3-venv, openssh-client and rsync to its set.',
  },
  keyring: {
    type: 'string',
    multiple: true,
    valueName: 'OS=FILE',
    description: 'Archive keyring for an OS (ubuntu-24.04=…, a private mirror) or docker=FILE.',
  },
  'rpm-repo': {
    type: 'string',
    multiple: true,
    valueName: 'OS=URL',
    description:
      'RPM repository root for an OS (URL/BaseOS/$basearch/os, or with $repo/$repoid/$basearch), or OS:ID=URL for one repository; required for rhel-9/rhel-10.',
  },
  'rpm-key': {
    type: 'string',
    multiple: true,
    valueName: 'OS=FILE',
    description:
      "Public key trusted for an RPM OS's repositories (a private mirror's own key), or epel=FILE, docker=FILE.",
  },
  'client-cert': {
    type: 'string',
    valueName: 'FILE',
    description: 'PEM client certificate for the RPM repositories (Red Hat CDN entitlement, Satellite).',
  },
  'client-key': {
    type: 'string',
    valueName: 'FILE',
    description: 'PEM key of --client-cert.',
  },
  'rpm-ca': {
    type: 'string',
    valueName: 'FILE',
    description: "PEM CA of the RPM repositories' hosts when not public (Red Hat's CDN: redhat-uep.pem).",
  },
};

// Lives in core so the app's plan handler gives the same certificate to the same hosts.
export { rpmClientTls };

/**
 * The TLS `ferry fetch` gives the plan's RPM repository hosts: --client-cert, --client-key and
 * --rpm-ca (else the profile's), as planning had them, so the .rpm downloads pass the same
 * mutual TLS the metadata did; also with --plan, whose plan names the hosts.
 */
export async function rpmFetchTlsForCli(
  ctx: CommandContext,
  profile: Profile | undefined,
  rpms: readonly ResolvedRpmSet[] | undefined,
): Promise<Record<string, TlsSettings> | undefined> {
  const v = ctx.values;
  const settings = osPackagesSettings({
    clientCert: str(v['client-cert']),
    clientKey: str(v['client-key']),
    rpmCa: str(v['rpm-ca']),
    profile,
  });
  return rpmFetchTls(settings, rpms);
}

/**
 * Resolves the OS package sets the flags and profile ask for, through the profile's proxy and
 * mirrors; undefined when no OS is named. Indexes are cached under the data folder.
 */
export async function planOsPackagesForCli(
  ctx: CommandContext,
  profile: Profile | undefined,
  plan: { data: KubesprayData; options: ComputeOptions },
): Promise<{ debs: ResolvedDebSet[]; rpms: ResolvedRpmSet[]; summary: string[] } | undefined> {
  const v = ctx.values;
  const settings = osPackagesSettings({
    os: strs(v.os),
    extra: strs(v['os-package']),
    noRecommends: v['no-recommends'] === true,
    keyrings: strs(v.keyring),
    deployOs: str(v['deploy-os']),
    rpmRepos: strs(v['rpm-repo']),
    rpmKeys: strs(v['rpm-key']),
    clientCert: str(v['client-cert']),
    clientKey: str(v['client-key']),
    rpmCa: str(v['rpm-ca']),
    profile,
  });
  if (!settings.os.length) return undefined;
  // The same mirrors (--mirror, the profile's) and proxy as every other download.
  const net = sourceSettings(ctx, profile);
  const mirrors = net.mirrors;
  checkMirrors(mirrors);
  const tls = await rpmClientTls(settings);
  const client = new HttpClient({
    proxy: mergeProxyConfig(proxyConfigFromEnv(ctx.env), net.proxy),
    ...(tls ? { tls } : {}),
  });
  try {
    const r = await planOsPackages(settings, plan, {
      client,
      cacheDir: path.join(dataDir(ctx.env), 'cache', 'apt'),
      rpmCacheDir: path.join(dataDir(ctx.env), 'cache', 'dnf'),
      mirrors,
      signal: ctx.signal,
      log: (m) => {
        if (!ctx.json && ctx.stderr.isTTY) ctx.stderr.write(`${m}\n`);
      },
    });
    for (const { os, choice } of r.choices) {
      ctx.stderr.write(
        `note: ${os}: ${choice.package} needs ${choice.relation}: chose ${choice.chosen} (also: ${choice.others.join(', ')})\n`,
      );
    }
    return {
      debs: r.debs,
      rpms: r.rpms,
      summary: [...osPackagesSummary(r.debs), ...rpmPackagesSummary(r.rpms)],
    };
  } finally {
    await client.close();
  }
}
