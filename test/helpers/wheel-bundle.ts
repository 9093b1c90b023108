import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { BundleWriter, type ManifestSigner } from '../../src-main/core/bundle/index.js';
import { metadataPath, wheelPath } from '../../src-main/core/kinds/python/serve.js';
import type { BuiltWheel } from './debian-wheels.js';

const run = promisify(execFile);

/**
 * A signed bundle carrying wheels the way `ferry fetch` lays them out (docs/bundle-format.md):
 * `python/files/<filename>` and its PEP 658 `.metadata`, one `wheel` artifact each.
 */
export async function makeWheelBundle(
  dir: string,
  wheels: readonly BuiltWheel[],
  opts: {
    signer?: ManifestSigner | undefined;
    kubespray?: string;
    /** Kubespray's release tarball, carried as `ferry fetch` does (needs `kubespray`). */
    kubesprayTarball?: Buffer;
    withoutMetadata?: string[];
  } = {},
): Promise<void> {
  const w = await BundleWriter.open(dir);
  if (opts.kubespray) await w.setKubespray({ version: opts.kubespray, arches: ['amd64'] });
  if (opts.kubespray && opts.kubesprayTarball) {
    const rel = `kubespray/kubespray-${opts.kubespray}.tar.gz`;
    await w.addBytes(rel, opts.kubesprayTarball);
    await w.addArtifact({
      id: `kubespray:${opts.kubespray}`,
      kind: 'kubespray',
      version: opts.kubespray,
      paths: [rel],
    });
  }
  for (const wh of wheels) {
    await w.addFileFromPath(wh.file, wheelPath(wh.filename), { expectSha256: wh.sha256 });
    const paths = [wheelPath(wh.filename)];
    if (!opts.withoutMetadata?.includes(wh.project)) {
      await w.addBytes(metadataPath(wh.filename), wh.metadata);
      paths.push(metadataPath(wh.filename));
    }
    await w.addArtifact({
      id: `wheel:${wh.filename}`,
      kind: 'wheel',
      project: wh.project,
      version: wh.version,
      filename: wh.filename,
      sha256: wh.sha256,
      url: `https://files.pythonhosted.org/packages/${wh.filename}`,
      ...(wh.requiresPython ? { requiresPython: wh.requiresPython } : {}),
      paths,
    });
  }
  await w.finalize(opts.signer ? { signer: opts.signer } : {});
}

/** A fresh venv of Debian's Python (its pip is Debian's bundled 23.0.1 wheel). */
export async function freshVenv(dir: string, python = '/usr/bin/python3'): Promise<string> {
  await fsp.rm(dir, { recursive: true, force: true });
  await run(python, ['-m', 'venv', dir]);
  return path.join(dir, 'bin');
}

/** Environment for a pip that must not read the machine's config or reach any network but loopback. */
export function isolatedPipEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PIP_CONFIG_FILE: '/dev/null',
    PIP_NO_CACHE_DIR: '1',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_INPUT: '1',
    // A proxy from the environment would send loopback requests elsewhere.
    NO_PROXY: '*',
    ...extra,
  };
  return env;
}

/**
 * A pip wheel newer than Debian's 23.0.1, when this machine has one (FERRY_TEST_PIP_WHEEL, or the
 * one a pyenv Python bundles for ensurepip). Debian's own /usr/share/python-wheels pip is 23.0.1
 * too, and PyPI is out of reach, so CI may have none: then only 23.0.1 is tested.
 */
export function newerPipWheel(): string | undefined {
  const found: string[] = [];
  if (process.env.FERRY_TEST_PIP_WHEEL) found.push(process.env.FERRY_TEST_PIP_WHEEL);
  const roots = [
    '/usr/share/python-wheels',
    ...(process.env.HOME ? [path.join(process.env.HOME, '.pyenv', 'versions')] : []),
  ];
  for (const r of roots) {
    const walk = (d: string, depth: number) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true, encoding: 'utf8' }) ?? []) {
        const p = path.join(d, e.name);
        if (e.isFile() && /^pip-[\d.]+-py3-none-any\.whl$/.test(e.name)) found.push(p);
        else if (e.isDirectory() && depth > 0 && !e.isSymbolicLink()) walk(p, depth - 1);
      }
    };
    try {
      walk(r, r.includes('.pyenv') ? 5 : 0);
    } catch {
      // not there
    }
  }
  const ver = (f: string) => (/pip-([\d.]+)-/.exec(path.basename(f))?.[1] ?? '0').split('.').map(Number);
  const newer = found.filter((f) => {
    const [a = 0, b = 0, c = 0] = ver(f);
    return a > 23 || (a === 23 && (b > 0 || c > 1));
  });
  newer.sort((x, y) => {
    const [a, b] = [ver(x), ver(y)];
    for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (b[i] ?? 0) - (a[i] ?? 0);
    return 0;
  });
  return newer[0];
}
