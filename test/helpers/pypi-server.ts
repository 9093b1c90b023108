import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { ustar } from './ustar.js';
import { zipBytes } from './zip-writer.js';
import { closeServer } from './close-server.js';

/**
 * A loopback "PyPI" for tests: PEP 691 JSON and PEP 503 HTML project pages, PEP 658 `.metadata`
 * files, and the distributions themselves with HTTP Range, all from wheels and sdists made in the
 * test. Synthetic wheels are real zip files with a `.dist-info` (METADATA, WHEEL, RECORD), so
 * pip reads them as it reads PyPI's. Switches turn off JSON, metadata or Range to exercise each
 * fallback, and `tamper` serves other bytes than the index lists.
 */

export interface Dist {
  filename: string;
  bytes: Buffer;
  sha256: string;
  /** METADATA text (wheels) / PKG-INFO (sdists). */
  metadata: string;
  requiresPython?: string;
  yanked?: boolean | string;
}

export interface WheelSpec {
  name: string;
  version: string;
  /** `py3-none-any`, `cp311-abi3-manylinux_2_28_x86_64`, or compressed sets `cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64`. */
  tag?: string;
  requiresPython?: string;
  requiresDist?: string[];
  extras?: string[];
  yanked?: boolean | string;
  build?: string;
  /** Bytes of incompressible payload, for a wheel the size of the real one (benchmarks). */
  pad?: number | undefined;
}

const dashless = (n: string) => n.replace(/[-_.]+/g, '_');
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function metadataText(
  s: { name: string; version: string; requiresPython?: string; requiresDist?: string[]; extras?: string[] },
  v = '2.1',
): string {
  const lines = [
    `Metadata-Version: ${v}`,
    `Name: ${s.name}`,
    `Version: ${s.version}`,
    'Summary: made by a Ferry test',
  ];
  if (s.requiresPython) lines.push(`Requires-Python: ${s.requiresPython}`);
  for (const e of s.extras ?? []) lines.push(`Provides-Extra: ${e}`);
  for (const d of s.requiresDist ?? []) lines.push(`Requires-Dist: ${d}`);
  return lines.join('\n') + '\n\n';
}

/** A wheel pip accepts: a module, METADATA, WHEEL and a RECORD with hashes. */
export function makeWheel(s: WheelSpec): Dist {
  const tag = s.tag ?? 'py3-none-any';
  const base = `${dashless(s.name).toLowerCase()}-${s.version}`;
  const filename = `${base}${s.build ? `-${s.build}` : ''}-${tag}.whl`;
  const di = `${base}.dist-info`;
  const metadata = metadataText(s);
  const [py, abi, plat] = tag.split('-');
  const tags = py
    .split('.')
    .flatMap((a) => abi.split('.').flatMap((b) => plat.split('.').map((c) => `Tag: ${a}-${b}-${c}`)));
  const files: Array<{ name: string; data: string }> = [
    { name: `${dashless(s.name).toLowerCase()}/__init__.py`, data: `__version__ = "${s.version}"\n` },
    { name: `${di}/METADATA`, data: metadata },
    {
      name: `${di}/WHEEL`,
      data: `Wheel-Version: 1.0\nGenerator: ferry-test\nRoot-Is-Purelib: ${plat === 'any'}\n${tags.join('\n')}\n${s.build ? `Build: ${s.build}\n` : ''}`,
    },
  ];
  const record = files
    .map(
      (f) =>
        `${f.name},sha256=${createHash('sha256').update(f.data).digest('base64url')},${Buffer.byteLength(f.data)}`,
    )
    .concat(`${di}/RECORD,,`)
    .join('\n');
  const payload = s.pad
    ? [{ name: `${dashless(s.name).toLowerCase()}/payload.bin`, data: randomBytes(s.pad) }]
    : [];
  const bytes = zipBytes([
    ...files.map((f) => ({ name: f.name, data: Buffer.from(f.data) })),
    ...payload,
    { name: `${di}/RECORD`, data: Buffer.from(record + '\n') },
  ]);
  return {
    filename,
    bytes,
    sha256: sha(bytes),
    metadata,
    ...(s.requiresPython ? { requiresPython: s.requiresPython } : {}),
    ...(s.yanked ? { yanked: s.yanked } : {}),
  };
}

/** An sdist: `name-version/PKG-INFO` and a setup.py, gzipped ustar. */
export function makeSdist(s: Omit<WheelSpec, 'tag' | 'build'>): Dist {
  const top = `${dashless(s.name)}-${s.version}`;
  const metadata = metadataText(s, '2.2');
  const members = [
    { name: `${top}/PKG-INFO`, content: Buffer.from(metadata) },
    { name: `${top}/setup.py`, content: Buffer.from('from setuptools import setup\nsetup()\n') },
  ];
  const bytes = gzipSync(ustar(members));
  return {
    filename: `${top}.tar.gz`,
    bytes,
    sha256: sha(bytes),
    metadata,
    ...(s.requiresPython ? { requiresPython: s.requiresPython } : {}),
    ...(s.yanked ? { yanked: s.yanked } : {}),
  };
}

export interface PypiOptions {
  /** Serve PEP 691 JSON when asked (default true); false: HTML only, as a plain static index. */
  json?: boolean;
  /** Serve PEP 658 metadata and announce it (default true). */
  metadata?: boolean;
  /** Honour Range on distributions (default true). */
  range?: boolean;
}

export interface PypiServer {
  url: string;
  /** The simple index root: `${url}/simple/`. */
  index: string;
  dists: Map<string, Dist[]>;
  opts: PypiOptions;
  /** Filenames whose served bytes differ from what the index lists. */
  tamper: Set<string>;
  /** Paths that answer 503 this many more times before they work (retries). */
  flaky: Map<string, number>;
  requests: string[];
  close(): Promise<void>;
}

const norm = (n: string) => n.replace(/[-_.]+/g, '-').toLowerCase();
const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export async function startPypi(
  projects: Record<string, Dist[]>,
  opts: PypiOptions = {},
): Promise<PypiServer> {
  const dists = new Map<string, Dist[]>(Object.entries(projects).map(([k, v]) => [norm(k), v]));
  const byFile = new Map<string, Dist>();
  for (const list of dists.values()) for (const d of list) byFile.set(d.filename, d);
  const tamper = new Set<string>();
  const flaky = new Map<string, number>();
  const requests: string[] = [];
  const o = { json: true, metadata: true, range: true, ...opts };
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${u.pathname}${req.headers.range ? ` ${req.headers.range}` : ''}`);
    const send = (
      status: number,
      body: Buffer | string,
      type = 'text/plain',
      extra: Record<string, string> = {},
    ) => {
      const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
      res.writeHead(status, { 'content-type': type, 'content-length': String(b.length), ...extra });
      res.end(req.method === 'HEAD' ? undefined : b);
    };
    const left = flaky.get(u.pathname);
    if (left) {
      flaky.set(u.pathname, left - 1);
      return send(503, 'try again', 'text/plain', { 'retry-after': '0' });
    }
    if (u.pathname === '/simple/') {
      const links = [...dists.keys()].map((n) => `<a href="${n}/">${n}</a>`).join('\n');
      return send(200, `<!DOCTYPE html><html><body>\n${links}\n</body></html>\n`, 'text/html');
    }
    const page = /^\/simple\/([^/]+)\/$/.exec(u.pathname);
    if (page) {
      const list = dists.get(page[1]);
      if (!list) return send(404, 'not found');
      if (norm(page[1]) !== page[1])
        return send(301, '', 'text/plain', { location: `/simple/${norm(page[1])}/` });
      const wantJson =
        o.json && String(req.headers.accept ?? '').includes('application/vnd.pypi.simple.v1+json');
      if (wantJson) {
        const files = list.map((d) => ({
          filename: d.filename,
          url: `../../files/${d.filename}`,
          hashes: { sha256: d.sha256 },
          ...(d.requiresPython ? { 'requires-python': d.requiresPython } : {}),
          // The spec's current key; pip 23.0 trips over a dict in the older dist-info-metadata key.
          ...(o.metadata && d.filename.endsWith('.whl')
            ? { 'core-metadata': { sha256: sha(d.metadata) } }
            : {}),
          ...(d.yanked ? { yanked: d.yanked } : {}),
          size: d.bytes.length,
        }));
        return send(
          200,
          JSON.stringify({ meta: { 'api-version': '1.1' }, name: page[1], files, versions: [] }),
          'application/vnd.pypi.simple.v1+json',
        );
      }
      const links = list.map((d) => {
        const attrs = [`href="../../files/${esc(d.filename)}#sha256=${d.sha256}"`];
        if (d.requiresPython) attrs.push(`data-requires-python="${esc(d.requiresPython)}"`);
        if (d.yanked) attrs.push(`data-yanked="${esc(typeof d.yanked === 'string' ? d.yanked : '')}"`);
        if (o.metadata && d.filename.endsWith('.whl')) {
          const m = `sha256=${sha(d.metadata)}`;
          attrs.push(`data-dist-info-metadata="${m}"`, `data-core-metadata="${m}"`);
        }
        return `<a ${attrs.join(' ')}>${esc(d.filename)}</a><br/>`;
      });
      return send(
        200,
        `<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.0"></head><body>\n${links.join('\n')}\n</body></html>\n`,
        'text/html',
      );
    }
    const file = /^\/files\/(.+)$/.exec(u.pathname);
    if (file) {
      const name = decodeURIComponent(file[1]);
      if (name.endsWith('.metadata')) {
        const d = byFile.get(name.slice(0, -'.metadata'.length));
        if (!d || !o.metadata) return send(404, 'not found');
        return send(200, d.metadata, 'application/octet-stream');
      }
      const d = byFile.get(name);
      if (!d) return send(404, 'not found');
      let body = d.bytes;
      if (tamper.has(name)) {
        body = Buffer.from(body);
        body[Math.floor(body.length / 2)] ^= 0xff;
      }
      const range = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? ''));
      if (o.range && range) {
        let start: number;
        let end: number;
        if (range[1] === '') {
          start = Math.max(0, body.length - Number(range[2]));
          end = body.length - 1;
        } else {
          start = Number(range[1]);
          end = range[2] === '' ? body.length - 1 : Math.min(Number(range[2]), body.length - 1);
        }
        if (start >= body.length)
          return send(416, '', 'text/plain', { 'content-range': `bytes */${body.length}` });
        return send(206, body.subarray(start, end + 1), 'application/octet-stream', {
          'content-range': `bytes ${start}-${end}/${body.length}`,
          'accept-ranges': 'bytes',
        });
      }
      return send(200, body, 'application/octet-stream', o.range ? { 'accept-ranges': 'bytes' } : {});
    }
    send(404, 'not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    index: `${url}/simple/`,
    dists,
    opts: o,
    tamper,
    flaky,
    requests,
    close: () => closeServer(server),
  };
}

/** The same wheel for several tags (one file per tag set). */
function wheels(spec: Omit<WheelSpec, 'tag'>, tags: string[]): Dist[] {
  return tags.map((tag) => makeWheel({ ...spec, tag }));
}

const ml = (py: string, abi: string, levels: string[], archs = ['x86_64', 'aarch64']) =>
  archs.map((a) => `${py}-${abi}-${levels.map((l) => `${l}_${a}`).join('.')}`);

/**
 * Kubespray v2.31.0's requirements.txt pins and what they pull in, with the versions PyPI
 * publishes and the tag sets their real wheels carry (cryptography's abi3 manylinux_2_28 and
 * 2_34 builds, cffi/MarkupSafe/PyYAML's per-interpreter manylinux2014/2_17(/2_28) builds), plus
 * neighbouring releases so the specifiers have something to rule out.
 */
export function kubesprayV231Projects(opts: { realSizes?: boolean } = {}): Record<string, Dist[]> {
  // Approximate sizes of the real wheels (ansible's is ~51 MB), for the fetch benchmark.
  const pad = (mb: number) => (opts.realSizes ? Math.round(mb * 1e6) : undefined);
  const crypto = (version: string, size?: number) => [
    ...wheels(
      {
        name: 'cryptography',
        version,
        pad: size,
        requiresPython: '!=3.9.0,!=3.9.1,>=3.8',
        extras: ['ssh', 'test'],
        requiresDist: [
          "cffi>=1.14; python_full_version == '3.8.*' and platform_python_implementation != 'PyPy'",
          "cffi>=2.0.0; python_full_version >= '3.9' and platform_python_implementation != 'PyPy'",
          "typing-extensions>=4.13.2; python_full_version < '3.11'",
          "bcrypt>=3.1.5; extra == 'ssh'",
          "pytest>=7.4.0; extra == 'test'",
        ],
      },
      [
        ...ml('cp311', 'abi3', ['manylinux_2_28']),
        ...ml('cp311', 'abi3', ['manylinux_2_34']),
        ...ml('cp38', 'abi3', ['manylinux_2_28']),
        ...ml('cp38', 'abi3', ['manylinux_2_34']),
        ...ml('cp311', 'abi3', ['manylinux2014', 'manylinux_2_17']),
        'cp311-abi3-musllinux_1_2_x86_64',
        'cp314-cp314t-manylinux_2_34_x86_64',
        'cp311-abi3-win_amd64',
      ],
    ),
    makeSdist({ name: 'cryptography', version, requiresPython: '!=3.9.0,!=3.9.1,>=3.8' }),
  ];
  const perPython = (
    name: string,
    version: string,
    rp: string,
    levels: string[],
    deps: string[] = [],
    size?: number,
  ) =>
    ['cp310', 'cp311', 'cp312', 'cp313'].flatMap((cp) =>
      wheels({ name, version, requiresPython: rp, requiresDist: deps, pad: size }, ml(cp, cp, levels)),
    );
  return {
    ansible: [
      makeWheel({
        name: 'ansible',
        version: '11.12.0',
        requiresPython: '>=3.11',
        requiresDist: ['ansible-core~=2.18.11'],
      }),
      makeWheel({
        name: 'ansible',
        version: '11.13.0',
        pad: pad(51),
        requiresPython: '>=3.11',
        requiresDist: ['ansible-core~=2.18.12'],
      }),
      makeWheel({
        name: 'ansible',
        version: '12.2.0',
        requiresPython: '>=3.11',
        requiresDist: ['ansible-core~=2.19.4'],
      }),
    ],
    'ansible-core': ['2.18.11', '2.18.12', '2.19.4'].map((version) =>
      makeWheel({
        name: 'ansible-core',
        version,
        pad: version === '2.18.12' ? pad(2.2) : undefined,
        requiresPython: '>=3.11',
        requiresDist: [
          'jinja2>=3.0.0',
          'PyYAML>=5.1',
          'cryptography',
          'packaging',
          'resolvelib<1.1.0,>=0.5.3',
        ],
      }),
    ),
    cryptography: [...crypto('46.0.6'), ...crypto('46.0.7', pad(4.5))],
    cffi: [
      ...perPython(
        'cffi',
        '2.0.0',
        '>=3.9',
        ['manylinux2014', 'manylinux_2_17'],
        ["pycparser; implementation_name != 'PyPy'"],
        pad(0.2),
      ),
      makeSdist({ name: 'cffi', version: '2.0.0', requiresPython: '>=3.9' }),
    ],
    pycparser: [
      makeWheel({ name: 'pycparser', version: '2.22', requiresPython: '>=3.8' }),
      makeWheel({ name: 'pycparser', version: '2.23', requiresPython: '>=3.8', pad: pad(0.12) }),
    ],
    jinja2: [
      makeWheel({
        name: 'Jinja2',
        version: '3.1.5',
        requiresPython: '>=3.7',
        requiresDist: ['MarkupSafe>=2.0'],
      }),
      makeWheel({
        name: 'Jinja2',
        version: '3.1.6',
        pad: pad(0.13),
        requiresPython: '>=3.7',
        extras: ['i18n'],
        requiresDist: ['MarkupSafe>=2.0', "Babel>=2.7; extra == 'i18n'"],
      }),
    ],
    markupsafe: [
      ...perPython('MarkupSafe', '3.0.2', '>=3.9', ['manylinux_2_17', 'manylinux2014']),
      ...perPython('MarkupSafe', '3.0.3', '>=3.9', ['manylinux2014', 'manylinux_2_17', 'manylinux_2_28']),
    ],
    pyyaml: [
      ...perPython('PyYAML', '6.0.2', '>=3.8', ['manylinux_2_17', 'manylinux2014']),
      ...perPython(
        'PyYAML',
        '6.0.3',
        '>=3.8',
        ['manylinux2014', 'manylinux_2_17', 'manylinux_2_28'],
        [],
        pad(0.8),
      ),
    ],
    packaging: [
      makeWheel({ name: 'packaging', version: '24.2', requiresPython: '>=3.8' }),
      makeWheel({ name: 'packaging', version: '25.0', requiresPython: '>=3.8' }),
    ],
    resolvelib: [
      makeWheel({ name: 'resolvelib', version: '1.0.1', tag: 'py2.py3-none-any' }),
      makeWheel({ name: 'resolvelib', version: '1.2.0', requiresPython: '>=3.9' }),
    ],
    jmespath: [
      makeWheel({ name: 'jmespath', version: '1.0.1', requiresPython: '>=3.7' }),
      makeWheel({ name: 'jmespath', version: '1.1.0', requiresPython: '>=3.9' }),
    ],
    netaddr: [makeWheel({ name: 'netaddr', version: '1.3.0', requiresPython: '>=3.7', pad: pad(2.3) })],
    'typing-extensions': [
      makeWheel({ name: 'typing_extensions', version: '4.15.0', requiresPython: '>=3.9' }),
    ],
  };
}

/** Protocol cases: markers, Requires-Python, yanked, tag choices, an aarch64-only and an sdist-only project. */
export function protocolProjects(): Record<string, Dist[]> {
  return {
    'ferry-top': [
      makeWheel({
        name: 'ferry-top',
        version: '1.0',
        requiresDist: [
          'ferry-dep>=2.0',
          "ferry-x86only; platform_machine == 'x86_64'",
          "ferry-win; sys_platform == 'win32'",
          "ferry-old; python_version < '3.12'",
          'ferry-native',
        ],
      }),
    ],
    'ferry-dep': [
      makeWheel({ name: 'ferry-dep', version: '2.1' }),
      makeWheel({ name: 'ferry-dep', version: '2.2', yanked: 'broken upload' }),
      makeWheel({ name: 'ferry-dep', version: '3.0', requiresPython: '>=4' }),
    ],
    'ferry-x86only': [makeWheel({ name: 'ferry-x86only', version: '1.0' })],
    'ferry-win': [makeWheel({ name: 'ferry-win', version: '1.0' })],
    'ferry-old': [makeWheel({ name: 'ferry-old', version: '1.0' })],
    'ferry-native': wheels({ name: 'ferry-native', version: '1.0' }, [
      'cp311-cp311-manylinux_2_34_x86_64',
      'cp311-cp311-manylinux_2_28_x86_64',
      'cp311-abi3-manylinux_2_28_x86_64',
      'cp311-abi3-manylinux_2_28_aarch64',
      'cp311-cp311-manylinux_2_35_aarch64',
    ]),
    'ferry-armonly': wheels({ name: 'ferry-armonly', version: '1.0' }, ['py3-none-manylinux_2_17_aarch64']),
    'ferry-sdist': [makeSdist({ name: 'ferry-sdist', version: '0.5', requiresDist: ['ferry-dep'] })],
  };
}

/**
 * The same projects as a static PEP 503 tree (`simple/<project>/index.html` with `#sha256=`,
 * `data-requires-python`, `data-yanked`, `data-core-metadata`, and `files/<filename>` plus
 * `.metadata`), for any web server to serve (the benchmarks put nginx with limit_rate before it).
 */
export function writeStaticIndex(
  projects: Record<string, Dist[]>,
  docroot: string,
  /**
   * `data-dist-info-metadata` as well as PEP 714's `data-core-metadata` (default true). Debian
   * 12's pip 23.0.1 reads only the former, and then refuses a distribution whose metadata Name
   * is spelt otherwise than the requirement ("inconsistent Name: expected 'jinja2', but metadata
   * has 'Jinja2'"), so a run with that pip leaves it out.
   */
  opts: { distInfoMetadata?: boolean } = {},
): void {
  fs.mkdirSync(path.join(docroot, 'files'), { recursive: true });
  const names: string[] = [];
  for (const [name, list] of Object.entries(projects)) {
    const n = norm(name);
    names.push(n);
    const links = list.map((d) => {
      fs.writeFileSync(path.join(docroot, 'files', d.filename), d.bytes);
      const attrs = [`href="../../files/${esc(d.filename)}#sha256=${d.sha256}"`];
      if (d.requiresPython) attrs.push(`data-requires-python="${esc(d.requiresPython)}"`);
      if (d.yanked) attrs.push(`data-yanked="${esc(typeof d.yanked === 'string' ? d.yanked : '')}"`);
      if (d.filename.endsWith('.whl')) {
        fs.writeFileSync(path.join(docroot, 'files', d.filename + '.metadata'), d.metadata);
        const m = `sha256=${sha(d.metadata)}`;
        if (opts.distInfoMetadata !== false) attrs.push(`data-dist-info-metadata="${m}"`);
        attrs.push(`data-core-metadata="${m}"`);
      }
      return `<a ${attrs.join(' ')}>${esc(d.filename)}</a><br/>`;
    });
    fs.mkdirSync(path.join(docroot, 'simple', n), { recursive: true });
    fs.writeFileSync(
      path.join(docroot, 'simple', n, 'index.html'),
      `<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.0"></head><body>\n${links.join('\n')}\n</body></html>\n`,
    );
  }
  fs.writeFileSync(
    path.join(docroot, 'simple', 'index.html'),
    `<!DOCTYPE html><html><body>\n${names.map((n) => `<a href="${n}/">${n}</a>`).join('\n')}\n</body></html>\n`,
  );
}
