import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  activeStreams,
  modularFilter,
  modulesFor,
  nameOfNevra,
  nevraOf,
  parseModules,
} from '../../../src-main/core/kinds/rpm/modules.js';
import type { RpmPackage } from '../../../src-main/core/kinds/rpm/package.js';

// Shaped like an EL8/EL9 AppStream modules.yaml as modifyrepo_c publishes it.
const MODULES = `---
document: modulemd
version: 2
data:
  name: ferrynode
  stream: "18"
  version: 9010020230101
  context: rhel9
  arch: x86_64
  summary: old build
  license:
    module: [MIT]
  artifacts:
    rpms:
    - ferrynode-1:18.1.0-1.module+el9.x86_64
...
---
document: modulemd
version: 2
data:
  name: ferrynode
  stream: "18"
  version: 9020020230601
  context: rhel9
  arch: x86_64
  summary: Ferry's node, stream 18
  license:
    module: [MIT]
  artifacts:
    rpms:
    - ferrynode-1:18.2.0-1.module+el9.src
    - ferrynode-1:18.2.0-1.module+el9.x86_64
    - ferrynode-docs-18.2.0-1.module+el9.noarch
...
---
document: modulemd
version: 2
data:
  name: ferrynode
  stream: 20
  version: 9020020230701
  context: rhel9
  arch: x86_64
  summary: Ferry's node, stream 20
  artifacts:
    rpms:
    - ferrynode-1:20.0.0-1.module+el9.x86_64
...
---
document: modulemd
version: 2
data:
  name: nodefault
  stream: "1"
  version: 1
  context: c
  arch: x86_64
  summary: a module without defaults
  artifacts:
    rpms:
    - nodefault-0:1.0-1.module.x86_64
...
---
document: modulemd-defaults
version: 1
data:
  module: ferrynode
  stream: "18"
  profiles:
    "18": [common]
...
`;

const pkg = (name: string, evr: string, arch: string): RpmPackage => {
  const [, epoch, version, release] = /^(?:(\d+):)?([^-]+)-(.+)$/.exec(evr)!;
  return {
    name,
    arch,
    epoch: Number(epoch ?? 0),
    version,
    release,
    checksum: { type: 'sha256', value: 'x' },
    location: `${name}.rpm`,
    size: 1,
    provides: [],
    requires: [],
    conflicts: [],
    obsoletes: [],
    recommends: [],
    suggests: [],
    supplements: [],
    enhances: [],
    files: [],
    repo: 'appstream',
  };
};

describe('modules.yaml', () => {
  const index = parseModules(MODULES);

  it('reads streams, artifacts and defaults', () => {
    expect(index.streams.map((s) => `${s.module}:${s.stream}:${s.version}`)).toEqual([
      'ferrynode:18:9010020230101',
      'ferrynode:18:9020020230601',
      'ferrynode:20:9020020230701',
      'nodefault:1:1',
    ]);
    // Artifacts without an epoch get the explicit 0: NEVRAs compare as strings.
    expect(index.streams[1].artifacts).toContain('ferrynode-docs-0:18.2.0-1.module+el9.noarch');
    expect(index.defaults.get('ferrynode')?.stream).toBe('18');
    expect(activeStreams(index, 'x86_64').map((s) => s.version)).toEqual([9020020230601]);
    expect(activeStreams(index, 'x86_64', { ferrynode: '20' }).map((s) => s.stream)).toEqual(['20']);
    expect(activeStreams(index, 'aarch64')).toEqual([]);
    expect(nameOfNevra('ferrynode-docs-0:18.2.0-1.module+el9.noarch')).toBe('ferrynode-docs');
  });

  it('hides what dnf hides', () => {
    const f = modularFilter(index, 'x86_64');
    const def = pkg('ferrynode', '1:18.2.0-1.module+el9', 'x86_64');
    expect(nevraOf(def)).toBe('ferrynode-1:18.2.0-1.module+el9.x86_64');
    expect(f.hidden(def)).toBe(false);
    expect(f.modular(def)).toBe(true);
    // Older version of the default stream, the other stream, a module without defaults.
    expect(f.hidden(pkg('ferrynode', '1:18.1.0-1.module+el9', 'x86_64'))).toBe(true);
    expect(f.hidden(pkg('ferrynode', '1:20.0.0-1.module+el9', 'x86_64'))).toBe(true);
    expect(f.hidden(pkg('nodefault', '1.0-1.module', 'x86_64'))).toBe(true);
    // A non-modular build of a name the active stream ships is shadowed; others are not.
    expect(f.hidden(pkg('ferrynode', '1:22.0.0-1.el9', 'x86_64'))).toBe(true);
    expect(f.hidden(pkg('nodefault', '2.0-1.el9', 'x86_64'))).toBe(false);
    expect(f.modular(pkg('nodefault', '2.0-1.el9', 'x86_64'))).toBe(false);
  });

  it('carries the used streams and their defaults verbatim', () => {
    const out = modulesFor(index, ['ferrynode-docs-0:18.2.0-1.module+el9.noarch', 'bash-0:5.1-1.el9.x86_64']);
    const docs = YAML.parseAllDocuments(out).map(
      (d) => d.toJS() as { document: string; data: Record<string, unknown> },
    );
    expect(docs.map((d) => `${d.document}:${String(d.data.version ?? d.data.module)}`)).toEqual([
      'modulemd:9020020230601',
      'modulemd-defaults:ferrynode',
    ]);
    expect(out).toContain("  summary: Ferry's node, stream 18\n");
    expect(out.startsWith('---\ndocument: modulemd\n')).toBe(true);
    expect(modulesFor(index, ['bash-0:5.1-1.el9.x86_64'])).toBe('');
  });

  it('names the file when a document is broken', () => {
    expect(() =>
      parseModules('---\ndocument: modulemd\ndata: [unclosed\n...\n', 'appstream modules.yaml'),
    ).toThrow(/appstream modules.yaml: a document is not valid YAML/);
  });
});
