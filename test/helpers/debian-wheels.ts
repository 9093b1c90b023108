import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { zipBytes, type ZipEntry } from './zip-writer.js';

/**
 * Real, installable wheels for this machine's Python 3.11, built from the Python packages Debian 12
 * installs: their installed files (dpkg -L) plus a generated .dist-info. PyPI is out of reach
 * from CI, and synthetic wheels cannot prove that `ansible-playbook` runs from a venv pip filled;
 * these can. Requires-Dist is written by hand below (Debian patches some upstream bounds, e.g.
 * resolvelib 0.9 under ansible-core 2.14, so the packages' own metadata would not resolve).
 */

export interface DebianWheelSpec {
  /** The project name as upstream spells it. */
  name: string;
  /** Debian packages whose files make up the wheel. */
  packages: string[];
  requiresDist: string[];
  /** undefined drops the one the packages give (relabelled fixtures). */
  requiresPython?: string | undefined;
  /** A version to label the wheel with instead of the installed one (relabelled fixtures). */
  version?: string;
  /** Installed files to change on the way in, by path under dist-packages. */
  rewrite?: Record<string, (text: string) => string>;
}

export const DEBIAN_WHEELS: DebianWheelSpec[] = [
  {
    name: 'ansible-core',
    packages: ['ansible-core'],
    requiresDist: [
      'jinja2 (>=3.0.0)',
      'PyYAML (>=5.1)',
      'cryptography',
      'packaging',
      'resolvelib (<0.10.0,>=0.5.3)',
    ],
    requiresPython: '>=3.9',
  },
  {
    name: 'Jinja2',
    packages: ['python3-jinja2'],
    requiresDist: ['MarkupSafe (>=2.0)'],
    requiresPython: '>=3.7',
  },
  { name: 'MarkupSafe', packages: ['python3-markupsafe'], requiresDist: [], requiresPython: '>=3.7' },
  { name: 'PyYAML', packages: ['python3-yaml'], requiresDist: [], requiresPython: '>=3.6' },
  {
    name: 'cryptography',
    packages: ['python3-cryptography'],
    requiresDist: ['cffi (>=1.12)'],
    requiresPython: '>=3.6',
  },
  { name: 'cffi', packages: ['python3-cffi', 'python3-cffi-backend'], requiresDist: ['pycparser'] },
  // Debian unbundles ply from pycparser, so pycparser's wheel needs ply's.
  { name: 'pycparser', packages: ['python3-pycparser'], requiresDist: ['ply'] },
  { name: 'ply', packages: ['python3-ply'], requiresDist: [] },
  { name: 'packaging', packages: ['python3-packaging'], requiresDist: [], requiresPython: '>=3.7' },
  { name: 'resolvelib', packages: ['python3-resolvelib'], requiresDist: [] },
  { name: 'jmespath', packages: ['python3-jmespath'], requiresDist: [], requiresPython: '>=3.7' },
  { name: 'netaddr', packages: ['python3-netaddr'], requiresDist: [] },
];

/** The Debian packages the wheels are built from (all must be in .ci/run's apt line or its dependencies). */
export const DEBIAN_WHEEL_PACKAGES = [...new Set(DEBIAN_WHEELS.flatMap((w) => w.packages))];

export interface BuiltWheel {
  project: string; // PEP 503 normalized
  name: string;
  version: string;
  filename: string;
  file: string;
  sha256: string;
  size: number;
  /** The wheel's METADATA bytes, served as its PEP 658 `.metadata` file. */
  metadata: Buffer;
  requiresPython?: string;
  requiresDist: string[];
}

const GENERATOR = 'ferry-test-debian-wheels 1';
const SITE = '/usr/lib/python3/dist-packages/';

export const normalize = (n: string): string => n.replace(/[-_.]+/g, '-').toLowerCase();
/** The name as wheel filenames and .dist-info folders spell it (binary distribution format). */
const escaped = (n: string): string => normalize(n).replace(/-/g, '_');
const b64url = (d: Buffer): string =>
  createHash('sha256').update(d).digest('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function dpkgVersion(pkg: string): string | undefined {
  try {
    const out = execFileSync('dpkg-query', ['-W', '-f', '${Status}\t${Version}', pkg], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const [status, version] = out.split('\t');
    return status.endsWith(' installed') ? version : undefined;
  } catch {
    return undefined;
  }
}

/** The Debian packages of DEBIAN_WHEELS that are not installed here. */
export function missingDebianWheelPackages(): string[] {
  return DEBIAN_WHEEL_PACKAGES.filter((p) => !dpkgVersion(p));
}

/**
 * describe.skipIf helper: true when a package is missing on a developer machine; in CI a
 * missing package fails (they are all installed by .ci/run).
 */
export function lacksDebianWheels(): boolean {
  const missing = missingDebianWheelPackages();
  if (!fs.existsSync('/usr/bin/python3')) missing.push('python3 (/usr/bin/python3)');
  if (missing.length && process.env.CI === 'true')
    throw new Error(`CI must have ${missing.join(', ')} installed (see .ci/run)`);
  return missing.length > 0;
}

function cacheRoot(): string {
  const want = process.env.FERRY_TEST_CACHE ?? '/var/cache/ferry-test';
  try {
    fs.mkdirSync(want, { recursive: true });
    fs.accessSync(want, fs.constants.W_OK);
    return want;
  } catch {
    return path.join(os.tmpdir(), 'ferry-test-cache');
  }
}

/** The upstream version from the package's own .dist-info/.egg-info name, else from dpkg's. */
function upstreamVersion(spec: DebianWheelSpec, files: string[]): string {
  const want = escaped(spec.name);
  for (const f of files) {
    const m = /^([^/]+)-([^-/]+)\.(dist|egg)-info$/.exec(f.slice(SITE.length).split('/')[0] ?? '');
    if (m && escaped(m[1]) === want) return m[2];
  }
  const v = dpkgVersion(spec.packages[0])!;
  return v
    .replace(/^\d+:/, '')
    .replace(/-[^-]+$/, '')
    .replace(/\+(dfsg|ds)\d*$/, '');
}

/** One wheel from the spec's Debian packages, written to outDir (with its `.metadata` beside it). */
export function buildDebianWheel(spec: DebianWheelSpec, outDir: string): BuiltWheel {
  const listed = spec.packages.flatMap((p) =>
    execFileSync('dpkg', ['-L', p], { encoding: 'utf8' }).split('\n').filter(Boolean),
  );
  const version = spec.version ?? upstreamVersion(spec, listed);
  const dist = `${escaped(spec.name)}-${version}`;
  const entries: ZipEntry[] = [];
  let native = false;
  for (const f of [...new Set(listed)].sort()) {
    const st = fs.statSync(f, { throwIfNoEntry: false });
    if (!st?.isFile()) continue;
    if (f.startsWith(SITE)) {
      const rel = f.slice(SITE.length);
      // Debian's own metadata is replaced by the generated .dist-info.
      if (/^[^/]+\.(dist|egg)-info(\/|$)/.test(rel) || rel.includes('__pycache__/')) continue;
      if (rel.endsWith('.so')) native = true;
      const edit = spec.rewrite?.[rel];
      const data = fs.readFileSync(f);
      entries.push({ name: rel, data: edit ? Buffer.from(edit(data.toString('utf8'))) : data });
    } else if (f.startsWith('/usr/bin/')) {
      // Scripts go to .data/scripts with '#!python', which pip rewrites to the venv's interpreter.
      const text = fs.readFileSync(f, 'utf8').replace(/^#![^\n]*/, '#!python');
      entries.push({
        name: `${dist}.data/scripts/${path.basename(f)}`,
        data: Buffer.from(text),
        mode: 0o755,
      });
    }
  }
  const tag = native ? 'cp311-cp311-linux_x86_64' : 'py3-none-any';
  const metadata = Buffer.from(
    [
      'Metadata-Version: 2.1',
      `Name: ${spec.name}`,
      `Version: ${version}`,
      `Summary: ${spec.name} as Debian 12 installs it (${spec.packages.join(', ')}), rewrapped as a wheel for Ferry's tests`,
      ...(spec.requiresPython ? [`Requires-Python: ${spec.requiresPython}`] : []),
      ...spec.requiresDist.map((r) => `Requires-Dist: ${r}`),
      '',
      '',
    ].join('\n'),
  );
  return writeWheel(outDir, spec, version, tag, entries, metadata);
}

/**
 * An empty metapackage wheel named `ansible` pinning ansible-core the way the real ansible
 * release does (Kubespray's requirements.txt pins `ansible`, whose Requires-Dist names the
 * ansible-core). Debian 12's own `ansible` package is 7.3.0 with ansible-core ~= 2.14.3.
 */
export function buildAnsibleMeta(
  core: BuiltWheel,
  outDir: string,
  version = '7.3.0',
  requiresDist?: string,
): BuiltWheel {
  const [maj, min] = core.version.split('.');
  const spec: DebianWheelSpec = {
    name: 'ansible',
    packages: [],
    requiresDist: [requiresDist ?? `ansible-core (~=${maj}.${min}.3)`],
    requiresPython: '>=3.9',
  };
  const metadata = Buffer.from(
    `Metadata-Version: 2.1\nName: ansible\nVersion: ${version}\nSummary: Metapackage for Ferry's tests\nRequires-Python: >=3.9\nRequires-Dist: ${spec.requiresDist[0]}\n\n`,
  );
  return writeWheel(outDir, spec, version, 'py3-none-any', [], metadata);
}

/**
 * A wheel's last steps, the same for every wheel built here: METADATA and WHEEL after the files,
 * a RECORD hashing every entry (itself unhashed, as the format says), the zip written to
 * `outDir` with its PEP 658 `.metadata` beside it.
 */
function writeWheel(
  outDir: string,
  spec: DebianWheelSpec,
  version: string,
  tag: string,
  files: ZipEntry[],
  metadata: Buffer,
): BuiltWheel {
  const dist = `${escaped(spec.name)}-${version}`;
  const info = `${dist}.dist-info`;
  const entries: ZipEntry[] = [
    ...files,
    { name: `${info}/METADATA`, data: metadata },
    {
      name: `${info}/WHEEL`,
      data: Buffer.from(
        `Wheel-Version: 1.0\nGenerator: ${GENERATOR}\nRoot-Is-Purelib: ${tag === 'py3-none-any'}\nTag: ${tag}\n\n`,
      ),
    },
  ];
  const record =
    entries.map((e) => `${e.name},sha256=${b64url(e.data)},${e.data.length}`).join('\n') +
    `\n${info}/RECORD,,\n`;
  entries.push({ name: `${info}/RECORD`, data: Buffer.from(record) });
  const bytes = zipBytes(entries);
  const filename = `${dist}-${tag}.whl`;
  const file = path.join(outDir, filename);
  fs.writeFileSync(file, bytes);
  fs.writeFileSync(`${file}.metadata`, metadata);
  return {
    project: normalize(spec.name),
    name: spec.name,
    version,
    filename,
    file,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    metadata,
    ...(spec.requiresPython ? { requiresPython: spec.requiresPython } : {}),
    requiresDist: spec.requiresDist,
  };
}

let memo: Promise<BuiltWheel[]> | undefined;

/**
 * Build (or take from the cache) the wheels of DEBIAN_WHEELS plus the `ansible` metapackage.
 * Cached under /var/cache/ferry-test/debian-wheels/<key>, the key covering the installed
 * packages' versions and this generator, so an upgrade rebuilds them.
 */
export function debianWheels(): Promise<BuiltWheel[]> {
  memo ??= (async () => {
    const missing = missingDebianWheelPackages();
    if (missing.length) throw new Error(`Debian packages missing for the test wheels: ${missing.join(', ')}`);
    const key = createHash('sha256')
      .update(GENERATOR + '\n' + DEBIAN_WHEEL_PACKAGES.map((p) => `${p}=${dpkgVersion(p)}`).join('\n'))
      .update(JSON.stringify(DEBIAN_WHEELS))
      .digest('hex')
      .slice(0, 16);
    const dir = path.join(cacheRoot(), 'debian-wheels', key);
    const index = path.join(dir, 'wheels.json');
    const cached = await fsp.readFile(index, 'utf8').catch(() => undefined);
    if (cached) {
      const list = (JSON.parse(cached) as Array<Omit<BuiltWheel, 'metadata' | 'file'>>).map((w) => ({
        ...w,
        file: path.join(dir, w.filename),
        metadata: fs.readFileSync(path.join(dir, `${w.filename}.metadata`)),
      }));
      // A cache entry whose files changed is rebuilt, not trusted.
      if (list.every((w) => fs.statSync(w.file, { throwIfNoEntry: false })?.size === w.size)) return list;
    }
    const tmp = `${dir}.tmp-${process.pid}`;
    await fsp.rm(tmp, { recursive: true, force: true });
    await fsp.mkdir(tmp, { recursive: true });
    const built = DEBIAN_WHEELS.map((s) => buildDebianWheel(s, tmp));
    built.push(
      buildAnsibleMeta(
        built.find((w) => w.project === 'ansible-core')!,
        tmp,
      ),
    );
    await fsp.writeFile(
      path.join(tmp, 'wheels.json'),
      JSON.stringify(
        built.map(({ metadata: _m, file: _f, ...rest }) => rest),
        null,
        1,
      ),
    );
    await fsp.rm(dir, { recursive: true, force: true });
    await fsp.rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
      // Another worker won the race; its copy is as good.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      await fsp.rm(tmp, { recursive: true, force: true });
    });
    return built.map((w) => ({ ...w, file: path.join(dir, w.filename) }));
  })();
  return memo;
}
