import { describe, expect, it } from 'vitest';
import { checkBundlePath, filePathForUrl, resolveInside } from '../../../src-main/core/bundle/paths.js';

describe('bundle paths', () => {
  it.each([
    'files/dl.k8s.io/release/v1.35.4/bin/linux/amd64/kubeadm',
    'images/blobs/sha256/' + 'a'.repeat(64),
    'kubespray/kubespray-v2.31.0.tar.gz',
  ])('accepts the portable relative path %s', (p) => {
    expect(checkBundlePath(p)).toBeNull();
  });

  it.each([
    ['/etc/passwd', 'is absolute'],
    ['files/../../etc/passwd', "contains '..'"],
    ['files/./x', "contains '.'"],
    ['C:/Windows/system32', 'names a drive'],
    ['files\\evil', 'contains a backslash'],
    ['files//x', 'has an empty segment'],
    ['files/x\u0000y', 'not portable'],
    ['files/aux.', 'ending in a dot'],
    ['', 'is empty'],
  ])('refuses %j', (p, why) => {
    expect(checkBundlePath(p)).toContain(why);
  });

  it('maps a download URL onto the files_repo layout', () => {
    expect(
      filePathForUrl(
        'https://github.com/etcd-io/etcd/releases/download/v3.6.10/etcd-v3.6.10-linux-amd64.tar.gz',
      ),
    ).toBe('files/github.com/etcd-io/etcd/releases/download/v3.6.10/etcd-v3.6.10-linux-amd64.tar.gz');
    expect(filePathForUrl('http://127.0.0.1:8080/a/b')).toBe('files/127.0.0.1_8080/a/b');
  });

  it('never resolves outside the root', () => {
    expect(() => resolveInside('/tmp/root', '../x')).toThrow(/refuses/);
  });
});
