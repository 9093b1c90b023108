import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import { chartIndexYaml, findChartEntry, MAX_INDEX_BYTES } from '../../../src-main/core/fetch/helm-index.js';

const URL = 'https://helm.cilium.io/index.yaml';
const D1 = 'a'.repeat(64);
const D2 = 'B'.repeat(64);

/** Shaped like helm.cilium.io's: several charts, versions newest first, absolute URLs. */
const upstream = `apiVersion: v1
entries:
  cilium:
  - annotations:
      cilium.io/images: |
        - name: cilium
          image: quay.io/cilium/cilium:v1.19.3
    apiVersion: v2
    appVersion: 1.19.3
    created: "2026-04-20T10:00:00.123456789Z"
    description: eBPF-based Networking, Security, and Observability
    digest: ${D2}
    home: https://cilium.io/
    icon: https://cdn.jsdelivr.net/gh/cilium/cilium@main/Documentation/images/logo-solo.svg
    keywords: [BPF, eBPF, Kubernetes]
    kubeVersion: ">= 1.21.0-0"
    name: cilium
    sources: [https://github.com/cilium/cilium]
    urls:
    - https://helm.cilium.io/cilium-1.19.3.tgz
    version: 1.19.3
  - apiVersion: v2
    digest: ${D1}
    name: cilium
    urls: [https://helm.cilium.io/cilium-1.18.4.tgz]
    version: 1.18.4
  tetragon:
  - apiVersion: v2
    digest: ${D1}
    name: tetragon
    urls: [https://helm.cilium.io/tetragon-1.0.0.tgz]
    version: 1.0.0
generated: "2026-04-20T10:00:00Z"
`;

function err(fn: () => unknown): FerryError {
  try {
    fn();
  } catch (e) {
    if (e instanceof FerryError) return e;
    throw e;
  }
  throw new Error('expected a FerryError');
}

describe("Helm repository index: the chart's digest from upstream, Ferry's own one-entry index", () => {
  it('finds the entry of the version and takes its digest (lower case) and metadata', () => {
    const e = findChartEntry(Buffer.from(upstream), 'cilium', '1.19.3', URL);
    expect(e.digest).toBe('b'.repeat(64));
    expect(e.meta).toMatchObject({ apiVersion: 'v2', appVersion: '1.19.3', kubeVersion: '>= 1.21.0-0' });
    expect(findChartEntry(Buffer.from(upstream), 'cilium', '1.18.4', URL).digest).toBe(D1);
  });

  it('matches versions spelled with a leading v', () => {
    const v = upstream.replace('version: 1.18.4', 'version: v1.18.4');
    expect(findChartEntry(Buffer.from(v), 'cilium', '1.18.4', URL).digest).toBe(D1);
  });

  it('says which versions exist when the wanted one does not, and how to fix it', () => {
    const e = err(() => findChartEntry(Buffer.from(upstream), 'cilium', '1.17.0', URL));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toBe(`${URL} lists no cilium chart 1.17.0.`);
    expect(e.hint).toMatch(/cilium_version.*1\.19\.3, 1\.18\.4.*--mirror https:\/\/helm\.cilium\.io\/=/);
  });

  it('refuses an index that is not YAML, lists no such chart, or gives no sha256 digest', () => {
    expect(err(() => findChartEntry(Buffer.from('<html>nope: ['), 'cilium', '1.19.3', URL)).code).toBe(
      'INTEGRITY',
    );
    expect(
      err(() => findChartEntry(Buffer.from('apiVersion: v1\n'), 'cilium', '1.19.3', URL)).message,
    ).toMatch(/lists no chart named 'cilium'/);
    const noDigest = upstream.replace(`digest: ${D1}\n    name: cilium`, 'name: cilium');
    const e = err(() => findChartEntry(Buffer.from(noDigest), 'cilium', '1.18.4', URL));
    expect(e.code).toBe('CHECKSUM');
    expect(e.message).toMatch(/no sha256 digest for cilium 1\.18\.4/);
  });

  it('keeps a hostile index out of memory: size capped, aliases capped', () => {
    expect(err(() => findChartEntry(Buffer.alloc(MAX_INDEX_BYTES + 1, 0x20), 'cilium', '1', URL)).code).toBe(
      'HOSTILE',
    );
    // A "billion laughs" index: each level multiplies the last by ten.
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1 || ''}`)
          .join(', ')}]`,
      );
    const bomb = lines.join('\n').replace('*a0', '*a');
    const e = err(() => findChartEntry(Buffer.from(bomb), 'cilium', '1.19.3', URL));
    expect(e.code).toBe('INTEGRITY');
    expect(e.message).toMatch(/is not a Helm repository index: .*alias/i);
  });

  it("writes an index with only that version, a relative URL and upstream's digest, the same bytes every time", () => {
    const entry = findChartEntry(Buffer.from(upstream), 'cilium', '1.19.3', URL);
    const text = chartIndexYaml(entry, 'cilium-1.19.3.tgz');
    expect(
      chartIndexYaml(findChartEntry(Buffer.from(upstream), 'cilium', '1.19.3', URL), 'cilium-1.19.3.tgz'),
    ).toBe(text);
    const doc = parse(text) as {
      apiVersion: string;
      entries: Record<string, Array<Record<string, unknown>>>;
      generated: string;
    };
    expect(doc.apiVersion).toBe('v1');
    expect(Object.keys(doc.entries)).toEqual(['cilium']);
    expect(doc.entries.cilium).toHaveLength(1);
    expect(doc.entries.cilium[0]).toMatchObject({
      apiVersion: 'v2',
      name: 'cilium',
      version: '1.19.3',
      appVersion: '1.19.3',
      digest: 'b'.repeat(64),
      urls: ['cilium-1.19.3.tgz'],
      created: '2026-04-20T10:00:00.123456789Z',
    });
    // Versions and dates stay strings through a YAML round trip (Helm reads them as strings).
    expect(text).toMatch(/version: 1\.19\.3\n/);
    expect(typeof doc.generated).toBe('string');
  });
});
