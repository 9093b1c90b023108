import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import {
  apiHost,
  formatImageRef,
  manifestReference,
  parseImageRef,
} from '../../../src-main/core/fetch/oci/reference.js';

describe('image references', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['calico/node:v3.30.3', 'docker.io/calico/node:v3.30.3'],
    ['docker.io/library/busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['index.docker.io/library/busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['quay.io/calico/node:v3.30.3', 'quay.io/calico/node:v3.30.3'],
    ['registry.k8s.io/kube-apiserver:v1.33.4', 'registry.k8s.io/kube-apiserver:v1.33.4'],
    ['127.0.0.1:5000/library/test:1', '127.0.0.1:5000/library/test:1'],
    ['localhost/app', 'localhost/app:latest'],
    [`ghcr.io/a/b@sha256:${'a'.repeat(64)}`, `ghcr.io/a/b@sha256:${'a'.repeat(64)}`],
    [`ghcr.io/a/b:v1@sha256:${'b'.repeat(64)}`, `ghcr.io/a/b:v1@sha256:${'b'.repeat(64)}`],
  ])('%s is %s', (input, full) => {
    expect(formatImageRef(parseImageRef(input))).toBe(full);
  });

  it('talks to Docker Hub at registry-1.docker.io and asks for the digest when one is pinned', () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('quay.io')).toBe('quay.io');
    const d = `sha256:${'c'.repeat(64)}`;
    expect(manifestReference(parseImageRef(`quay.io/x/y:v1@${d}`))).toBe(d);
    expect(manifestReference(parseImageRef('quay.io/x/y:v1'))).toBe('v1');
  });

  it.each(['', 'UPPER/case:1', 'quay.io/x/y:bad tag', 'quay.io/x/y@sha256:short', 'a//b'])(
    'refuses %j with a usage error',
    (bad) => {
      expect(() => parseImageRef(bad)).toThrow(FerryError);
    },
  );

  it('says which digest algorithms it handles', () => {
    try {
      parseImageRef(`quay.io/x/y@sha512:${'a'.repeat(128)}`);
      expect.unreachable();
    } catch (e) {
      expect((e as FerryError).code).toBe('UNSUPPORTED');
    }
  });
});
