import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bundlePathForUrl,
  computePlan,
  evaluateTemplate,
  listVariables,
  loadKubespray,
  normalizeImageRef,
  type KubesprayData,
} from '../../../src-main/core/plan/catalog/index.js';
import { pySub } from '../../../src-main/core/plan/catalog/jinja/pyregex.js';
import { kubesprayDataDir } from '../../helpers/tools.js';

let data: KubesprayData;
beforeAll(async () => {
  data = await loadKubespray({ dir: path.join(kubesprayDataDir, 'v2.31.0') });
});

describe('catalog API used by other modules', () => {
  it('evaluateTemplate renders any Kubespray template with the chosen variables and architecture', () => {
    expect(
      evaluateTemplate(data, { github_url: 'https://files.local/github.com' }, '{{ cni_download_url }}', {
        arch: 'arm64',
      }),
    ).toBe(
      'https://files.local/github.com/containernetworking/plugins/releases/download/v1.9.1/cni-plugins-linux-arm64-v1.9.1.tgz',
    );
    expect(evaluateTemplate(data, {}, '{{ kube_proxy_deployed }}')).toBe(true);
    expect(
      evaluateTemplate(
        data,
        { kube_image_repo: 'r.local:5000' },
        '{{ pod_infra_image_repo }}:{{ pod_infra_image_tag }}',
      ),
    ).toBe('r.local:5000/pause:3.10.1');
    expect(() => evaluateTemplate(data, {}, '{{ no_such_variable }}')).toThrow(
      /'no_such_variable' is undefined/,
    );
  });

  it('listVariables names every variable the tag defines', () => {
    const names = listVariables(data);
    expect(names).toContain('kube_image_repo');
    expect(names).toContain('kubelet_checksums'); // a role var in v2.31
    expect(names).not.toContain('no_such_variable');
  });

  it('pins an image by digest when its digest checksum is set, as the download role pulls it', () => {
    const digest = 'a'.repeat(64);
    const plan = computePlan(data, { arches: ['amd64'], vars: { pod_infra_digest_checksum: digest } });
    expect(plan.images.find((i) => i.key === 'pod_infra')?.ref).toBe(
      `registry.k8s.io/pause@sha256:${digest}`,
    );
  });

  it('turns URLs into bundle paths and refuses ones that would escape', () => {
    expect(bundlePathForUrl('https://dl.k8s.io/release/v1.35.4/bin/linux/amd64/kubelet')).toBe(
      'files/dl.k8s.io/release/v1.35.4/bin/linux/amd64/kubelet',
    );
    expect(() => bundlePathForUrl('https://h/a/..%2F..%2Fetc/passwd')).toThrow(/cannot be stored/);
    expect(() => bundlePathForUrl('file:///etc/passwd')).toThrow(/not an http/);
  });

  it('completes short image references the way container tools do', () => {
    expect(normalizeImageRef('busybox')).toBe('docker.io/library/busybox:latest');
    expect(normalizeImageRef('rancher/k3s:v1')).toBe('docker.io/rancher/k3s:v1');
    expect(normalizeImageRef('localhost:5000/x')).toBe('localhost:5000/x:latest');
    expect(normalizeImageRef('quay.io/a/b@sha256:' + 'b'.repeat(64))).toBe(
      'quay.io/a/b@sha256:' + 'b'.repeat(64),
    );
  });

  it("Python's $ matches before a final newline, and per line with multiline", () => {
    expect(pySub('a$', 'X', 'a\n')).toBe('X\n');
    expect(pySub('a$', 'X', 'a\na', { multiline: true })).toBe('X\nX');
  });
});
