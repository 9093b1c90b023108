import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import { mirrorUrl, parseMirrorArgs } from '../../../src-main/core/fetch/download/mirrors.js';
import {
  mergeProxyConfig,
  proxyConfigFromEnv,
  proxyFor,
  redactUrl,
} from '../../../src-main/core/fetch/download/proxy.js';
import {
  isNetworkError,
  isRetriableStatus,
  parseRetryAfter,
} from '../../../src-main/core/fetch/download/retry.js';

describe('proxy selection', () => {
  const cfg = {
    http: 'http://p:3128',
    https: 'http://user:pw@p:3128',
    noProxy: 'localhost,.corp.example,10.0.0.0/8,registry.local:5000',
  };
  it('uses the proxy for the URL scheme, unless NO_PROXY names the host, a domain suffix, a CIDR or host:port', () => {
    expect(proxyFor(new URL('https://github.com/x'), cfg)).toBe('http://user:pw@p:3128/');
    expect(proxyFor(new URL('http://dl.k8s.io/x'), cfg)).toBe('http://p:3128/');
    expect(proxyFor(new URL('https://localhost/x'), cfg)).toBeUndefined();
    expect(proxyFor(new URL('https://files.corp.example/x'), cfg)).toBeUndefined();
    expect(proxyFor(new URL('https://corp.example/x'), cfg)).toBeUndefined();
    expect(proxyFor(new URL('http://10.1.2.3/x'), cfg)).toBeUndefined();
    expect(proxyFor(new URL('http://11.1.2.3/x'), cfg)).toBe('http://p:3128/');
    expect(proxyFor(new URL('https://registry.local:5000/v2/'), cfg)).toBeUndefined();
    expect(proxyFor(new URL('https://registry.local/v2/'), cfg)).toBe('http://user:pw@p:3128/');
    expect(proxyFor(new URL('https://anything/'), { ...cfg, noProxy: '*' })).toBeUndefined();
  });

  it('reads the environment as curl does, and the profile wins field by field', () => {
    const env = proxyConfigFromEnv({ https_proxy: 'http://a:1', HTTP_PROXY: 'http://b:2', no_proxy: 'x' });
    expect(env).toEqual({ https: 'http://a:1', http: 'http://b:2', noProxy: 'x' });
    expect(mergeProxyConfig(env, { https: 'http://c:3' })).toEqual({
      https: 'http://c:3',
      http: 'http://b:2',
      noProxy: 'x',
    });
  });

  it('never prints a proxy password, and refuses SOCKS proxies clearly', () => {
    expect(redactUrl('http://user:secret@p:3128/')).not.toContain('secret');
    expect(() => proxyFor(new URL('https://x/'), { https: 'socks5://p:1080' })).toThrow(FerryError);
  });
});

describe('mirrors', () => {
  it('rewrites by the longest matching prefix and leaves other URLs alone', () => {
    const m = parseMirrorArgs([
      'https://github.com/=https://m/gh/',
      'https://github.com/kubernetes-sigs/=https://m/k8s-sigs/',
    ]);
    expect(mirrorUrl('https://github.com/containerd/x.tgz', m)).toBe('https://m/gh/containerd/x.tgz');
    expect(mirrorUrl('https://github.com/kubernetes-sigs/cri-tools/y', m)).toBe(
      'https://m/k8s-sigs/cri-tools/y',
    );
    expect(mirrorUrl('https://dl.k8s.io/z', m)).toBe('https://dl.k8s.io/z');
  });
  it('refuses a --mirror without FROM=TO', () => {
    expect(() => parseMirrorArgs(['https://x'])).toThrow(/FROM=TO/);
  });
});

describe('retry decisions', () => {
  it('retries 5xx, 408 and 429 but not other 4xx', () => {
    expect([500, 502, 503, 429, 408].every(isRetriableStatus)).toBe(true);
    expect([400, 401, 403, 404, 416].some(isRetriableStatus)).toBe(false);
  });
  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
  it('treats wire trouble as transient, and cancels and disk errors as not', () => {
    expect(isNetworkError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isNetworkError(Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }))).toBe(true);
    expect(isNetworkError(Object.assign(new Error('x'), { code: 'ENOSPC' }))).toBe(false);
    expect(isNetworkError(Object.assign(new Error('x'), { name: 'AbortError' }))).toBe(false);
  });
});
