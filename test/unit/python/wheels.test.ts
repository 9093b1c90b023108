import { describe, expect, it } from 'vitest';
import { parseHtmlPage, parseJsonPage } from '../../../src-main/core/kinds/python/index-client.js';
import {
  markerHolds,
  parseRequirement,
  parseRequirementsFile,
} from '../../../src-main/core/kinds/python/markers.js';
import { metadataFromWheel, parseCoreMetadata } from '../../../src-main/core/kinds/python/metadata.js';
import { satisfiesSpec, specAllowsPrereleases } from '../../../src-main/core/kinds/python/pep440.js';
import { targetsOf } from '../../../src-main/core/kinds/python/plan.js';
import { parseWheelFilename, TagRanking } from '../../../src-main/core/kinds/python/tags.js';
import { wheelsOf } from '../../../src-main/core/kinds/python/fetch-wheels.js';
import { makeWheel } from '../../helpers/pypi-server.js';

const x86 = { python: '3.11', arch: 'x86_64' as const, glibc: '2.36' };
const arm = { python: '3.12', arch: 'aarch64' as const, glibc: '2.34' };

describe('requirements and markers', () => {
  it('parses PEP 508 lines, old-style parentheses and extras', () => {
    expect(parseRequirement('PyYAML (>=5.1)')).toMatchObject({ name: 'pyyaml', specifier: '>=5.1' });
    expect(parseRequirement('resolvelib <1.1.0, >=0.5.3')).toMatchObject({ specifier: '<1.1.0,>=0.5.3' });
    expect(parseRequirement("cryptography[SSH]>=44 ; python_version >= '3.11'")).toMatchObject({
      name: 'cryptography',
      extras: ['ssh'],
      markerText: "python_version >= '3.11'",
    });
    expect(() => parseRequirement('pkg @ https://example.com/pkg.whl')).toThrow(/direct URL/);
  });

  it('reads requirements.txt, refusing options it cannot honour', () => {
    const r = parseRequirementsFile(
      'ansible==11.13.0\n# comment\njmespath==1.1.0 \\\n  --hash=sha256:abc\n\n',
      'r.txt',
    );
    expect(r.map((x) => x.line)).toEqual(['ansible==11.13.0', 'jmespath==1.1.0']);
    expect(() => parseRequirementsFile('-r other.txt\n', 'r.txt')).toThrow(/r\.txt:1: the option '-r'/);
  });

  it('evaluates markers for the target, with extras normalized', () => {
    const m = (t: string) => parseRequirement(`x; ${t}`).marker;
    expect(markerHolds(m("platform_machine == 'x86_64'"), x86)).toBe(true);
    expect(markerHolds(m("platform_machine == 'x86_64'"), arm)).toBe(false);
    expect(markerHolds(m("python_version < '3.12' and sys_platform == 'linux'"), x86)).toBe(true);
    expect(markerHolds(m("python_version < '3.12' and sys_platform == 'linux'"), arm)).toBe(false);
    expect(markerHolds(m("extra == 'SSH_Keys'"), x86)).toBe(false);
    expect(markerHolds(m("extra == 'SSH_Keys'"), x86, ['ssh-keys'])).toBe(true);
    expect(
      markerHolds(m("python_full_version >= '3.9' and platform_python_implementation != 'PyPy'"), arm),
    ).toBe(true);
  });

  it('treats pre-releases as pip does', () => {
    expect(satisfiesSpec('2.0rc1', '>=1.0')).toBe(false);
    expect(satisfiesSpec('2.0rc1', '>=1.0', true)).toBe(true);
    expect(specAllowsPrereleases('==2.0rc1')).toBe(true);
    expect(specAllowsPrereleases('<2.0rc1')).toBe(false);
    expect(satisfiesSpec('2.18.12', '~=2.18.12')).toBe(true);
    expect(satisfiesSpec('2.19.0', '~=2.18.12')).toBe(false);
  });
});

describe('wheel tags', () => {
  it('expands compressed tag sets and ranks by packaging order', () => {
    const w = parseWheelFilename(
      'markupsafe-3.0.3-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl',
    );
    expect(w?.tags).toEqual(['cp311-cp311-manylinux2014_x86_64', 'cp311-cp311-manylinux_2_17_x86_64']);
    const r = new TagRanking({ python: '3.11', arch: 'x86_64', glibc: '2.34' });
    const rank = (f: string) => r.of(f);
    expect(rank('c-1-cp311-cp311-manylinux_2_34_x86_64.whl')).toBe(0);
    expect(rank('c-1-cp311-abi3-manylinux_2_34_x86_64.whl')).toBe(34);
    expect(rank('c-1-cp311-abi3-manylinux_2_35_x86_64.whl')).toBeUndefined();
    expect(rank('c-1-cp312-abi3-manylinux_2_17_x86_64.whl')).toBeUndefined();
    expect(rank('c-1-py3-none-any.whl')).toBe(852);
    expect(rank('c-1-cp311-cp311-manylinux_2_17_aarch64.whl')).toBeUndefined();
  });
});

describe('index pages and core metadata', () => {
  const page = new URL('https://pypi.example/simple/jinja2/');
  it('reads PEP 691 JSON: hashes, metadata in every spelling, yanked, relative URLs', () => {
    const body = Buffer.from(
      JSON.stringify({
        meta: { 'api-version': '1.1' },
        name: 'jinja2',
        files: [
          {
            filename: 'a-1-py3-none-any.whl',
            url: '../../f/a-1-py3-none-any.whl',
            hashes: { sha256: 'A'.repeat(64) },
            'core-metadata': { sha256: 'b'.repeat(64) },
            size: 3,
          },
          {
            filename: 'a-2-py3-none-any.whl',
            url: 'https://cdn.example/a-2-py3-none-any.whl',
            hashes: { sha256: 'c'.repeat(64) },
            'dist-info-metadata': true,
            yanked: 'bad',
          },
          { filename: 'a-3.tar.gz', url: 'a-3.tar.gz', hashes: {} },
        ],
      }),
    );
    const p = parseJsonPage(body, page, 'https://pypi.example/simple/');
    expect(p.files).toEqual([
      expect.objectContaining({
        url: 'https://pypi.example/f/a-1-py3-none-any.whl',
        sha256: 'a'.repeat(64),
        coreMetadata: { sha256: 'b'.repeat(64) },
        yanked: false,
        size: 3,
      }),
      expect.objectContaining({
        url: 'https://cdn.example/a-2-py3-none-any.whl',
        coreMetadata: {},
        yanked: true,
      }),
    ]);
  });

  it('reads PEP 503 HTML with escaped attributes and #sha256 fragments', () => {
    const html = `<html><body><a href="../../f/a-1-py3-none-any.whl#sha256=${'d'.repeat(64)}" data-requires-python="&gt;=3.8" data-yanked="" data-core-metadata="sha256=${'e'.repeat(64)}">a-1-py3-none-any.whl</a>
      <a href="../../f/nohash.whl">nohash.whl</a></body></html>`;
    const p = parseHtmlPage(Buffer.from(html), page, 'https://pypi.example/simple/', 'jinja2');
    expect(p.files).toEqual([
      expect.objectContaining({
        filename: 'a-1-py3-none-any.whl',
        requiresPython: '>=3.8',
        yanked: true,
        coreMetadata: { sha256: 'e'.repeat(64) },
      }),
    ]);
  });

  it('finds METADATA inside a wheel and reads its fields', () => {
    const w = makeWheel({
      name: 'Ferry_Pkg',
      version: '1.0',
      requiresPython: '>=3.9',
      requiresDist: ['dep>=1', "x; extra == 'y'"],
      extras: ['y'],
    });
    const m = parseCoreMetadata(metadataFromWheel(w.bytes, w.filename), w.filename);
    expect(m).toEqual({
      name: 'Ferry_Pkg',
      version: '1.0',
      requiresPython: '>=3.9',
      requiresDist: ['dep>=1', "x; extra == 'y'"],
      providesExtra: ['y'],
    });
    expect(() => metadataFromWheel(Buffer.from('not a zip'), 'bad.whl')).toThrow(
      /bad\.whl is not a zip archive/,
    );
  });
});

describe('targets of a request', () => {
  it('crosses Python versions and architectures, refusing what the OS or the tag cannot run', () => {
    expect(
      targetsOf({ os: 'rocky-9', python: ['3.11', '3.12'], arch: ['x86_64', 'aarch64'] }, 'v2.31.0'),
    ).toHaveLength(4);
    expect(() => targetsOf({ os: 'debian-12', python: ['3.12'] }, 'v2.31.0')).toThrow(
      /debian-12 does not install Python 3\.12/,
    );
    expect(() => targetsOf({ python: ['3.10'], glibc: '2.35' }, 'v2.31.0')).toThrow(/needs Python ≥ 3\.11/);
  });
});

describe('hostile plans', () => {
  it('refuses a distribution file name that is not one path segment', () => {
    const set = (filename: string) => [
      {
        target: { python: '3.11', arch: 'x86_64' as const, glibc: '2.36' },
        indexes: ['https://pypi.example/simple/'],
        requirements: [],
        wheels: [
          { project: 'a', version: '1', filename, url: 'https://x/a', sha256: 'a'.repeat(64), why: 't' },
        ],
      },
    ];
    expect(wheelsOf(set('a-1-py3-none-any.whl'))).toHaveLength(1);
    expect(() => wheelsOf(set('../../manifest.json'))).toThrow(/not a file name/);
    expect(() => wheelsOf(set('sub/a-1-py3-none-any.whl'))).toThrow(/not a file name/);
  });
});
