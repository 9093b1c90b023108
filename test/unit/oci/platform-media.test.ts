import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import { parseManifestBytes } from '../../../src-main/core/fetch/oci/media.js';
import { parsePlatform, selectPlatforms } from '../../../src-main/core/fetch/oci/platform.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const entries = [
  { digest: d('1'), platform: { os: 'linux', architecture: 'amd64' } },
  { digest: d('2'), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
  { digest: d('3'), platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
  { digest: d('4'), platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
  { digest: d('5'), platform: { os: 'unknown', architecture: 'unknown' } },
];

describe('platform selection from an index', () => {
  it('picks os/architecture, treats arm64 and arm64/v8 as the same, prefers arm/v7 without a variant', () => {
    const pick = (p: string) => selectPlatforms(entries, [parsePlatform(p)])[0].entry?.digest;
    expect(pick('linux/amd64')).toBe(d('1'));
    expect(pick('linux/arm64')).toBe(d('2'));
    expect(pick('linux/arm64/v8')).toBe(d('2'));
    expect(pick('linux/arm')).toBe(d('4'));
    expect(pick('linux/arm/v6')).toBe(d('3'));
    expect(pick('linux/s390x')).toBeUndefined();
    expect(pick('windows/amd64')).toBeUndefined();
  });

  it('refuses a malformed platform', () => {
    expect(() => parsePlatform('amd64')).toThrow(FerryError);
  });
});

describe('manifest documents', () => {
  const desc = { digest: d('a'), size: 10 };
  it('reads OCI and Docker indexes and manifests, by document or Content-Type', () => {
    const ociIndex = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [desc],
      }),
    );
    expect(parseManifestBytes(ociIndex, undefined, 'x').kind).toBe('index');
    const dockerList = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
        manifests: [desc],
      }),
    );
    expect(parseManifestBytes(dockerList, undefined, 'x')).toMatchObject({
      kind: 'index',
      mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
    });
    const noType = Buffer.from(JSON.stringify({ schemaVersion: 2, config: desc, layers: [desc] }));
    expect(
      parseManifestBytes(noType, 'application/vnd.docker.distribution.manifest.v2+json', 'x'),
    ).toMatchObject({
      kind: 'manifest',
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    });
    expect(parseManifestBytes(noType, undefined, 'x')).toMatchObject({
      kind: 'manifest',
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
    });
  });

  it('refuses schema 1, unknown media types and malformed documents with errors that name the image', () => {
    const s1 = Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'x', fsLayers: [] }));
    expect(() => parseManifestBytes(s1, undefined, 'quay.io/old:1')).toThrow(/schema 1/);
    const weird = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.example+json' }),
    );
    expect(() => parseManifestBytes(weird, undefined, 'q/w:1')).toThrow(/does not handle/);
    const broken = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { digest: 'nope' },
        layers: [],
      }),
    );
    try {
      parseManifestBytes(broken, undefined, 'q/w:1');
      expect.unreachable();
    } catch (e) {
      expect((e as FerryError).code).toBe('INTEGRITY');
      expect((e as FerryError).artifact).toBe('q/w:1');
    }
  });
});
