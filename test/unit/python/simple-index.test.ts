import { describe, expect, it } from 'vitest';
import {
  groupByProject,
  negotiate,
  normalizeProject,
  parseWheelFilename,
  projectHtml,
  projectJson,
  requirementsTxt,
  type IndexFile,
} from '../../../src-main/core/kinds/python/simple-index.js';
import { pipConfig } from '../../../src-main/core/kinds/python/pip-config.js';

const h = (c: string) => c.repeat(64);
const f = (o: Partial<IndexFile> & Pick<IndexFile, 'project' | 'version' | 'filename'>): IndexFile => ({
  sha256: h('a'),
  size: 10,
  ...o,
});

describe('the simple index pages', () => {
  it('normalizes names as PEP 503 does', () => {
    expect(normalizeProject('Ansible_Core')).toBe('ansible-core');
    expect(normalizeProject('zope.interface')).toBe('zope-interface');
    expect(normalizeProject('A-_.-b')).toBe('a-b');
  });

  it('orders a project’s files newest first by PEP 440, not by string', () => {
    const g = groupByProject([
      f({ project: 'x', version: '1.9', filename: 'x-1.9-py3-none-any.whl' }),
      f({ project: 'x', version: '1.10', filename: 'x-1.10-py3-none-any.whl' }),
      f({ project: 'x', version: '1.10rc1', filename: 'x-1.10rc1-py3-none-any.whl' }),
      f({ project: 'x', version: '1.9', filename: 'x-1.9-py3-none-any.whl' }),
    ]);
    expect(g.get('x')!.map((x) => x.version)).toEqual(['1.10', '1.10rc1', '1.9']);
  });

  it('escapes Requires-Python in HTML and announces metadata under both names', () => {
    const html = projectHtml(
      'x',
      [
        f({
          project: 'x',
          version: '1',
          filename: 'x-1-py3-none-any.whl',
          requiresPython: '>=3.9,<4',
          metadataSha256: h('b'),
        }),
      ],
      (x) => `../../python/files/${x.filename}`,
    );
    expect(html).toContain(
      `<a href="../../python/files/x-1-py3-none-any.whl#sha256=${h('a')}" data-requires-python="&gt;=3.9,&lt;4" ` +
        `data-core-metadata="sha256=${h('b')}">x-1-py3-none-any.whl</a>`,
    );
    // pip 23.0.1 reads only data-dist-info-metadata and then compares Name byte for byte.
    expect(html).not.toContain('data-dist-info-metadata');
  });

  it('never writes dist-info-metadata in JSON (pip 23.0.1 crashes on its dict form)', () => {
    const doc = projectJson(
      'x',
      [
        f({ project: 'x', version: '2', filename: 'x-2-py3-none-any.whl', metadataSha256: h('b') }),
        f({ project: 'x', version: '1', filename: 'x-1-py3-none-any.whl' }),
      ],
      (x) => x.filename,
    ) as { files: Array<Record<string, unknown>>; versions: string[] };
    expect(JSON.stringify(doc)).not.toContain('dist-info-metadata');
    expect(doc.files[0]['core-metadata']).toEqual({ sha256: h('b') });
    expect(doc.files[1]['core-metadata']).toBe(false);
    expect(doc.versions.sort()).toEqual(['1', '2']);
  });

  it('negotiates PEP 691 by q-value, defaulting to HTML', () => {
    expect(
      negotiate(
        'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01',
      ),
    ).toBe('json');
    expect(negotiate('application/vnd.pypi.simple.v1+json;q=0.2, text/html')).toBe('html');
    expect(negotiate('application/vnd.pypi.simple.latest+json')).toBe('json');
    expect(negotiate(undefined)).toBe('html');
    expect(negotiate('*/*')).toBe('html');
    expect(negotiate('image/png')).toBe('html');
    expect(negotiate('text/html;q=0')).toBeUndefined();
  });

  it('pins one version per project with the hash of every file of that version', () => {
    const txt = requirementsTxt([
      f({ project: 'b', version: '1.0', filename: 'b-1.0-cp311-cp311-linux_x86_64.whl', sha256: h('1') }),
      f({ project: 'b', version: '1.0', filename: 'b-1.0-cp312-cp312-linux_x86_64.whl', sha256: h('2') }),
      f({ project: 'b', version: '0.9', filename: 'b-0.9-py3-none-any.whl', sha256: h('3') }),
      f({ project: 'a', version: '3', filename: 'a-3-py3-none-any.whl', sha256: h('4') }),
    ]);
    expect(txt.split('\n').slice(1).join('\n')).toBe(
      `a==3 \\\n    --hash=sha256:${h('4')}\nb==1.0 \\\n    --hash=sha256:${h('1')} \\\n    --hash=sha256:${h('2')}\n`,
    );
  });

  it('reads wheel filenames with compressed tag sets and build tags', () => {
    expect(
      parseWheelFilename('cryptography-46.0.7-cp311-abi3-manylinux_2_28_x86_64.manylinux_2_34_x86_64.whl'),
    ).toEqual({
      name: 'cryptography',
      version: '46.0.7',
      tags: [
        { py: 'cp311', abi: 'abi3', plat: 'manylinux_2_28_x86_64' },
        { py: 'cp311', abi: 'abi3', plat: 'manylinux_2_34_x86_64' },
      ],
    });
    expect(parseWheelFilename('x-1.0-1build-py2.py3-none-any.whl')?.tags.map((t) => t.py)).toEqual([
      'py2',
      'py3',
    ]);
    expect(parseWheelFilename('x-1.0.tar.gz')).toBeUndefined();
  });
});

describe('pip configuration for the deploy host', () => {
  it('trusts the host of a plain-http index (pip ignores it otherwise)', () => {
    const c = pipConfig({ indexUrl: 'http://10.0.0.5:8080/simple/' });
    expect(c.pipConf).toBe('[global]\nindex-url = http://10.0.0.5:8080/simple/\ntrusted-host = 10.0.0.5\n');
    expect(c.env).toEqual({ PIP_INDEX_URL: 'http://10.0.0.5:8080/simple/', PIP_TRUSTED_HOST: '10.0.0.5' });
    expect(c.requirementsUrl).toBe('http://10.0.0.5:8080/python/requirements.txt');
  });
  it('names the CA for https', () => {
    const c = pipConfig({ indexUrl: 'https://ferry.lan:8080/simple/', caFile: '/etc/ferry-ca.crt' });
    expect(c.env).toEqual({ PIP_INDEX_URL: 'https://ferry.lan:8080/simple/', PIP_CERT: '/etc/ferry-ca.crt' });
    expect(c.pipConf).toContain('cert = /etc/ferry-ca.crt');
  });
});
