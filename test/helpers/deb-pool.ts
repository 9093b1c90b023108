import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DebPackage } from '../../src-main/core/kinds/deb/packages.js';
import { resolve, Universe } from '../../src-main/core/kinds/deb/resolve.js';
import type { ResolvedDebSet } from '../../src-main/core/kinds/deb/set.js';
import { bookwormRecords } from './apt-oracle.js';
import { archiveDir, BOOKWORM_SUITES } from './deb-archive.js';

/**
 * Real .deb files for the loopback bookworm archive: each resolved package's file is put under
 * the cached archive at its `Filename:` path (debian-archive/<root>/pool/…), downloaded once from
 * deb.debian.org and checked against the sha256 of its signed stanza, so the cache only ever holds
 * upstream's exact bytes. With the indexes deb-archive.ts caches, that folder is a real archive
 * that a loopback HTTP server can serve as `https://deb.debian.org/<root>`'s mirror.
 */

/** The archive root ('debian', 'debian-security') a record came from, by its origin suite. */
export function rootOf(p: DebPackage): string {
  const suite = p.origin?.split(' ')[1];
  const s = BOOKWORM_SUITES.find((x) => x.suite === suite);
  if (!s) throw new Error(`${p.package}: unknown origin ${p.origin}`);
  return s.root;
}

const sha256File = (f: string): string => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

/** The cached file of a record, downloading it first if the cache lacks it. */
export function ensureDeb(p: DebPackage): string {
  const root = rootOf(p);
  const file = path.join(archiveDir, root, ...p.filename.split('/'));
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  execFileSync('curl', ['-fsS', '--retry', '3', '-o', tmp, `http://deb.debian.org/${root}/${p.filename}`]);
  const got = sha256File(tmp);
  if (got !== p.sha256) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`${p.filename}: sha256 ${got}, the stanza says ${p.sha256}`);
  }
  fs.renameSync(tmp, file);
  return file;
}

/** Why real .debs cannot be had here, or undefined: every file cached, or the archive reachable. */
export function poolUnavailable(pkgs: DebPackage[]): string | undefined {
  const missing = pkgs.filter((p) => !fs.existsSync(path.join(archiveDir, rootOf(p), p.filename)));
  if (missing.length === 0) return undefined;
  try {
    execFileSync('curl', ['-fsS', '-o', '/dev/null', '-m', '10', 'http://deb.debian.org/debian/'], {
      stdio: 'ignore',
    });
    return undefined;
  } catch {
    return `${missing.length} .deb files not cached under ${archiveDir} and deb.debian.org unreachable`;
  }
}

/** The small real set the repository tests carry: four Kubespray roots and their closure. */
export const SMALL_ROOTS = ['conntrack', 'socat', 'ipvsadm', 'ebtables'];

/**
 * A ResolvedDebSet as the plan side makes it (the resolver over the real, verified bookworm
 * indexes), with the cached archive's files in place for it.
 */
export async function bookwormSet(
  roots: string[] = SMALL_ROOTS,
  opts: { baseline?: boolean; os?: string } = {},
): Promise<{ set: ResolvedDebSet; records: DebPackage[] }> {
  const u = new Universe(await bookwormRecords(), 'amd64');
  const r = resolve(u, roots, { arch: 'amd64', baseline: opts.baseline ?? true });
  if (r.errors.length) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const set: ResolvedDebSet = {
    os: opts.os ?? 'debian-12',
    arches: ['amd64'],
    sources: BOOKWORM_SUITES.map((s) => ({
      uri: `https://deb.debian.org/${s.root}`,
      suite: s.suite,
      components: ['main'],
    })),
    roots: roots.map((name) => ({ name, why: 'test root' })),
    packages: r.packages.map((p) => ({
      package: p.package,
      version: p.version,
      arch: p.architecture,
      uri: `https://deb.debian.org/${rootOf(p)}`,
      filename: p.filename,
      sha256: p.sha256,
      size: p.size,
      why: r.reasons.get(p.package) ?? '',
    })),
  };
  return { set, records: r.packages };
}
