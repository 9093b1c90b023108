// A synthetic RPM repository's metadata at distribution scale, for the resolver bench and the
// dnf comparison test: repodata/repomd.xml, primary.xml.gz, filelists.xml.gz and other.xml.gz
// (createrepo_c's layout and XML) for N packages, no .rpm files (resolution needs none; `dnf
// install --assumeno` stops before downloading). Shaped like EL AppStream+BaseOS: x86_64,
// noarch, aarch64 and i686 decoys, two EVRs of some names (with ~ and ^), soname and virtual
// provides, versioned, pre, file (only in filelists), rich and rpmlib() requires, Recommends,
// ~70 files per package (an EL average). Deterministic from the seed.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

export interface SyntheticRepoOptions {
  packages?: number;
  seed?: number;
  /** Files per package are filesMin + [0, filesSpread). */
  filesMin?: number;
  filesSpread?: number;
  /** Hand-written packages added after the generated ones (tiny repositories for one rule). */
  extra?: SyntheticPackage[];
}

/** Dependencies are 'name', 'name op evr' (op one of = < <= > >=) or a rich '(…)'. */
export interface SyntheticPackage {
  name: string;
  arch?: string;
  ver?: string;
  rel?: string;
  provides?: string[];
  requires?: string[];
  conflicts?: string[];
  obsoletes?: string[];
  recommends?: string[];
}

/** Writes the repository under `dir` and returns the root names to resolve (up to 30). */
export function writeSyntheticRepo(dir: string, opts: SyntheticRepoOptions = {}): string[] {
  const N = opts.packages ?? 20000;
  const seed = opts.seed ?? 1;
  const filesMin = opts.filesMin ?? 40;
  const filesSpread = opts.filesSpread ?? 60;
  let s = seed >>> 0;
  const rand = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(rand() * n);

  interface Gen {
    name: string;
    arch: string;
    ver: string;
    rel: string;
    epoch: number;
    provides: string[];
    requires: string[];
    recommends: string[];
    files: string[];
    primaryFiles: string[];
  }

  const esc = (x: string): string =>
    x.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const entry = (name: string, flags?: string, e?: number, v?: string, r?: string, pre = false): string =>
    `      <rpm:entry name="${esc(name)}"${flags ? ` flags="${flags}" epoch="${e ?? 0}" ver="${v}"${r ? ` rel="${r}"` : ''}` : ''}${pre ? ' pre="1"' : ''}/>`;

  // Package i may depend only on packages j < i of an installable arch, so every requirement is
  // satisfiable (dnf must succeed) and closures are large for high i.
  const pkgs: Gen[] = [];
  const installable: number[] = [];
  let names = 0;
  while (pkgs.length < N) {
    const id = names++;
    const name = `ferry${id % 7 === 0 ? '-lib' : ''}-p${String(id).padStart(5, '0')}`;
    const r = rand();
    const arch = r < 0.6 ? 'x86_64' : r < 0.9 ? 'noarch' : r < 0.95 ? 'aarch64' : 'i686';
    const versions = rand() < 0.1 ? 2 : 1;
    const base = `${1 + int(5)}.${int(20)}`;
    for (let k = 0; k < versions && pkgs.length < N; k++) {
      const ver =
        k === 0 ? `${base}${rand() < 0.05 ? '~rc1' : ''}` : `${base}${rand() < 0.5 ? '^git1' : '.1'}`;
      const rel = `${1 + int(3)}.el9`;
      const epoch = rand() < 0.05 ? 1 : 0;
      const g: Gen = {
        name,
        arch,
        ver,
        rel,
        epoch,
        provides: [],
        requires: [],
        recommends: [],
        files: [],
        primaryFiles: [],
      };
      const dirName = `/usr/share/${name}`;
      for (let f = 0; f < filesMin + int(filesSpread); f++) g.files.push(`${dirName}/file-${f}.dat`);
      g.files.push(`/usr/lib64/lib${name}.so.${k + 1}`);
      if (rand() < 0.3) {
        g.primaryFiles.push(`/usr/bin/${name}`);
        g.files.push(`/usr/bin/${name}`);
      }
      g.files.push(`/usr/libexec/${name}/helper`);
      pkgs.push(g);
      if (arch === 'x86_64' || arch === 'noarch') installable.push(pkgs.length - 1);
    }
  }

  // Most requirements point into a core of base libraries (the first 400 names, glibc-like),
  // a few at a recent neighbour: a branching factor well below 1 outside the core keeps each
  // root's closure to the core plus a handful, as on a real distribution.
  const CORE = 400;
  const below = (upTo: number): number => {
    let hi = 0;
    let lo = installable.length;
    while (hi < lo) {
      const m = (hi + lo) >> 1;
      if (installable[m] < upTo) hi = m + 1;
      else lo = m;
    }
    return hi;
  };
  const pickDep = (upTo: number): Gen | undefined => {
    const hi = below(upTo);
    if (hi === 0) return undefined;
    const core = below(CORE);
    if (upTo > CORE && rand() < 0.92) return pkgs[installable[int(Math.max(1, Math.min(core, hi)))]];
    return pkgs[installable[Math.max(0, hi - 1 - int(Math.min(hi, 60)))]];
  };

  const body: string[] = [];
  const fbody: string[] = [];
  for (let i = 0; i < pkgs.length; i++) {
    const g = pkgs[i];
    const req: string[] = [];
    const rec: string[] = [];
    req.push(entry('rpmlib(CompressedFileNames)', 'LE', 0, '3.0.4', '1'));
    if (rand() < 0.2) req.push(entry('/bin/sh', undefined, undefined, undefined, undefined, true));
    const n = i < CORE ? int(3) : int(7);
    for (let k = 0; k < n; k++) {
      const d = pickDep(i);
      if (!d || d.name === g.name) continue;
      const kind = rand();
      // >= this entry's own EVR: the name's best EVR always satisfies it.
      if (kind < 0.4) req.push(entry(d.name, 'GE', d.epoch, d.ver));
      else if (kind < 0.6) req.push(entry(`lib${d.name}.so.1()(64bit)`));
      else if (kind < 0.7) req.push(entry(`/usr/libexec/${d.name}/helper`));
      else if (kind < 0.8) {
        const e = pickDep(i);
        if (e && e.name !== g.name) req.push(entry(`(${d.name} or ${e.name})`));
      } else if (kind < 0.85) {
        const e = pickDep(i);
        if (e && e.name !== g.name) req.push(entry(`(${d.name} if ${e.name})`));
      } else req.push(entry(d.name));
    }
    if (rand() < 0.15) {
      const d = pickDep(i);
      if (d && d.name !== g.name) rec.push(entry(d.name));
    }
    const sha = createHash('sha256').update(`${g.name}-${g.ver}-${g.rel}.${g.arch}`).digest('hex');
    const prov = [
      entry(g.name, 'EQ', g.epoch, g.ver, g.rel),
      ...(g.arch !== 'noarch'
        ? [entry(`${g.name}(${g.arch === 'x86_64' ? 'x86-64' : g.arch})`, 'EQ', g.epoch, g.ver, g.rel)]
        : []),
      entry(`lib${g.name}.so.1()(64bit)`),
      ...(rand() < 0.1 ? [entry(`ferry-virtual-${int(50)}`, 'EQ', 0, '1')] : []),
    ];
    const file = `${g.name}-${g.ver}-${g.rel}.${g.arch}.rpm`;
    body.push(`<package type="rpm">
    <name>${g.name}</name>
    <arch>${g.arch}</arch>
    <version epoch="${g.epoch}" ver="${esc(g.ver)}" rel="${g.rel}"/>
    <checksum type="sha256" pkgid="YES">${sha}</checksum>
    <summary>Synthetic package ${g.name} &amp; friends</summary>
    <description>A synthetic package for Ferry's resolver benchmark. It stands for a real
  distribution package of ordinary size: this paragraph is about as long as a typical one.</description>
    <packager>Ferry bench</packager>
    <url>https://example.invalid/${g.name}</url>
    <time file="1700000000" build="1700000000"/>
    <size package="${10000 + int(5000000)}" installed="${20000 + int(9000000)}" archive="${30000 + int(9000000)}"/>
    <location href="Packages/${g.name[0]}/${esc(file)}"/>
    <format>
      <rpm:license>MIT</rpm:license>
      <rpm:vendor>Ferry</rpm:vendor>
      <rpm:group>Unspecified</rpm:group>
      <rpm:buildhost>bench.example.invalid</rpm:buildhost>
      <rpm:sourcerpm>${g.name}-${esc(g.ver)}-${g.rel}.src.rpm</rpm:sourcerpm>
      <rpm:header-range start="4504" end="${9000 + int(40000)}"/>
      <rpm:provides>
  ${prov.join('\n')}
      </rpm:provides>
      <rpm:requires>
  ${req.join('\n')}
      </rpm:requires>${
        rec.length
          ? `
      <rpm:recommends>
  ${rec.join('\n')}
      </rpm:recommends>`
          : ''
      }
  ${g.primaryFiles.map((f) => `    <file>${f}</file>`).join('\n')}
    </format>
  </package>`);
    fbody.push(`<package pkgid="${sha}" name="${g.name}" arch="${g.arch}">
    <version epoch="${g.epoch}" ver="${esc(g.ver)}" rel="${g.rel}"/>
    <file type="dir">/usr/share/${g.name}</file>
  ${g.files.map((f) => `  <file>${f}</file>`).join('\n')}
  </package>`);
  }
  const flagOf = { '=': 'EQ', '<': 'LT', '<=': 'LE', '>': 'GT', '>=': 'GE' } as const;
  const depEntry = (d: string): string => {
    const m = /^([^\s(]\S*)\s*(<=|>=|=|<|>)\s*(\S+)$/.exec(d);
    if (!m) return entry(d);
    const [v, r] = m[3].split('-');
    return entry(m[1], flagOf[m[2] as keyof typeof flagOf], 0, v, r);
  };
  const section = (tag: string, deps: string[] | undefined): string =>
    deps?.length ? `\n      <rpm:${tag}>\n${deps.map(depEntry).join('\n')}\n      </rpm:${tag}>` : '';
  for (const x of opts.extra ?? []) {
    const arch = x.arch ?? 'noarch';
    const ver = x.ver ?? '1.0';
    const rel = x.rel ?? '1.el9';
    const sha = createHash('sha256').update(`extra-${x.name}-${ver}-${rel}.${arch}`).digest('hex');
    body.push(`<package type="rpm">
    <name>${x.name}</name>
    <arch>${arch}</arch>
    <version epoch="0" ver="${esc(ver)}" rel="${rel}"/>
    <checksum type="sha256" pkgid="YES">${sha}</checksum>
    <summary>${x.name}</summary>
    <description>${x.name}</description>
    <packager/>
    <url/>
    <time file="1700000000" build="1700000000"/>
    <size package="1000" installed="1000" archive="1000"/>
    <location href="Packages/${x.name[0]}/${x.name}-${esc(ver)}-${rel}.${arch}.rpm"/>
    <format>${section('provides', [`${x.name} = ${ver}-${rel}`, ...(x.provides ?? [])])}${section('requires', x.requires)}${section('conflicts', x.conflicts)}${section('obsoletes', x.obsoletes)}${section('recommends', x.recommends)}
    </format>
  </package>`);
    fbody.push(`<package pkgid="${sha}" name="${x.name}" arch="${arch}">
    <version epoch="0" ver="${esc(ver)}" rel="${rel}"/>
  </package>`);
  }
  // /bin/sh, like bash in BaseOS: listed in primary.
  const shSha = createHash('sha256').update('ferry-sh').digest('hex');
  body.push(`<package type="rpm">
    <name>ferry-sh</name>
    <arch>x86_64</arch>
    <version epoch="0" ver="5.1.8" rel="9.el9"/>
    <checksum type="sha256" pkgid="YES">${shSha}</checksum>
    <summary>sh</summary>
    <description>sh</description>
    <packager/>
    <url/>
    <time file="1700000000" build="1700000000"/>
    <size package="1000" installed="1000" archive="1000"/>
    <location href="Packages/f/ferry-sh-5.1.8-9.el9.x86_64.rpm"/>
    <format>
      <rpm:provides>
        <rpm:entry name="ferry-sh" flags="EQ" epoch="0" ver="5.1.8" rel="9.el9"/>
      </rpm:provides>
      <file>/bin/sh</file>
    </format>
  </package>`);
  fbody.push(`<package pkgid="${shSha}" name="ferry-sh" arch="x86_64">
    <version epoch="0" ver="5.1.8" rel="9.el9"/>
    <file>/bin/sh</file>
  </package>`);

  const total = body.length;
  const primary = `<?xml version="1.0" encoding="UTF-8"?>
  <metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="${total}">
  ${body.join('\n')}
  </metadata>
  `;
  const filelists = `<?xml version="1.0" encoding="UTF-8"?>
  <filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="${total}">
  ${fbody.join('\n')}
  </filelists>
  `;
  const other = `<?xml version="1.0" encoding="UTF-8"?>
  <otherdata xmlns="http://linux.duke.edu/metadata/other" packages="0">
  </otherdata>
  `;

  const repodata = path.join(dir, 'repodata');
  fs.rmSync(repodata, { recursive: true, force: true });
  fs.mkdirSync(repodata, { recursive: true });
  const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
  const data: string[] = [];
  for (const [type, xml] of [
    ['primary', primary],
    ['filelists', filelists],
    ['other', other],
  ] as const) {
    const gz = zlib.gzipSync(xml, { level: 6 });
    const href = `repodata/${sha256(gz)}-${type}.xml.gz`;
    fs.writeFileSync(path.join(dir, href), gz);
    data.push(`  <data type="${type}">
      <checksum type="sha256">${sha256(gz)}</checksum>
      <open-checksum type="sha256">${sha256(xml)}</open-checksum>
      <location href="${href}"/>
      <timestamp>1700000000</timestamp>
      <size>${gz.length}</size>
      <open-size>${Buffer.byteLength(xml)}</open-size>
    </data>`);
  }
  fs.writeFileSync(
    path.join(repodata, 'repomd.xml'),
    `<?xml version="1.0" encoding="UTF-8"?>
  <repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
    <revision>1700000000</revision>
  ${data.join('\n')}
  </repomd>
  `,
  );
  // Roots: the last installable packages (the deepest closures), 30 of them, like Kubespray's list.
  const roots = [
    ...new Set(
      installable
        .slice(-400)
        .filter((_, k) => k % 13 === 0)
        .map((i) => pkgs[i].name),
    ),
  ].slice(0, 30);
  return roots;
}

/**
 * A tiny repository where Conflicts and Obsoletes decide every choice (name order alone would
 * pick the excluded provider): cf-tool conflicts with cf-liba and obsoletes cf-o1 < 2; cf-k1
 * conflicts with cf-tool (the other direction); cf-m conflicts with cf-vv < 2, which cf-n1
 * provides; cf-rec, recommended, conflicts with cf-app. resolve-dnf.test.ts checks the set against dnf, resolve.test.ts records it.
 */
export const conflictsRepo: { roots: string[]; extra: SyntheticPackage[] } = {
  roots: ['cf-app', 'cf-m'],
  extra: [
    {
      name: 'cf-app',
      requires: ['cf-tool', '(cf-liba or cf-libb)', '(cf-k1 or cf-k2)', '(cf-o1 or cf-o2)'],
      recommends: ['cf-rec'],
    },
    { name: 'cf-tool', conflicts: ['cf-liba'], obsoletes: ['cf-o1 < 2'] },
    { name: 'cf-o1' },
    { name: 'cf-o2' },
    { name: 'cf-liba' },
    { name: 'cf-libb' },
    { name: 'cf-k1', conflicts: ['cf-tool'] },
    { name: 'cf-k2' },
    { name: 'cf-m', requires: ['(cf-n1 or cf-n2)'], conflicts: ['cf-vv < 2'] },
    { name: 'cf-n1', provides: ['cf-vv = 1'] },
    { name: 'cf-n2', provides: ['cf-vv = 3'] },
    { name: 'cf-rec', conflicts: ['cf-app'] },
  ],
};
