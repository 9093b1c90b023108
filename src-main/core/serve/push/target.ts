import { FerryError } from '../../base/errors/index.js';
import { isValidHost, REPO_NAME_RE } from '../registry/reference.js';

/** `--to REGISTRY[/PREFIX]`: where images go, with Kubespray-style names under the prefix. */
export interface PushTarget {
  /** host[:port] */
  host: string;
  /** Repository prefix ('' for none), e.g. 'k8s' or 'library/kubespray'. */
  prefix: string;
}

export function parsePushTarget(raw: string): PushTarget {
  const s = raw.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  const slash = s.indexOf('/');
  const host = slash < 0 ? s : s.slice(0, slash);
  const prefix = slash < 0 ? '' : s.slice(slash + 1);
  if (!host || !isValidHost(host)) {
    throw new FerryError('USAGE', `'${raw}' does not start with a registry host.`, {
      artifact: raw,
      hint: 'Write it as HOST[:PORT][/PREFIX], e.g. harbor.example.com/kubespray.',
    });
  }
  if (prefix && !REPO_NAME_RE.test(prefix)) {
    throw new FerryError(
      'USAGE',
      `'${prefix}' is not a valid repository prefix (lowercase letters, digits, '.', '_', '-' and '/').`,
      { artifact: raw },
    );
  }
  return { host, prefix };
}

/** quay.io/calico/node → <prefix>/calico/node (the upstream host dropped, as Kubespray's *_image_repo expect). */
export function targetRepository(t: PushTarget, upstreamPath: string): string {
  return t.prefix ? `${t.prefix}/${upstreamPath}` : upstreamPath;
}
