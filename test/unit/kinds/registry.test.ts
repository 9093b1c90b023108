import { describe, expect, it } from 'vitest';
import { ArtifactSchema, type Artifact, type FileEntry } from '../../../src-main/core/bundle/manifest.js';
import {
  KINDS,
  artifactName,
  countKinds,
  kindOf,
  upstreamHosts,
} from '../../../src-main/core/kinds/index.js';
import {
  KIND_LABELS,
  KIND_ORDER,
  countLabel,
  kindTitle,
  roomGroup,
} from '../../../src-main/core/kinds/labels.js';

const hex = (c: string) => c.repeat(64);

describe('the artifact-kind registry', () => {
  it('has an entry, under its own name, for every kind the manifest schema knows', () => {
    const schemaKinds = ArtifactSchema.options.map((o) => o.shape.kind.value).sort();
    expect(Object.keys(KINDS).sort()).toEqual(schemaKinds);
    for (const k of schemaKinds) {
      expect(KINDS[k].kind).toBe(k);
      expect(KINDS[k].label).toBe(KIND_LABELS[k]);
    }
  });

  it('names artifacts as reports always have', () => {
    const file: Artifact = {
      id: 'file:x',
      kind: 'file',
      key: 'kubeadm',
      arch: 'amd64',
      url: 'https://dl.k8s.io/kubeadm',
      paths: ['files/dl.k8s.io/kubeadm'],
    };
    const rpm: Artifact = {
      id: 'rpm:x',
      kind: 'rpm',
      os: 'rhel-9',
      package: 'conntrack-tools',
      epoch: 1,
      version: '1.4.7',
      release: '3.el9',
      arch: 'x86_64',
      sha256: hex('a'),
      size: 10,
      paths: ['rpm/c.rpm'],
    };
    expect(artifactName(file)).toBe('kubeadm (amd64) https://dl.k8s.io/kubeadm');
    expect(artifactName(rpm)).toBe('conntrack-tools-1:1.4.7-3.el9.x86_64 (rhel-9)');
    expect(kindOf(file).summarize(file).group).toBe('kubeadm');
  });

  it('derives image upstreams and OCI index entries from the image kind alone', () => {
    const img: Artifact = {
      id: 'image:quay.io/calico/node:v3',
      kind: 'image',
      key: 'calico_node',
      ref: 'quay.io/calico/node:v3',
      platforms: ['linux/amd64'],
      digest: `sha256:${hex('b')}`,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      size: 100,
      paths: [],
    };
    const meta: Artifact = { id: 'meta:plan', kind: 'meta', name: 'plan', paths: ['plan.json'] };
    expect(upstreamHosts([img, meta, { ...img, id: 'i2', ref: 'nginx:1' }])).toEqual([
      'docker.io',
      'quay.io',
    ]);
    expect(kindOf(img).ownedPaths(img)).toEqual([`images/blobs/sha256/${hex('b')}`]);
    expect(kindOf(meta).ociIndexEntry).toBeUndefined();
    expect(kindOf(img).ociIndexEntry?.(img)?.ref).toBe('quay.io/calico/node:v3');
    expect(countKinds([img, meta, img])).toMatchObject({ image: 2, meta: 1, file: 0, deb: 0 });
  });

  it('refuses a carried package whose declared sha256 or size is not its file list entry', () => {
    const deb: Artifact = {
      id: 'deb:x',
      kind: 'deb',
      os: 'debian-12',
      package: 'socat',
      version: '1.7.4.4-2',
      arch: 'amd64',
      sha256: hex('c'),
      size: 42,
      paths: ['debs/socat.deb'],
    };
    const listed = (e: Partial<FileEntry>) =>
      new Map([['debs/socat.deb', { path: 'debs/socat.deb', size: 42, sha256: hex('c'), ...e }]]);
    const verify = kindOf(deb).verify;
    expect(verify.record(deb, listed({}))).toEqual([]);
    expect(verify.record(deb, listed({ sha256: hex('d') }))[0]).toMatchObject({
      path: 'debs/socat.deb',
      actualSha256: hex('d'),
    });
    expect(verify.record(deb, listed({ size: 41 }))[0]).toMatchObject({
      status: 'wrong-size',
      error: expect.stringMatching(/42 bytes.*41 bytes/),
    });
    // Unlisted: the file checks report it missing (or a delta's base has it).
    expect(verify.record(deb, new Map())).toEqual([]);
  });

  it('gives the UI one noun and one room group per kind', () => {
    expect(countLabel('image', 1)).toBe('1 image');
    expect(countLabel('file', 3)).toBe('3 files');
    expect(roomGroup('image', 'quay.io/calico/node:v3.30.3')).toBe('calico/node');
    expect(roomGroup('file', 'calicoctl (amd64) https://x')).toBe('calico');
    expect(roomGroup('kubespray', 'Kubespray v2.29.0')).toBe('kubespray');
    expect([...KIND_ORDER].sort()).toEqual(Object.keys(KINDS).sort());
    expect(kindTitle('image')).toBe('Container images');
    expect(kindTitle('something-newer')).toBe('something-newer');
  });

  it('tells fetch whether a held artifact is still the wanted download', () => {
    const img: Artifact = {
      id: 'i',
      kind: 'image',
      key: 'k',
      ref: 'quay.io/a/b:1',
      platforms: ['linux/amd64', 'linux/arm64/v8'],
      digest: `sha256:${hex('b')}`,
      mediaType: 'm',
      size: 1,
      paths: [],
    };
    const holds = kindOf(img).fetch!.holds;
    expect(holds(img, { ref: 'quay.io/a/b:1', platforms: ['linux/arm64', 'linux/amd64'] })).toBe(true);
    expect(holds(img, { ref: 'quay.io/a/b:1', platforms: ['linux/amd64'] })).toBe(false);
    expect(holds(img, { ref: 'quay.io/a/b:2', platforms: ['linux/amd64', 'linux/arm64'] })).toBe(false);
    const file: Artifact = {
      id: 'f',
      kind: 'file',
      key: 'k',
      url: 'https://x/y',
      checksum: `sha256:${hex('a')}`,
      paths: ['files/x/y'],
    };
    const fh = kindOf(file).fetch!.holds;
    expect(fh(file, { url: 'https://x/y', checksum: `sha256:${hex('a')}`, paths: ['files/x/y'] })).toBe(true);
    expect(fh(file, { url: 'https://x/y', checksum: `sha256:${hex('c')}`, paths: ['files/x/y'] })).toBe(
      false,
    );
    // Every v2 package kind now judges its own held files (rpm: test/unit/rpm/kind-vars.test.ts).
    expect(KINDS.rpm.fetch?.holds).toBeTypeOf('function');
  });
});
