import { describe, expect, it } from 'vitest';
import { parsePushTarget, targetRepository } from '../../../src-main/core/serve/push/target.js';

describe('push targets', () => {
  it('splits REGISTRY[/PREFIX] and drops a scheme', () => {
    expect(parsePushTarget('harbor.corp')).toEqual({ host: 'harbor.corp', prefix: '' });
    expect(parsePushTarget('harbor.corp:8443/k8s/offline/')).toEqual({
      host: 'harbor.corp:8443',
      prefix: 'k8s/offline',
    });
    expect(parsePushTarget('https://127.0.0.1:5000/x')).toEqual({ host: '127.0.0.1:5000', prefix: 'x' });
  });
  it('refuses malformed hosts and prefixes', () => {
    expect(() => parsePushTarget('not a host')).toThrow(/registry host/);
    expect(() => parsePushTarget('harbor.corp/Upper')).toThrow(/prefix/);
    expect(() => parsePushTarget('')).toThrow();
  });
  it('puts Kubespray-style names under the prefix', () => {
    expect(targetRepository({ host: 'h', prefix: 'k8s' }, 'calico/node')).toBe('k8s/calico/node');
    expect(targetRepository({ host: 'h', prefix: '' }, 'library/nginx')).toBe('library/nginx');
  });
});
