import { FerryError } from '../../base/errors/index.js';

/**
 * Which proxy a URL goes through. The profile's setting wins over the environment
 * (HTTPS_PROXY / HTTP_PROXY / NO_PROXY, upper or lower case, as curl reads them), so a
 * technician can pin Ferry's traffic without changing the shell it runs in.
 */

export interface ProxyConfig {
  http?: string;
  https?: string;
  /** Comma-separated hosts, domain suffixes (.corp or corp), host:port, IPs, CIDRs, or '*'. */
  noProxy?: string;
}

export function proxyConfigFromEnv(env: NodeJS.ProcessEnv): ProxyConfig {
  const pick = (...names: string[]) => names.map((n) => env[n]).find((v) => v !== undefined && v !== '');
  const cfg: ProxyConfig = {};
  const https = pick('HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy');
  const http = pick('HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy');
  const no = pick('NO_PROXY', 'no_proxy');
  if (https) cfg.https = https;
  if (http) cfg.http = http;
  if (no) cfg.noProxy = no;
  return cfg;
}

/** Profile values override the environment field by field. */
export function mergeProxyConfig(env: ProxyConfig, profile?: ProxyConfig): ProxyConfig {
  return {
    ...env,
    ...Object.fromEntries(Object.entries(profile ?? {}).filter(([, v]) => v !== undefined && v !== '')),
  };
}

export function checkProxyUrl(raw: string, source = 'proxy'): URL {
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new FerryError('CONFIG', `The ${source} '${raw}' is not a URL.`, {
      hint: 'Write it as http://[user:password@]host:port.',
    });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new FerryError(
      'UNSUPPORTED',
      `The ${source} '${redactUrl(u.href)}' uses ${u.protocol}; Ferry speaks to HTTP(S) proxies only.`,
      {
        hint: 'Use an http:// or https:// proxy URL.',
      },
    );
  }
  return u;
}

/** The proxy URL for a request, or undefined for a direct connection. */
export function proxyFor(target: URL, cfg: ProxyConfig): string | undefined {
  const raw = target.protocol === 'https:' ? cfg.https : cfg.http;
  if (!raw) return undefined;
  if (cfg.noProxy && bypasses(target, cfg.noProxy)) return undefined;
  return checkProxyUrl(raw).href;
}

function bypasses(target: URL, noProxy: string): boolean {
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  for (let entry of noProxy.split(/[\s,]+/)) {
    entry = entry.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    let entryPort: string | undefined;
    const m = /^(.*?):(\d+)$/.exec(entry);
    if (m && !entry.includes('::')) {
      entry = m[1];
      entryPort = m[2];
    }
    entry = entry.replace(/^\[|\]$/g, '');
    if (entryPort && entryPort !== port) continue;
    if (entry.includes('/') && inCidr(host, entry)) return true;
    const bare = entry.replace(/^\*?\./, '');
    if (host === bare || host.endsWith('.' + bare)) return true;
  }
  return false;
}

function inCidr(host: string, cidr: string): boolean {
  const [net, bitsRaw] = cidr.split('/');
  const bits = Number(bitsRaw);
  const a = ipv4(host);
  const b = ipv4(net);
  if (a === undefined || b === undefined || !(bits >= 0 && bits <= 32)) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (a & mask) === (b & mask);
}

function ipv4(s: string): number | undefined {
  const p = s.split('.');
  if (p.length !== 4 || p.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) return undefined;
  return p.reduce((acc, x) => ((acc << 8) | Number(x)) >>> 0, 0);
}

/** A URL safe to print: no password. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '***';
    return u.href;
  } catch {
    return raw.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
  }
}
