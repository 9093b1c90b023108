import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PyDict, PyFloat } from '../../../src-main/core/plan/catalog/index.js';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import { schemaFileText, SCHEMA_FILE } from '../../../src-main/core/plan/profile/export-schema.js';
import { loadProfile, profileFromYaml, profileVars } from '../../../src-main/core/plan/profile/index.js';

const FULL = `# every field
kubespray: v2.31.0
kubeVersion: '1.35.4'
arch: [amd64, arm64]
inventory: inventory/mycluster
vars:
  kube_network_plugin: cilium
  crun_version: 1.17
  helm_enabled: yes
extraImages:
  - docker.io/library/busybox:1.36
  - ref: quay.io/example/app:2.0
    platforms: [linux/arm64]
extraFiles:
  - url: https://example.com/tools/jq-linux-amd64
    sha256: 5942c9b0934e510ee61eb3e30273f1b3fe2590df93933a93d7c58b81d19c8ff5
    path: tools/jq
mirrors:
  https://github.com/: https://mirror.example/github/
registryMirrors:
  docker.io: https://registry-mirror.example:5000
proxy:
  http: http://user:secret@proxy.example:3128
  https: http://user:secret@proxy.example:3128
  noProxy: [localhost, .internal.example, 10.0.0.0/8]
registries:
  quay.io:
    username: robot
    passwordEnv: QUAY_TOKEN
  registry.internal:5000:
    insecure: true
    caFile: certs/ca.pem
authFile: auth.json
concurrency: 8
`;

function failure(text: string): FerryError {
  try {
    profileFromYaml(text, '/srv/p/ferry.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(FerryError);
    return err as FerryError;
  }
  throw new Error('expected the profile to be rejected');
}

describe('ferry.yaml', () => {
  it('accepts every documented field and resolves paths against the profile folder', () => {
    const p = profileFromYaml(FULL, '/srv/p/ferry.yaml');
    expect(p.kubespray).toBe('v2.31.0');
    expect(p.arch).toEqual(['amd64', 'arm64']);
    expect(p.inventory).toBe(path.resolve('/srv/p/inventory/mycluster'));
    expect(p.authFile).toBe(path.resolve('/srv/p/auth.json'));
    expect(p.registries?.['registry.internal:5000']).toEqual({
      insecure: true,
      caFile: path.resolve('/srv/p/certs/ca.pem'),
    });
    expect(p.extraImages).toHaveLength(2);
    expect(p.proxy?.noProxy).toEqual(['localhost', '.internal.example', '10.0.0.0/8']);
    expect(p.concurrency).toBe(8);
  });

  it('keeps vars typed the way Ansible reads group_vars (YAML 1.1, floats, order)', () => {
    const p = profileFromYaml(FULL, '/srv/p/ferry.yaml');
    const vars = profileVars(p);
    expect(vars).toBeInstanceOf(PyDict);
    expect(vars.keys()).toEqual(['kube_network_plugin', 'crun_version', 'helm_enabled']);
    expect(vars.get('crun_version')).toEqual(new PyFloat(1.17));
    expect(vars.get('helm_enabled')).toBe(true);
  });

  it('resolves {dir} and {tarball} sources', () => {
    expect(profileFromYaml('kubespray: {dir: ../kubespray}', '/srv/p/ferry.yaml').kubespray).toEqual({
      dir: path.resolve('/srv/kubespray'),
    });
    expect(profileFromYaml('kubespray: {tarball: k.tar.gz}', '/srv/p/ferry.yaml').kubespray).toEqual({
      tarball: path.resolve('/srv/p/k.tar.gz'),
    });
  });

  it('reports unknown keys with their line', () => {
    const e = failure('kubespray: v2.31.0\narch: [amd64]\nkubeversion: 1.35.4\n');
    expect(e.code).toBe('CONFIG');
    expect(e.message).toBe("/srv/p/ferry.yaml:3: unknown key 'kubeversion'");
  });

  it('reports nested unknown keys and wrong types with their lines, all at once', () => {
    const e = failure(
      'proxy:\n  http: http://p:3128\n  nproxy: [a]\narch:\n  - amd64\n  - s390x\nconcurrency: many\n',
    );
    expect(e.message.split('\n')).toEqual([
      "/srv/p/ferry.yaml:3: proxy: unknown key 'nproxy'",
      expect.stringMatching(/^\/srv\/p\/ferry.yaml:6: arch\[1\]: .*amd64.*arm64/),
      expect.stringMatching(/^\/srv\/p\/ferry.yaml:7: concurrency: .*number/),
    ]);
    expect((e.details?.issues as unknown[]).length).toBe(3);
  });

  it('rejects an extra file without a proper sha256, and an unquoted float version', () => {
    expect(failure('extraFiles:\n  - url: https://x.example/f\n    sha256: abc\n').message).toMatch(
      /:3: extraFiles\[0\]\.sha256: expected 64 hex digits/,
    );
    expect(failure('kubeVersion: 1.35\n').message).toMatch(/:1: kubeVersion: /);
  });

  it('reports YAML syntax errors with the line', () => {
    expect(failure('arch: [amd64\nvars: {').message).toMatch(/^\/srv\/p\/ferry.yaml:\d+: /);
  });

  it('loadProfile reads a file and says when it is missing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-profile-'));
    try {
      fs.writeFileSync(path.join(dir, 'ferry.yaml'), 'kubespray: {dir: ks}\n');
      const p = await loadProfile(path.join(dir, 'ferry.yaml'));
      expect(p.kubespray).toEqual({ dir: path.join(dir, 'ks') });
      await expect(loadProfile(path.join(dir, 'nope.yaml'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the committed JSON Schema is generated from the current schema', () => {
    // Regenerate with: npx tsx src-main/core/plan/profile/export-schema.ts
    expect(JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8'))).toEqual(JSON.parse(schemaFileText()));
    const schema = JSON.parse(schemaFileText());
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties).sort()).toEqual(
      [
        'arch',
        'authFile',
        'concurrency',
        'connectionsPerHost',
        'extraFiles',
        'extraImages',
        'inventory',
        'kubeVersion',
        'kubespray',
        'mirrors',
        'os',
        'osPackages',
        'proxy',
        'registries',
        'registryMirrors',
        'vars',
      ].sort(),
    );
  });
});
