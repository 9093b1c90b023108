/**
 * Name grammar of the registry API (full references are parsed by core/oci/reference.ts).
 * Docker Hub is 'docker.io' whatever alias a client uses.
 */

export const DOCKER_HUB = 'docker.io';
/** Hosts that mean Docker Hub (containerd sends ns=docker.io; old clients use these). */
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

// The distribution spec's repository name grammar.
const NAME_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
export const REPO_NAME_RE = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
export const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
export const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
const HOST_RE =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

export function normalizeHost(host: string): string {
  const h = host.toLowerCase();
  return HUB_ALIASES.has(h) ? DOCKER_HUB : h;
}

export function isValidHost(host: string): boolean {
  return HOST_RE.test(host);
}
