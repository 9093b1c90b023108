import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { satisfies as pep440Satisfies } from '@renovatebot/pep440';
import { t as tarList } from 'tar';
import { FerryError } from '../../base/errors/index.js';
import { writeFileAtomic } from '../../base/fs/atomic.js';
import type { BundleSource } from '../../bundle/source.js';
import { locateFile, readLocated } from '../../serve/fileserver/location.js';
import { intactWheels, type LocatedWheel } from './serve.js';
import { parseWheelFilename, requirementsTxt } from './simple-index.js';
import { minimumPython } from './targets.js';

/**
 * The offline virtualenv on the deploy host: `python3 -m venv`, then pip installs the bundle's
 * wheels with `--no-index --require-hashes` from verified copies (the bytes are hashed again
 * while they are copied out of the bundle or store, so pip sees exactly what the manifest lists),
 * then `ansible-playbook --version` must report the ansible-core the bundle carries. No network:
 * pip gets no index at all. A missing venv module or a Python too old is named with the OS
 * package that provides a good one.
 */

export interface VenvOptions {
  sources: readonly BundleSource[];
  /** The venv folder (created, or reused when it already holds this exact set). */
  dir: string;
  /** The interpreter to build it with (default python3). */
  python?: string | undefined;
  /** Kubespray tag whose Python floor applies (default: the bundle's). */
  kubespray?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  signal?: AbortSignal | undefined;
  onLog?: ((line: string) => void) | undefined;
  /** /etc/os-release text, for the package hints (tests pass their own). */
  osRelease?: string;
}

export interface VenvResult {
  dir: string;
  /** Reused as it was: it already held exactly this set and its check passed. */
  reused: boolean;
  python: { path: string; version: string };
  pip: string;
  installed: Array<{ project: string; version: string; filename: string }>;
  /** Files of the bundle not installed: no tag this interpreter accepts, or its Requires-Python. */
  skipped: Array<{ filename: string; reason: string }>;
  requirementsFile: string;
  ansiblePlaybook?: string;
  /** ansible-core as the bundle carries it and as `ansible-playbook --version` reports it. */
  ansibleCore?: { expected: string; reported: string; requiredBy?: string };
  seconds: number;
}

const MARKER = '.ferry-venv.json';

interface Run {
  code: number;
  out: string;
  err: string;
}

function exec(
  cmd: string,
  args: string[],
  o: { env?: NodeJS.ProcessEnv | undefined; signal?: AbortSignal | undefined; cwd?: string | undefined } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: o.env ?? process.env,
      cwd: o.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: o.signal,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, out, err }));
  });
}

/** What an os-release file says, for the hints. */
export function parseOsRelease(text: string): { id: string; like: string[]; version: string } {
  const get = (k: string) => new RegExp(`^${k}=("?)([^"\\n]*)\\1$`, 'm').exec(text)?.[2] ?? '';
  return { id: get('ID'), like: get('ID_LIKE').split(/\s+/).filter(Boolean), version: get('VERSION_ID') };
}

/**
 * The OS package(s) that give a deploy host a Python ≥ `need` with venv and pip, for the OS in
 * os-release: the command to type, or a sentence when that OS has none.
 */
export function pythonPackageHint(
  osRelease: string,
  problem: 'no-venv' | 'too-old' | 'no-python',
  o: { have?: string; need: string },
): { packages: string[]; hint: string } {
  const os = parseOsRelease(osRelease);
  const family = [os.id, ...os.like];
  const need = o.need;
  if (family.includes('debian') || family.includes('ubuntu')) {
    if (problem === 'no-venv' && o.have) {
      // Debian's python3-venv is the default Python's; another version has its own package.
      const pkgs = [`python${o.have}-venv`];
      return {
        packages: pkgs,
        hint: `Install ${pkgs[0]}: apt install ${pkgs[0]} (python3-venv for the default python3).`,
      };
    }
    if (os.id === 'ubuntu' && os.version === '22.04' && problem !== 'no-venv') {
      const pkgs = [`python${need}`, `python${need}-venv`];
      return {
        packages: pkgs,
        hint: `Ubuntu 22.04's python3 is 3.10; install ${pkgs.join(' ')} (apt install ${pkgs.join(' ')}) and pass --python python${need}.`,
      };
    }
    const pkgs = ['python3', 'python3-venv'];
    return {
      packages: pkgs,
      hint:
        problem === 'too-old'
          ? `This ${os.id || 'Debian-family'} ${os.version} has Python ${o.have}; Kubespray needs ${need}. Use a deploy host with Python ${need} or newer (Debian 12, Ubuntu 24.04), or install python${need} and python${need}-venv and pass --python python${need}.`
          : `Install them: apt install ${pkgs.join(' ')}.`,
    };
  }
  if (family.some((f) => ['rhel', 'fedora', 'centos', 'rocky', 'almalinux'].includes(f))) {
    // EL9's python3 is 3.9; 3.11 and 3.12 come from AppStream with venv built in, pip separately.
    const v = problem === 'no-venv' && o.have && o.have !== '3.9' ? o.have : need;
    const pkgs = [`python${v}`, `python${v}-pip`];
    return {
      packages: pkgs,
      hint: `Install them: dnf install ${pkgs.join(' ')}${problem === 'no-venv' && v === o.have ? '' : `, then pass --python python${v}`}.`,
    };
  }
  return {
    packages: [],
    hint: `Install Python ${need} or newer with its venv module and pip from your OS, and pass --python PATH.`,
  };
}

/** The interpreter's version and whether venv and ensurepip are there (a Debian python3 without python3-venv has neither ensurepip). */
async function probe(
  python: string,
  env: NodeJS.ProcessEnv | undefined,
): Promise<{ version: string; executable: string; venv: boolean }> {
  // Imported, not just found: Debian's python3 without python3-venv lacks ensurepip entirely.
  const code =
    'import sys, json\n' +
    'def has(m):\n    try:\n        __import__(m)\n        return True\n    except Exception:\n        return False\n' +
    'print(json.dumps({"version": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable,' +
    ' "venv": has("venv") and has("ensurepip")}))';
  const r = await exec(python, ['-c', code], { env }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!r) throw new FerryError('NOT_FOUND', `There is no ${python} on this machine.`, { artifact: python });
  if (r.code !== 0)
    throw new FerryError('CONFIG', `${python} does not run: ${r.err.trim().split('\n').pop()}`, {
      artifact: python,
    });
  return JSON.parse(r.out.trim().split('\n').pop()!);
}

const cmpVersion = (a: string, b: string): number => {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
};

/** Copy one verified file out of the bundle or store, hashing it: bytes changed since verification are refused. */
async function copyVerified(w: LocatedWheel, dest: string): Promise<void> {
  const rel = w.artifact.paths.find((p) => p.endsWith(`/${w.filename}`))!;
  const loc = locateFile(w.source, rel);
  if (!loc)
    throw new FerryError('INTEGRITY', `${w.filename} is not in the verified bundle.`, {
      artifact: w.artifact.id,
    });
  const hash = createHash('sha256');
  await pipeline(
    readLocated(loc),
    new Transform({
      transform(chunk: Buffer, _e, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
    }),
    fs.createWriteStream(dest),
  );
  const got = hash.digest('hex');
  if (got !== w.sha256)
    throw new FerryError(
      'INTEGRITY',
      `${w.filename} changed since it was verified (sha256 ${got}, the bundle lists ${w.sha256}).`,
      {
        artifact: w.artifact.id,
        hint: 'Run ferry verify on the bundle, or import it again.',
      },
    );
}

/**
 * Kubespray's own `ansible==X` pin, from requirements.txt in the bundle's release tarball (the
 * bytes verified at import or serve), or undefined when the bundle carries no release or the
 * release has no such line. Read whole in memory: the file is a few hundred bytes.
 */
export async function kubesprayAnsiblePin(
  sources: readonly BundleSource[],
): Promise<{ tag: string; version: string } | undefined> {
  for (const src of sources) {
    const art = src.manifest.artifacts.find((a) => a.kind === 'kubespray');
    const loc = art ? locateFile(src, art.paths[0]) : undefined;
    if (!art || art.kind !== 'kubespray' || !loc) continue;
    let text: string | undefined;
    await pipeline(
      readLocated(loc),
      tarList({
        // GitHub's release tarball has one top folder: kubespray-<version>/requirements.txt.
        filter: (p) => /^[^/]+\/requirements\.txt$/.test(p),
        onReadEntry: (e) => {
          const chunks: Buffer[] = [];
          e.on('data', (c: Buffer) => chunks.push(c));
          e.on('end', () => (text = Buffer.concat(chunks).toString('utf8')));
        },
      }),
    ).catch(() => undefined);
    const v = text ? /^ansible==(\S+)\s*$/m.exec(text)?.[1] : undefined;
    if (v) return { tag: art.version, version: v };
  }
  return undefined;
}

/** The bundle's `ansible` wheel must be the one Kubespray's requirements.txt pins. */
async function checkAnsiblePin(
  wheels: readonly LocatedWheel[],
): Promise<{ tag: string; version: string } | undefined> {
  const ansible = wheels.find((w) => w.project === 'ansible');
  const pin = await kubesprayAnsiblePin([...new Set(wheels.map((w) => w.source))]);
  if (pin && ansible && ansible.version !== pin.version)
    throw new FerryError(
      'INTEGRITY',
      `Kubespray ${pin.tag}'s requirements.txt pins ansible==${pin.version}, but the bundle carries ansible ${ansible.version}.`,
      {
        artifact: ansible.artifact.id,
        hint: 'The wheels were resolved for another Kubespray release; fetch the bundle again.',
      },
    );
  return pin;
}

/** Requires-Dist lines for one project in a core-metadata file. */
function requiresDistFor(metadata: string, project: string): string | undefined {
  for (const m of metadata.matchAll(/^Requires-Dist:\s*(.+)$/gim)) {
    const spec = m[1].trim();
    const name = /^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(spec)?.[1];
    if (name && name.replace(/[-_.]+/g, '-').toLowerCase() === project && !/;\s*extra\s*==/.test(spec))
      return spec;
  }
  return undefined;
}

export async function createVenv(o: VenvOptions): Promise<VenvResult> {
  const t0 = Date.now();
  const log = o.onLog ?? (() => {});
  const dir = path.resolve(o.dir);
  const python = o.python ?? 'python3';
  const osRelease = o.osRelease ?? (await fsp.readFile('/etc/os-release', 'utf8').catch(() => ''));
  const tag = o.kubespray ?? o.sources.find((s) => s.manifest.kubespray)?.manifest.kubespray?.version;
  const need = tag ? minimumPython(tag) : '3.9';
  const wheels = intactWheels(o.sources);
  if (!wheels.length)
    throw new FerryError('NOT_FOUND', 'The bundle carries no Python wheels to build a virtualenv from.', {
      hint: 'Fetch the bundle with the deploy host’s Python packages (Kubespray’s requirements.txt).',
    });

  let py;
  try {
    py = await probe(python, o.env);
  } catch (err) {
    if (err instanceof FerryError && err.code === 'NOT_FOUND') {
      const h = pythonPackageHint(osRelease, 'no-python', { need });
      throw new FerryError(
        'NOT_FOUND',
        `${err.message} Ferry needs Python ${need} or newer to make the virtualenv.`,
        {
          artifact: python,
          hint: withBundleNote(h, o.sources),
        },
      );
    }
    throw err;
  }
  const short = py.version.split('.').slice(0, 2).join('.');
  if (cmpVersion(py.version, need) < 0) {
    const h = pythonPackageHint(osRelease, 'too-old', { have: short, need });
    throw new FerryError(
      'UNSUPPORTED',
      `${python} is Python ${py.version}; Kubespray ${tag ?? ''} needs Python ${need} or newer.`.replace(
        '  ',
        ' ',
      ),
      {
        artifact: python,
        hint: withBundleNote(h, o.sources),
        details: { packages: h.packages },
      },
    );
  }
  if (!py.venv) {
    const h = pythonPackageHint(osRelease, 'no-venv', { have: short, need });
    throw new FerryError(
      'NOT_FOUND',
      `${python} (Python ${py.version}) has no venv/ensurepip module, so it cannot make a virtualenv.`,
      {
        artifact: python,
        hint: withBundleNote(h, o.sources),
        details: { packages: h.packages },
      },
    );
  }

  // Wheels resolved for another Kubespray release are refused before anything is installed.
  await checkAnsiblePin(wheels);
  // The set: per project the wheels this interpreter can install, found from its own tags.
  const digest = createHash('sha256')
    .update([...wheels.map((w) => w.sha256)].sort().join('\n') + `\n${py.executable} ${py.version}`)
    .digest('hex');
  const marker = path.join(dir, MARKER);
  const prior = await fsp
    .readFile(marker, 'utf8')
    .then((t) => JSON.parse(t) as VenvResult & { digest: string })
    .catch(() => undefined);
  if (prior?.digest === digest) {
    const check = await checkAnsible(dir, wheels, o).catch(() => undefined);
    if (check === null || (check && check.reported === check.expected)) {
      log(`Reusing ${dir}: it holds this bundle's wheels.`);
      return {
        ...prior,
        reused: true,
        ...(check ? { ansibleCore: check } : {}),
        seconds: (Date.now() - t0) / 1000,
      };
    }
  }
  // Only a folder Ferry made (or an empty/absent one) is replaced.
  const existing = await fsp.readdir(dir).catch(() => undefined);
  if (existing && existing.length && !existing.includes(MARKER) && !prior)
    throw new FerryError(
      'USAGE',
      `${dir} exists and is not a virtualenv Ferry made; Ferry does not replace it.`,
      {
        artifact: dir,
        hint: 'Name another folder with --dir, or remove this one.',
      },
    );
  await fsp.rm(dir, { recursive: true, force: true });
  log(`Creating the virtualenv ${dir} with ${python} (Python ${py.version})`);
  const mk = await exec(python, ['-m', 'venv', dir], { env: o.env, signal: o.signal });
  if (mk.code !== 0) {
    const h = pythonPackageHint(osRelease, 'no-venv', { have: short, need });
    throw new FerryError(
      'CONFIG',
      `${python} -m venv failed: ${(mk.err || mk.out).trim().split('\n').slice(-3).join(' ')}`,
      {
        artifact: dir,
        hint: withBundleNote(h, o.sources),
      },
    );
  }
  const vpy = path.join(dir, 'bin', 'python');
  const pipEnv: NodeJS.ProcessEnv = {
    ...(o.env ?? process.env),
    PIP_CONFIG_FILE: '/dev/null',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_INPUT: '1',
    PIP_NO_CACHE_DIR: '1',
  };
  delete pipEnv.PIP_INDEX_URL;
  delete pipEnv.PIP_EXTRA_INDEX_URL;
  delete pipEnv.PIP_FIND_LINKS;
  const tagsRun = await exec(
    vpy,
    ['-c', 'from pip._vendor.packaging.tags import sys_tags\nfor t in sys_tags(): print(t)'],
    { env: pipEnv },
  );
  const pip = (await exec(vpy, ['-m', 'pip', '--version'], { env: pipEnv })).out.split(' ')[1] ?? '?';
  const tags = new Set(tagsRun.out.split('\n').filter(Boolean));
  const skipped: VenvResult['skipped'] = [];
  const keep = wheels.filter((w) => {
    const p = parseWheelFilename(w.filename);
    if (!p)
      return skipped.push({ filename: w.filename, reason: 'not a wheel (an sdist needs a build)' }) && false;
    if (!p.tags.some((t) => tags.has(`${t.py}-${t.abi}-${t.plat}`)))
      return (
        skipped.push({ filename: w.filename, reason: `no tag Python ${short} on this machine accepts` }) &&
        false
      );
    if (w.requiresPython && !pep440Satisfies(py.version, w.requiresPython))
      return skipped.push({ filename: w.filename, reason: `Requires-Python ${w.requiresPython}` }) && false;
    return true;
  });
  const stage = path.join(dir, '.ferry-wheels');
  await fsp.mkdir(stage, { recursive: true });
  for (const w of keep) await copyVerified(w, path.join(stage, w.filename));
  const requirementsFile = path.join(dir, 'ferry-requirements.txt');
  await writeFileAtomic(
    requirementsFile,
    requirementsTxt(keep, { header: `Written by ferry venv for Python ${py.version}` }),
  );
  log(
    `Installing ${new Set(keep.map((w) => w.project)).size} projects with pip ${pip} (--no-index --require-hashes)`,
  );
  const inst = await exec(
    vpy,
    [
      '-m',
      'pip',
      'install',
      '--no-index',
      '--find-links',
      stage,
      '--require-hashes',
      '--only-binary=:all:',
      '-r',
      requirementsFile,
    ],
    { env: pipEnv, signal: o.signal },
  );
  await fsp.rm(stage, { recursive: true, force: true });
  if (inst.code !== 0)
    throw new FerryError(
      'INTEGRITY',
      `pip could not install the bundle's wheels into ${dir}:\n${(inst.err || inst.out).trim().split('\n').slice(-8).join('\n')}`,
      {
        artifact: dir,
        hint: 'A hash mismatch means the bundle is not what it was when fetched; a missing dependency means the bundle was fetched for another Python or platform.',
      },
    );
  // Installed versions come from the requirements written: one version per project.
  const versions = new Map<string, string>();
  for (const line of (await fsp.readFile(requirementsFile, 'utf8')).split('\n')) {
    const m = /^([a-z0-9-]+)==(\S+)/.exec(line);
    if (m) versions.set(m[1], m[2]);
  }
  const installed = keep
    .filter((w) => versions.get(w.project) === w.version)
    .map((w) => ({ project: w.project, version: w.version, filename: w.filename }));
  const check = await checkAnsible(dir, keep, o);
  if (check && check.reported !== check.expected)
    throw new FerryError(
      'INTEGRITY',
      `ansible-playbook in ${dir} reports ansible-core ${check.reported}, but the bundle carries ${check.expected}.`,
      {
        artifact: dir,
        hint: 'Remove the folder and run ferry venv again.',
      },
    );
  const result: VenvResult = {
    dir,
    reused: false,
    python: { path: py.executable, version: py.version },
    pip,
    installed,
    skipped,
    requirementsFile,
    ...(check ? { ansiblePlaybook: path.join(dir, 'bin', 'ansible-playbook'), ansibleCore: check } : {}),
    seconds: (Date.now() - t0) / 1000,
  };
  await writeFileAtomic(marker, JSON.stringify({ ...result, digest }, null, 2) + '\n');
  return result;
}

/**
 * ansible-playbook --version against the ansible-core the bundle carries; when the bundle also
 * carries `ansible` (what Kubespray's requirements.txt pins), the carried ansible-core must meet
 * its Requires-Dist. null when the bundle carries no ansible-core.
 */
async function checkAnsible(
  dir: string,
  wheels: readonly LocatedWheel[],
  o: Pick<VenvOptions, 'env'>,
): Promise<VenvResult['ansibleCore'] | null> {
  const core = wheels.find((w) => w.project === 'ansible-core');
  if (!core) return null;
  let requiredBy: string | undefined;
  const ansible = wheels.find((w) => w.project === 'ansible');
  const pin = await checkAnsiblePin(wheels);
  if (ansible) {
    const rel = ansible.artifact.paths.find((p) => p.endsWith('.metadata'));
    const loc = rel ? locateFile(ansible.source, rel) : undefined;
    const text = loc ? await fsp.readFile(loc.file, 'utf8').catch(() => '') : '';
    const spec = requiresDistFor(text, 'ansible-core');
    if (spec) {
      const range = spec
        .replace(/^[A-Za-z0-9._-]+\s*/, '')
        .replace(/^\((.*)\)$/, '$1')
        .split(';')[0]
        .trim();
      requiredBy = `${pin ? `Kubespray ${pin.tag}: ansible==${pin.version} → ` : `ansible ${ansible.version}: `}ansible-core ${range}`;
      if (range && !pep440Satisfies(core.version, range))
        throw new FerryError(
          'INTEGRITY',
          `The bundle carries ansible-core ${core.version}, but ansible ${ansible.version} needs ansible-core ${range}.`,
          {
            artifact: core.artifact.id,
            hint: 'The bundle was resolved inconsistently; fetch it again.',
          },
        );
    }
  }
  // Run from the venv folder, so no ansible.cfg of the caller's working folder is read.
  const r = await exec(path.join(dir, 'bin', 'ansible-playbook'), ['--version'], { env: o.env, cwd: dir });
  const reported = /\[core ([^\]]+)\]/.exec(r.out)?.[1] ?? /ansible-playbook ([\d.]+)/.exec(r.out)?.[1];
  if (r.code !== 0 || !reported)
    throw new FerryError(
      'INTEGRITY',
      `ansible-playbook in ${dir} does not run: ${(r.err || r.out).trim().split('\n').slice(-3).join(' ')}`,
      {
        artifact: dir,
      },
    );
  return { expected: core.version, reported, ...(requiredBy ? { requiredBy } : {}) };
}

/** With the OS-packages work, the package may be in the bundle's own apt/rpm repository: say so. */
export function withBundleNote(
  h: { packages: string[]; hint: string },
  sources: readonly BundleSource[],
): string {
  const carried = h.packages.filter((p) =>
    sources.some((s) =>
      s.manifest.artifacts.some((a) => (a.kind === 'deb' || a.kind === 'rpm') && a.package === p),
    ),
  );
  return carried.length
    ? `${h.hint} ${carried.join(', ')} ${carried.length > 1 ? 'are' : 'is'} in this bundle's package repository (ferry serve; ferry vars names it).`
    : h.hint;
}
