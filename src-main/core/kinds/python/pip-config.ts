/**
 * What the deploy host needs to install from Ferry's Python index: a pip.conf and the same as
 * environment variables. pip ignores a plain-http index on any host but localhost unless it is a
 * `trusted-host` ("not a trusted or secure host and is being ignored"), so an http URL names its
 * host; an https one served with Ferry's CA names the CA file instead.
 */
export interface PipConfigInput {
  /** The index root, ending in /simple/. */
  indexUrl: string;
  /** Where the deploy host keeps the CA that signed Ferry's certificate (https only). */
  caFile?: string;
}

export interface PipConfig {
  /** pip.conf text ([global] section): /etc/pip.conf, ~/.config/pip/pip.conf or $VIRTUAL_ENV/pip.conf. */
  pipConf: string;
  /** The same as PIP_* environment variables. */
  env: Record<string, string>;
  /** The requirements file served beside the index, pinned by hash. */
  requirementsUrl: string;
}

export function pipConfig(o: PipConfigInput): PipConfig {
  const url = new URL(o.indexUrl);
  const env: Record<string, string> = { PIP_INDEX_URL: url.href };
  const lines = ['[global]', `index-url = ${url.href}`];
  if (url.protocol === 'http:') {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    lines.push(`trusted-host = ${host}`);
    env.PIP_TRUSTED_HOST = host;
  } else if (o.caFile) {
    lines.push(`cert = ${o.caFile}`);
    env.PIP_CERT = o.caFile;
  }
  return {
    pipConf: lines.join('\n') + '\n',
    env,
    requirementsUrl: new URL('../python/requirements.txt', url).href,
  };
}
