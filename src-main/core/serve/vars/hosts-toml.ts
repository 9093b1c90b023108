import { FerryError } from '../../base/errors/index.js';

/**
 * containerd's `certs.d/<prefix>/hosts.toml`, rendered from `containerd_registries_mirrors`
 * entries the way Kubespray's containerd role does (roles/container-engine/containerd/
 * templates/hosts.toml.j2, read at v2.26.1…v2.31.0): `server` defaults to https://<prefix>;
 * every mirror gets capabilities, skip_verify and override_path; `ca` and `client` are only
 * rendered from v2.28 on (v2.26/v2.27 drop them, so a CA there must be in the node's system
 * trust store), `header` only from v2.29. One generator for the app, the CLI and the check, so
 * what Ferry shows is what a node gets.
 */

export interface RegistryMirror {
  host: string;
  capabilities: string[];
  skip_verify?: boolean;
  override_path?: boolean;
  ca?: string[];
}

export interface RegistryMirrorEntry {
  prefix: string;
  server?: string;
  mirrors: RegistryMirror[];
}

/** Minor version of a Kubespray tag (v2.29.1 → 29); unknown tags count as the newest. */
function minor(tag: string): number {
  const m = /^v?2\.(\d+)/.exec(tag);
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
}

/** Whether this Kubespray tag's hosts.toml template renders a mirror's `ca`. */
export function hostsTomlRendersCa(tag: string): boolean {
  return minor(tag) >= 28;
}

const q = (s: string) => JSON.stringify(s);

export function renderHostsToml(entry: RegistryMirrorEntry, tag: string): string {
  const lines = [`server = ${q(entry.server ?? `https://${entry.prefix}`)}`];
  for (const m of entry.mirrors) {
    lines.push(`[host.${q(m.host)}]`);
    lines.push(`  capabilities = [${m.capabilities.map(q).join(',')}]`);
    lines.push(`  skip_verify = ${m.skip_verify ? 'true' : 'false'}`);
    lines.push(`  override_path = ${m.override_path ? 'true' : 'false'}`);
    if (m.ca && hostsTomlRendersCa(tag)) lines.push(`  ca = [${m.ca.map(q).join(',')}]`);
  }
  return lines.join('\n') + '\n';
}

/** Every hosts.toml the variables make a node write: relative path → contents. */
export function containerdHostsFiles(
  variables: Record<string, unknown>,
  tag: string,
): Array<{ path: string; text: string }> {
  const entries = variables.containerd_registries_mirrors;
  if (entries === undefined) return [];
  if (!Array.isArray(entries))
    throw new FerryError('CONFIG', 'containerd_registries_mirrors is not a list.', {
      artifact: 'containerd_registries_mirrors',
    });
  return (entries as RegistryMirrorEntry[]).map((e) => {
    if (!/^[A-Za-z0-9[][A-Za-z0-9.[\]:_-]*$/.test(e.prefix))
      throw new FerryError('CONFIG', `'${e.prefix}' is not a registry host for certs.d.`, {
        artifact: 'containerd_registries_mirrors',
        hint: 'A prefix is HOST[:PORT], the registry part of an image name.',
      });
    return { path: `${e.prefix}/hosts.toml`, text: renderHostsToml(e, tag) };
  });
}

/** All files as one text (the app's "containerd configuration" view and download). */
export function containerdHostsText(variables: Record<string, unknown>, tag: string): string {
  return containerdHostsFiles(variables, tag)
    .map((f) => `# /etc/containerd/certs.d/${f.path}\n${f.text}`)
    .join('\n');
}
