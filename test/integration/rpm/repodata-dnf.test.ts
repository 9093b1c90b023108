import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRepoKey, repoSigner, type RepoSigner } from '../../../src-main/core/bundle/keys/repo-key.js';
import { readRpmHeader } from '../../../src-main/core/kinds/rpm/header.js';
import { buildRpmRepodata, type RpmRepodataEntry } from '../../../src-main/core/kinds/rpm/repodata.js';
import {
  ODD_SPECS,
  buildRpmUpstream,
  dnfDownload,
  DEFAULT_DNF_SET,
  DEFAULT_ROOTS,
  dnfRepoclosure,
  lacksRpmTools,
  realUnresolved,
  type DnfRepo,
  type UpstreamArch,
} from '../../helpers/rpm-upstream.js';
import { serveDir, type StaticServer } from '../../helpers/static-server.js';
import { lacks } from '../../helpers/tools.js';

/**
 * Repodata written by Ferry (repodata.ts, from header.ts's reading of the .rpm files), checked
 * by the real clients: dnf resolves and installs from it with gpgcheck=1 (the upstream key, on
 * the untouched packages) and repo_gpgcheck=1 (Ferry's repository key, on repomd.xml.asc),
 * `dnf repoclosure` finds it closed, the module's stream survives (carried modules.yaml, or
 * module_hotfixes=1 on the carried subset), and createrepo_c over the same files writes the same
 * primary, filelists and other.
 */

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Copies .rpm files into a repository folder as Ferry lays it out, and writes Ferry's repodata. */
async function ferryRepo(
  dir: string,
  rpms: string[],
  signer: RepoSigner,
  modules?: string,
): Promise<RpmRepodataEntry[]> {
  const entries: RpmRepodataEntry[] = [];
  for (const f of rpms) {
    const base = path.basename(f);
    const location = `Packages/${base[0]}/${base}`;
    const dest = path.join(dir, location);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(f, dest);
    const bytes = fs.readFileSync(dest);
    entries.push({
      location,
      sha256: sha256(bytes),
      size: bytes.length,
      mtime: Math.floor(fs.statSync(dest).mtimeMs / 1000),
      header: await readRpmHeader(dest),
    });
  }
  const files = await buildRpmRepodata(entries, {
    signer,
    ...(modules ? { modules } : {}),
    revision: '42',
    timestamp: 1704067200,
  });
  for (const x of files) {
    fs.mkdirSync(path.dirname(path.join(dir, x.path)), { recursive: true });
    fs.writeFileSync(path.join(dir, x.path), x.data);
  }
  return entries;
}

function upstreamModules(root: string, arch: UpstreamArch): string {
  const rd = path.join(root, '9', 'AppStream', arch, 'os', 'repodata');
  const f = fs.readdirSync(rd).find((n) => n.endsWith('-modules.yaml.xz'))!;
  return execFileSync('xz', ['-dc', path.join(rd, f)], { encoding: 'utf8' });
}

function upstreamRpms(root: string, arch: UpstreamArch): string[] {
  return ['BaseOS', 'AppStream'].flatMap((r) => {
    const pk = path.join(root, '9', r, arch, 'os', 'Packages');
    return fs
      .readdirSync(pk)
      .flatMap((l) => fs.readdirSync(path.join(pk, l)).map((f) => path.join(pk, l, f)));
  });
}

/** One document's <package> records keyed by name-version-release.arch, with volatile parts dropped. */
function records(xml: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of xml.matchAll(/<package[ >][\s\S]*?<\/package>/g)) {
    const rec = m[0].replace(/<time file="\d+"/, '<time file="*"').replace(/\n\s*/g, '\n');
    const name = /<name>([^<]+)<\/name>|name="([^"]+)"/.exec(rec)!;
    const arch = /<arch>([^<]+)<\/arch>|arch="([^"]+)"/.exec(rec)!;
    const v = /<version epoch="(\d+)" ver="([^"]*)" rel="([^"]*)"/.exec(rec)!;
    out.set(`${name[1] ?? name[2]}-${v[1]}:${v[2]}-${v[3]}.${arch[1] ?? arch[2]}`, rec);
  }
  return out;
}

function repodataXml(dir: string, type: string): string {
  const repomd = fs.readFileSync(path.join(dir, 'repodata', 'repomd.xml'), 'utf8');
  const href = new RegExp(`<data type="${type}">[\\s\\S]*?<location href="([^"]+)"`).exec(repomd)![1];
  return gunzipSync(fs.readFileSync(path.join(dir, href))).toString('utf8');
}

describe.skipIf(lacksRpmTools() || lacks('xz'))('Ferry’s RPM repodata against dnf and createrepo_c', () => {
  let tmp: string;
  let upstreamRoot: string;
  let upstreamKey: string;
  let signer: RepoSigner;
  let ferryKeyFile: string;
  let server: StaticServer;

  const repos = (arch: UpstreamArch, over: Partial<DnfRepo> = {}, sub = 'full'): DnfRepo[] => [
    {
      id: 'ferry',
      baseurl: `${server.url}/${sub}/${arch}/`,
      gpgkey: `file://${upstreamKey} file://${ferryKeyFile}`,
      gpgcheck: true,
      repo_gpgcheck: true,
      ...over,
    },
  ];

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-rpm-repodata-'));
    const up = buildRpmUpstream();
    upstreamRoot = up.root;
    upstreamKey = up.keyFile;
    const keys = path.join(tmp, 'keys');
    await generateRepoKey(keys, { name: 'ferry-test' });
    signer = (await repoSigner(keys))!;
    ferryKeyFile = path.join(tmp, 'ferry.asc');
    fs.writeFileSync(ferryKeyFile, signer.armoredPublicKey);
    for (const arch of ['x86_64', 'aarch64'] as const) {
      // Every upstream package of the arch (BaseOS + AppStream in one repository), with modules.
      await ferryRepo(
        path.join(tmp, 'www', 'full', arch),
        upstreamRpms(upstreamRoot, arch),
        signer,
        upstreamModules(upstreamRoot, arch),
      );
      // Only what dnf chose (what Ferry carries), no module metadata: module_hotfixes=1 instead.
      const chosen = upstreamRpms(upstreamRoot, arch).filter((f) =>
        DEFAULT_DNF_SET(arch).includes(path.basename(f)),
      );
      await ferryRepo(path.join(tmp, 'www', 'carried', arch), chosen, signer);
    }
    // Every package but no module metadata: the control for the modules.yaml test.
    await ferryRepo(
      path.join(tmp, 'www', 'nomodules', 'x86_64'),
      upstreamRpms(upstreamRoot, 'x86_64'),
      signer,
    );
    server = await serveDir(path.join(tmp, 'www'));
    // rpmbuild on a cold cache takes tens of seconds on a loaded machine.
  }, 300_000);
  afterAll(async () => {
    await server?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const arch of ['x86_64', 'aarch64'] as const)
    it(`dnf resolves the same set from Ferry's repository as from upstream, both checks on (${arch})`, async () => {
      const r = await dnfDownload({ repos: repos(arch), packages: DEFAULT_ROOTS, arch });
      expect(r.files).toEqual(DEFAULT_DNF_SET(arch));
    });

  it('dnf installs for real from Ferry’s repository (package signatures and repomd signature checked)', async () => {
    const r = await dnfDownload({
      repos: repos('x86_64'),
      packages: DEFAULT_ROOTS,
      arch: 'x86_64',
      install: true,
    });
    expect(r.files).toEqual(DEFAULT_DNF_SET('x86_64'));
  });

  it('the carried subset without modules.yaml installs with module_hotfixes=1', async () => {
    for (const arch of ['x86_64', 'aarch64'] as const) {
      const r = await dnfDownload({
        repos: repos(arch, { module_hotfixes: true }, 'carried'),
        packages: DEFAULT_ROOTS,
        arch,
      });
      expect(r.files).toEqual(DEFAULT_DNF_SET(arch));
    }
  });

  it('the carried modules.yaml keeps the default stream (without it dnf would pick 2.1)', async () => {
    const r = await dnfDownload({ repos: repos('x86_64'), packages: ['ferry-modpkg'], arch: 'x86_64' });
    expect(r.files).toEqual(['ferry-modpkg-1.4-1.module+el9.2.0+1+8d1b2e3c.x86_64.rpm']);
    const control = await dnfDownload({
      repos: repos('x86_64', {}, 'nomodules'),
      packages: ['ferry-modpkg'],
      arch: 'x86_64',
    });
    expect(control.files).toEqual(['ferry-modpkg-2.1-1.module+el9.2.0+2+8d1b2e3c.x86_64.rpm']);
  });

  it('dnf repoclosure is clean on both arches (apart from the conditional rich dependency)', async () => {
    for (const arch of ['x86_64', 'aarch64'] as const) {
      for (const sub of ['full', 'carried']) {
        const c = await dnfRepoclosure({ repos: repos(arch, {}, sub), arch });
        expect(realUnresolved(c.unresolved), `${sub} ${arch}: ${c.stdout}`).toEqual(new Map());
        expect([...c.unresolved.keys()]).toEqual([`ferry-core-1.0-1.el9.${arch}`]);
      }
    }
  });

  it('dnf refuses Ferry’s repository when repomd.xml is altered or signed by another key', async () => {
    const p = '/full/x86_64/repodata/repomd.xml';
    const orig = fs.readFileSync(path.join(tmp, 'www', p), 'utf8');
    try {
      server.overrides.set(p, orig.replace('<revision>42</revision>', '<revision>43</revision>'));
      const r = await dnfDownload({
        repos: repos('x86_64'),
        packages: ['ferry-setup'],
        arch: 'x86_64',
        allowFailure: true,
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/repomd\.xml GPG signature verification error: Bad GPG signature/);
    } finally {
      server.overrides.clear();
    }
    // Only the upstream key: the packages would check, the repository does not.
    const r = await dnfDownload({
      repos: repos('x86_64', { gpgkey: `file://${upstreamKey}` }),
      packages: ['ferry-setup'],
      arch: 'x86_64',
      allowFailure: true,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/repomd\.xml GPG signature verification error/);
  });

  it(
    'writes the primary, filelists and other createrepo_c writes for the same files',
    { timeout: 300_000 },
    async () => {
      // The default packages, and the odd shapes (UTF-8, XML specials, 600 files, 16 changelog entries).
      const oddRoot = buildRpmUpstream(ODD_SPECS).root;
      await ferryRepo(path.join(tmp, 'odd'), upstreamRpms(oddRoot, 'x86_64'), signer);
      for (const [arch, ours] of [
        ['x86_64', path.join(tmp, 'www', 'full', 'x86_64')],
        ['aarch64', path.join(tmp, 'www', 'full', 'aarch64')],
        ['odd', path.join(tmp, 'odd')],
      ] as const) {
        const theirs = path.join(tmp, `createrepo-${arch}`);
        fs.cpSync(path.join(ours, 'Packages'), path.join(theirs, 'Packages'), { recursive: true });
        execFileSync('createrepo_c', ['--quiet', '--no-database', theirs]);
        for (const type of ['primary', 'filelists', 'other']) {
          const a = records(repodataXml(ours, type));
          const b = records(repodataXml(theirs, type));
          expect([...a.keys()].sort(), `${arch} ${type}`).toEqual([...b.keys()].sort());
          for (const [k, v] of b) expect(a.get(k), `${arch} ${type} ${k}`).toBe(v);
        }
        const head = (dir: string): string => repodataXml(dir, 'primary').split('<package')[0];
        expect(head(ours)).toBe(head(theirs));
      }
    },
  );
});
