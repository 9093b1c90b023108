import { FerryError } from '../../base/errors/index.js';

/**
 * Image references as Docker and containerd read them: `[registry/]repository[:tag][@digest]`.
 * A first component without '.', ':' or 'localhost' is a Docker Hub path, so `nginx` is
 * `docker.io/library/nginx:latest`; Docker Hub's API lives at registry-1.docker.io.
 */

export interface ImageRef {
  /** As named in the reference, normalised: 'docker.io', 'quay.io', '127.0.0.1:5000'. */
  registry: string;
  repository: string;
  tag?: string;
  /** 'sha256:<hex>' */
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API = 'registry-1.docker.io';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const DOMAIN =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::\d+)?$|^\[[0-9a-fA-F:]+\](?::\d+)?$/;

function bad(ref: string, why: string): FerryError {
  return new FerryError('USAGE', `'${ref.slice(0, 200)}' is not an image reference: ${why}.`, {
    artifact: ref.slice(0, 200),
    hint: 'Write it as registry/repository:tag or registry/repository@sha256:<digest>, e.g. quay.io/calico/node:v3.30.3.',
  });
}

export function parseImageRef(input: string): ImageRef {
  const ref = input.trim();
  if (!ref || ref.length > 1024) throw bad(input, 'empty or too long');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) {
      if (/^[a-z0-9]+:/.test(digest)) {
        throw new FerryError(
          'UNSUPPORTED',
          `'${ref}' uses a ${digest.split(':')[0]} digest; Ferry handles sha256 digests.`,
          { artifact: ref },
        );
      }
      throw bad(input, 'the digest is not sha256:<64 hex>');
    }
  }
  let registry = DOCKER_HUB;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[')) {
      if (!DOMAIN.test(first)) throw bad(input, `'${first}' is not a registry host`);
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon >= 0) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw bad(input, `'${tag}' is not a valid tag`);
  }
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_API) registry = DOCKER_HUB;
  let repository = rest;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (!repository || repository.split('/').some((c) => !COMPONENT.test(c))) {
    throw bad(input, 'the repository must be lowercase letters, digits and separators');
  }
  if (!tag && !digest) tag = 'latest';
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The fully qualified reference: what the bundle records and nodes ask for. */
export function formatImageRef(r: ImageRef): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** The host that serves the registry API for a reference's registry. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}

/** What to ask the registry for: the digest when the reference pins one, else the tag. */
export function manifestReference(r: ImageRef): string {
  return r.digest ?? r.tag ?? 'latest';
}
