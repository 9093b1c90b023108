import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { serveDir, type StaticServer } from './static-server.js';
import { missingTools } from './tools.js';

/**
 * A synthetic, signed "Rocky 9" mirror for the RPM tests: real .rpm files built by rpmbuild
 * (text payloads only, so no compiler and any --target works), signed by rpmsign with a
 * throw-away RSA key, indexed by createrepo_c, a modular stream added with modifyrepo_c, and
 * repomd.xml signed (armored, detached) like Rocky's own mirrors. Laid out as
 *   <root>/9/BaseOS/<arch>/os/{Packages/<letter>/*.rpm,repodata/}
 *   <root>/9/AppStream/<arch>/os/…
 *   <root>/RPM-GPG-KEY-Rocky-9-test
 * for x86_64 and aarch64, served on 127.0.0.1 by the in-process static server (its overrides
 * are how tamper() serves bad bytes without touching the cache).
 *
 * rpmbuild is slow enough (≈0.5 s per spec per arch) that the tree is built once and cached
 * under the OS temp folder, keyed by a hash of the package specs and of this builder's version;
 * every test process that asks for the same specs reuses it.
 *
 * The relationships are the ones the resolver and dnf must agree on:
 *   - versioned Requires (ferry-lib >= 2.0) where only the caret build satisfies it, and the
 *     tilde pre-release does not; an epoch beating a higher version (ferry-epoch 1:1.0 > 0:9.9);
 *   - a file Require (/usr/libexec/ferry/helper) that only filelists lists, and one on a bin
 *     path (/usr/bin/ferrysh) that primary lists;
 *   - rich (ferry-tls-openssl or ferry-tls-gnutls) with both present, and (ferry-selinux if
 *     selinux-policy) whose condition nothing provides;
 *   - a virtual Provides (ferry-virtual), an Obsoletes of a root (ferry-oldname → ferry-newname),
 *     Recommends (ferry-docs), Requires(pre) (ferry-setup);
 *   - noarch packages, every binary package in both arches, an i686 decoy in x86_64 BaseOS with
 *     the highest version (dnf never picks it for x86_64);
 *   - a BaseOS package needing something only AppStream has (ferry-tool → ferry-extra);
 *   - a module (ferry-mod) whose default stream 1 holds ferry-modpkg 1.4, a non-default
 *     stream 2 (ferry-modpkg 2.1, invisible to dnf) and a non-modular ferry-modpkg 0.9 that the
 *     default stream hides.
 */

const BUILDER_VERSION = 3;

export type UpstreamArch = 'x86_64' | 'aarch64';
export const UPSTREAM_ARCHES: readonly UpstreamArch[] = ['x86_64', 'aarch64'];
export type UpstreamRepo = 'BaseOS' | 'AppStream';

export interface RpmSpec {
  name: string;
  version: string;
  release?: string;
  epoch?: number;
  /** 'binary': built for each target arch; 'noarch'; 'i686': only as the decoy in x86_64. */
  kind: 'binary' | 'noarch' | 'i686';
  repo: UpstreamRepo;
  summary?: string;
  requires?: string[];
  /** Requires(pre). */
  pre?: string[];
  /** Other qualified lines kept verbatim: 'Requires(post): x', 'Requires(preun): y'. */
  qualified?: string[];
  provides?: string[];
  obsoletes?: string[];
  conflicts?: string[];
  recommends?: string[];
  suggests?: string[];
  supplements?: string[];
  enhances?: string[];
  /** Files under the build root; a trailing '/' is a directory. mode defaults 0644 (0755 for bin). */
  files: string[];
  /** %ghost files. */
  ghosts?: string[];
  /** A description instead of the generated one (UTF-8, XML specials…). */
  description?: string;
  /** null: no URL tag at all. */
  url?: string | null;
  /** Extra generated text files: /usr/share/<name>/many/d<i % 30>/f<i>.txt. */
  manyFiles?: number;
  /** Symbolic links [path, target]. */
  symlinks?: Array<[string, string]>;
  /** %doc / %license files (under /usr/share/doc, /usr/share/licenses). */
  docs?: string[];
  licenses?: string[];
  /** Extra changelog entries beyond the two generated (createrepo_c keeps the newest ten). */
  extraChangelog?: number;
  /** The module:stream this build is an artifact of (AppStream only). */
  module?: { name: string; stream: string };
  changelog?: string[];
}

const MOD_RELEASE = (n: number) => `1.module+el9.2.0+${n}+8d1b2e3c`;

/** The default specs; tests may pass their own (a different cache entry). */
export const DEFAULT_SPECS: RpmSpec[] = [
  {
    name: 'ferry-core',
    version: '1.0',
    kind: 'binary',
    repo: 'BaseOS',
    summary: 'Ferry test core package',
    requires: [
      'ferry-lib >= 2.0',
      '/usr/libexec/ferry/helper',
      '/usr/bin/ferrysh',
      '(ferry-tls-openssl or ferry-tls-gnutls)',
      '(ferry-selinux if selinux-policy)',
      'ferry-virtual',
    ],
    pre: ['ferry-setup'],
    recommends: ['ferry-docs'],
    conflicts: ['ferry-legacy < 1.0'],
    suggests: ['ferry-extras-suggested'],
    files: [
      '/usr/bin/ferry-core',
      '/usr/share/ferry-core/',
      '/usr/share/ferry-core/README',
      '/etc/ferry/core.conf',
    ],
    ghosts: ['/var/log/ferry-core.log'],
    changelog: ['first build', 'second line'],
  },
  { name: 'ferry-lib', version: '2.0~rc1', kind: 'binary', repo: 'BaseOS', files: ['/usr/lib/ferry/lib-rc'] },
  {
    name: 'ferry-lib',
    version: '2.0^20240101git1',
    kind: 'binary',
    repo: 'BaseOS',
    files: ['/usr/lib/ferry/lib'],
  },
  { name: 'ferry-lib', version: '3.0', kind: 'i686', repo: 'BaseOS', files: ['/usr/lib/ferry/lib32'] },
  {
    name: 'ferry-helper',
    version: '1.2',
    kind: 'binary',
    repo: 'BaseOS',
    files: ['/usr/libexec/ferry/helper'],
  },
  { name: 'ferry-shell', version: '5.1', kind: 'binary', repo: 'BaseOS', files: ['/usr/bin/ferrysh'] },
  {
    name: 'ferry-tls-openssl',
    version: '3.0.7',
    kind: 'binary',
    repo: 'BaseOS',
    files: ['/usr/lib/ferry/tls-openssl'],
  },
  {
    name: 'ferry-tls-gnutls',
    version: '3.7.6',
    kind: 'binary',
    repo: 'BaseOS',
    files: ['/usr/lib/ferry/tls-gnutls'],
  },
  {
    name: 'ferry-provider',
    version: '1.0',
    kind: 'noarch',
    repo: 'BaseOS',
    provides: ['ferry-virtual = 1.0'],
    files: ['/usr/share/ferry-provider/data'],
  },
  {
    name: 'ferry-setup',
    version: '1.0',
    kind: 'noarch',
    repo: 'BaseOS',
    files: ['/usr/share/ferry-setup/setup'],
  },
  {
    name: 'ferry-docs',
    version: '1.0',
    kind: 'noarch',
    repo: 'BaseOS',
    files: ['/usr/share/doc/ferry/README'],
  },
  {
    name: 'ferry-oldname',
    version: '1.0',
    kind: 'noarch',
    repo: 'BaseOS',
    files: ['/usr/share/ferry-oldname/x'],
  },
  {
    name: 'ferry-newname',
    version: '2.0',
    kind: 'noarch',
    repo: 'BaseOS',
    obsoletes: ['ferry-oldname < 2.0'],
    provides: ['ferry-oldname = 2.0'],
    files: ['/usr/share/ferry-newname/x'],
  },
  {
    name: 'ferry-tool',
    version: '1.0',
    kind: 'binary',
    repo: 'BaseOS',
    requires: ['ferry-extra', 'ferry-epoch >= 1:1.0'],
    // Scriptlet-time requires: how the header flags them and which createrepo_c marks pre="1".
    qualified: ['Requires(post): ferry-setup', 'Requires(preun): ferry-docs >= 1.0'],
    files: ['/usr/bin/ferry-tool'],
  },
  {
    name: 'ferry-epoch',
    version: '9.9',
    kind: 'noarch',
    repo: 'BaseOS',
    files: ['/usr/share/ferry-epoch/old'],
  },
  {
    name: 'ferry-epoch',
    version: '1.0',
    epoch: 1,
    kind: 'noarch',
    repo: 'BaseOS',
    files: ['/usr/share/ferry-epoch/new'],
  },
  {
    name: 'ferry-extra',
    version: '1.0',
    kind: 'binary',
    repo: 'AppStream',
    files: ['/usr/share/ferry-extra/x'],
  },
  {
    name: 'ferry-app',
    version: '1.0',
    kind: 'binary',
    repo: 'AppStream',
    requires: ['ferry-core >= 1.0', 'ferry-modpkg'],
    files: ['/usr/bin/ferry-app'],
  },
  {
    name: 'ferry-modpkg',
    version: '0.9',
    kind: 'binary',
    repo: 'AppStream',
    files: ['/usr/share/ferry-modpkg/v09'],
  },
  {
    name: 'ferry-modpkg',
    version: '1.4',
    release: MOD_RELEASE(1),
    kind: 'binary',
    repo: 'AppStream',
    module: { name: 'ferry-mod', stream: '1' },
    files: ['/usr/share/ferry-modpkg/v14'],
  },
  {
    name: 'ferry-modpkg',
    version: '2.1',
    release: MOD_RELEASE(2),
    kind: 'binary',
    repo: 'AppStream',
    module: { name: 'ferry-mod', stream: '2' },
    files: ['/usr/share/ferry-modpkg/v21'],
  },
];

/**
 * Packages with the header shapes the default set does not reach, for the header and repodata
 * comparisons with rpm and createrepo_c: XML specials and UTF-8 in text, an epoch, many files
 * in many directories, symlinks, %doc/%license, more than ten changelog entries, rich
 * requires/supplements with `with`/`if … else`, versioned conflicts/obsoletes, no URL.
 */
export const ODD_SPECS: RpmSpec[] = [
  {
    name: 'ferry-odd',
    epoch: 3,
    version: '1.2.3^post1',
    kind: 'binary',
    repo: 'BaseOS',
    summary: 'Odd & <angled> "quoted" package',
    description: 'Größe – ✓ & <xml> "quotes"\n\nSecond paragraph with a tab\tand more.',
    requires: [
      '(ferry-a >= 1 with ferry-a < 2)',
      '(ferry-b if ferry-c else ferry-d)',
      'ferry-e = 2:1.0-3.el9',
    ],
    provides: ['ferry-odd-virt = 3:1.0-2', 'bundled(golang(example.org/x)) = 0.1'],
    conflicts: ['ferry-old <= 0:1.0-1'],
    obsoletes: ['ferry-older < 3:0'],
    supplements: ['(ferry-odd-lang and langpacks-de)'],
    enhances: ['ferry-core'],
    files: ['/usr/sbin/ferry-oddd', '/etc/ferry/odd.conf', '/usr/lib/sendmail'],
    manyFiles: 600,
    symlinks: [['/usr/bin/ferry-odd-link', '../sbin/ferry-oddd']],
    docs: ['README.odd'],
    licenses: ['LICENSE.odd'],
    extraChangelog: 14,
  },
  {
    name: 'ferry-odd-data',
    version: '0~beta1',
    kind: 'noarch',
    repo: 'AppStream',
    url: null,
    files: ['/usr/share/ferry-odd-data/a b.txt'],
  },
];

/** What a test asks dnf (and Ferry) to install. */
export const DEFAULT_ROOTS = ['ferry-core', 'ferry-oldname', 'ferry-tool', 'ferry-app'];

/**
 * What dnf itself downloads for DEFAULT_ROOTS from the default upstream on a bare installroot
 * (weak dependencies on), as recorded from dnf 4.14: the oracle the fixture, repodata and plan
 * tests hold their sets to.
 */
export const DEFAULT_DNF_SET = (arch: string): string[] =>
  [
    `ferry-app-1.0-1.el9.${arch}.rpm`,
    `ferry-core-1.0-1.el9.${arch}.rpm`,
    'ferry-docs-1.0-1.el9.noarch.rpm',
    'ferry-epoch-1.0-1.el9.noarch.rpm',
    `ferry-extra-1.0-1.el9.${arch}.rpm`,
    `ferry-helper-1.2-1.el9.${arch}.rpm`,
    `ferry-lib-2.0^20240101git1-1.el9.${arch}.rpm`,
    `ferry-modpkg-1.4-1.module+el9.2.0+1+8d1b2e3c.${arch}.rpm`,
    'ferry-newname-2.0-1.el9.noarch.rpm',
    'ferry-provider-1.0-1.el9.noarch.rpm',
    'ferry-setup-1.0-1.el9.noarch.rpm',
    `ferry-shell-5.1-1.el9.${arch}.rpm`,
    `ferry-tls-gnutls-3.7.6-1.el9.${arch}.rpm`,
    `ferry-tool-1.0-1.el9.${arch}.rpm`,
  ].sort();

/** The module's default stream, per modulemd-defaults. */
const MODULE_DEFAULTS: Record<string, string> = { 'ferry-mod': '1' };

export interface RpmUpstream {
  /** http://127.0.0.1:PORT — the mirror root (…/9/BaseOS/x86_64/os under it). */
  url: string;
  /** The folder served (cached, do not modify: use tamper()). */
  root: string;
  /** Armored public key that signed the packages and every repomd.xml. */
  keyFile: string;
  /** 40 upper-case hex digits. */
  keyFingerprint: string;
  /** The URL path of the key on the mirror (/RPM-GPG-KEY-Rocky-9-test). */
  keyPath: string;
  roots: string[];
  specs: RpmSpec[];
  /** Base URL of one repository: `${url}/9/<repo>/<arch>/os`. */
  repoUrl(repo: UpstreamRepo, arch: UpstreamArch): string;
  /** The dnf repo entries for one arch (BaseOS + AppStream), signed checks on. */
  dnfRepos(arch: UpstreamArch, opts?: { gpgcheck?: boolean; repo_gpgcheck?: boolean }): DnfRepo[];
  /** Every .rpm file of one repository (absolute paths). */
  rpmFiles(repo: UpstreamRepo, arch: UpstreamArch): string[];
  server: StaticServer;
  /**
   * Serve bad bytes for one file (BaseOS x86_64 unless said; modules: AppStream): 'repomd' (one
   * byte of repomd.xml changed, its .asc unchanged), 'unsigned' (repomd.xml.asc answers 404),
   * 'primary' / 'filelists' / 'modules' (that metadata file corrupted, repomd unchanged),
   * 'package' (one .rpm with a flipped payload byte, or `file` to name it). Returns the URL path
   * overridden; untamper() (or close) clears every override.
   */
  tamper(kind: TamperKind, opts?: { repo?: UpstreamRepo; arch?: UpstreamArch; file?: string }): string;
  untamper(): void;
  close(): Promise<void>;
}

export type TamperKind = 'repomd' | 'unsigned' | 'primary' | 'filelists' | 'modules' | 'package';

export const RPM_UPSTREAM_TOOLS = ['rpmbuild', 'rpmsign', 'createrepo_c', 'modifyrepo_c', 'gpg', 'gpgconf'];
export const DNF_TOOLS = ['dnf'];

/** describe.skipIf helper: true when a tool is missing (throws in CI). */
export function lacksRpmTools(withDnf = true): boolean {
  return missingTools(...RPM_UPSTREAM_TOOLS, ...(withDnf ? DNF_TOOLS : [])).length > 0;
}

export const upstreamCacheDir = path.join(process.env.FERRY_TEST_CACHE ?? os.tmpdir(), 'ferry-rpm-upstream');

const run = (cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): string =>
  execFileSync(cmd, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
    ...opts,
  });

function rpmArchOf(spec: RpmSpec, arch: UpstreamArch): string | undefined {
  if (spec.kind === 'noarch') return 'noarch';
  if (spec.kind === 'i686') return arch === 'x86_64' ? 'i686' : undefined;
  return arch;
}

/** EVR as a modulemd artifact spells it. */
function nevra(spec: RpmSpec, arch: string): string {
  return `${spec.name}-${spec.epoch ?? 0}:${spec.version}-${spec.release ?? '1.el9'}.${arch}`;
}

function specText(s: RpmSpec): string {
  const lines = [
    '%global debug_package %{nil}',
    // No brp-strip & co: the payload is text, and the cross --target would look for cross tools.
    '%define __os_install_post %{nil}',
    `Name: ${s.name}`,
    ...(s.epoch !== undefined ? [`Epoch: ${s.epoch}`] : []),
    `Version: ${s.version}`,
    // dist is defined on the command line ('.el9'); modular releases carry their own suffix.
    `Release: ${s.release ?? '1%{?dist}'}`,
    `Summary: ${s.summary ?? `Ferry test package ${s.name}`}`,
    'License: MIT',
    ...(s.url === null ? [] : [`URL: ${s.url ?? 'https://example.org/ferry'}`]),
    'Group: Ferry/Tests',
    'Vendor: Ferry Test Builders',
    ...(s.kind === 'noarch' ? ['BuildArch: noarch'] : []),
    ...(s.module ? [`ModularityLabel: ${s.module.name}:${s.module.stream}:9020020230101:8d1b2e3c`] : []),
    ...(s.requires ?? []).map((r) => `Requires: ${r}`),
    ...(s.pre ?? []).map((r) => `Requires(pre): ${r}`),
    ...(s.qualified ?? []),
    ...(s.provides ?? []).map((r) => `Provides: ${r}`),
    ...(s.obsoletes ?? []).map((r) => `Obsoletes: ${r}`),
    ...(s.conflicts ?? []).map((r) => `Conflicts: ${r}`),
    ...(s.recommends ?? []).map((r) => `Recommends: ${r}`),
    ...(s.suggests ?? []).map((r) => `Suggests: ${r}`),
    ...(s.supplements ?? []).map((r) => `Supplements: ${r}`),
    ...(s.enhances ?? []).map((r) => `Enhances: ${r}`),
    '',
    '%description',
    ...(s.description !== undefined
      ? [s.description]
      : [`${s.name} is a synthetic package for Ferry's RPM tests.`, 'It holds text files only.']),
    '',
    '%install',
  ];
  if (s.manyFiles)
    lines.push(
      `for i in $(seq 0 ${s.manyFiles - 1}); do d=%{buildroot}/usr/share/${s.name}/many/d$((i % 30)); mkdir -p $d; echo $i > $d/f$i.txt; done`,
    );
  for (const [l, target] of s.symlinks ?? [])
    lines.push(`mkdir -p "$(dirname "%{buildroot}${l}")"`, `ln -s '${target}' "%{buildroot}${l}"`);
  for (const f of [...(s.docs ?? []), ...(s.licenses ?? [])]) lines.push(`echo '${s.name} ${f}' > '${f}'`);
  const all = [...s.files, ...(s.ghosts ?? [])];
  for (const f of all) {
    if (f.endsWith('/')) lines.push(`mkdir -p "%{buildroot}${f}"`);
    else if (!(s.ghosts ?? []).includes(f))
      // No "#!" line: rpmbuild would add an interpreter Requires the specs do not declare.
      lines.push(`mkdir -p "$(dirname "%{buildroot}${f}")"`, `echo '${s.name} ${f}' > "%{buildroot}${f}"`);
  }
  lines.push('', '%files');
  for (const f of s.files) {
    if (f.endsWith('/')) lines.push(`%dir ${f.slice(0, -1)}`);
    else if (/\/s?bin\//.test(f) || f.startsWith('/usr/libexec/')) lines.push(`%attr(0755,root,root) ${f}`);
    else if (f.startsWith('/etc/')) lines.push(`%config(noreplace) ${f}`);
    // %files splits on blanks unless the path is quoted.
    else lines.push(f.includes(' ') ? `"${f}"` : f);
  }
  for (const g of s.ghosts ?? []) lines.push(`%ghost ${g}`);
  if (s.manyFiles) lines.push(`/usr/share/${s.name}/many`);
  for (const [l] of s.symlinks ?? []) lines.push(l);
  for (const d of s.docs ?? []) lines.push(`%doc ${d}`);
  for (const l of s.licenses ?? []) lines.push(`%license ${l}`);
  lines.push('', '%changelog');
  const entries = s.changelog ?? ['synthetic build'];
  lines.push(`* Mon Jan 01 2024 Ferry Tests <tests@example.org> - ${s.version}-1`);
  for (const e of entries) lines.push(`- ${e}`);
  lines.push('* Sun Dec 31 2023 Ferry Tests <tests@example.org> - 0.1-1', '- the older entry');
  for (let i = 0; i < (s.extraChangelog ?? 0); i++) {
    const day = String(30 - (i % 28)).padStart(2, '0');
    lines.push(
      `* Sat Dec ${day} 2023 Older Author ${i} <o${i}@example.org> - 0.0.${i}-1`,
      `- change ${i} & <more>`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function modulesYaml(specs: RpmSpec[], arch: UpstreamArch): string {
  const streams = new Map<string, RpmSpec[]>();
  for (const s of specs) {
    if (!s.module || s.repo !== 'AppStream' || !rpmArchOf(s, arch)) continue;
    const k = `${s.module.name}\0${s.module.stream}`;
    streams.set(k, [...(streams.get(k) ?? []), s]);
  }
  const docs: string[] = [];
  for (const [k, list] of streams) {
    const [name, stream] = k.split('\0');
    docs.push(
      [
        '---',
        'document: modulemd',
        'version: 2',
        'data:',
        `  name: ${name}`,
        `  stream: "${stream}"`,
        '  version: 9020020230101',
        '  context: 8d1b2e3c',
        `  arch: ${arch}`,
        `  summary: Ferry test module ${name}`,
        '  description: >-',
        '    A module stream for the RPM tests.',
        '  license:',
        '    module:',
        '    - MIT',
        '  profiles:',
        '    common:',
        '      rpms:',
        ...[...new Set(list.map((s) => s.name))].map((n) => `      - ${n}`),
        '  artifacts:',
        '    rpms:',
        ...list.map((s) => `    - ${nevra(s, rpmArchOf(s, arch)!)}`),
        '...',
      ].join('\n'),
    );
  }
  for (const [name, stream] of Object.entries(MODULE_DEFAULTS)) {
    if (![...streams.keys()].some((k) => k.startsWith(`${name}\0`))) continue;
    docs.push(
      [
        '---',
        'document: modulemd-defaults',
        'version: 1',
        'data:',
        `  module: ${name}`,
        `  stream: "${stream}"`,
        '  profiles:',
        `    "${stream}": [common]`,
        '...',
      ].join('\n'),
    );
  }
  return `${docs.join('\n')}\n`;
}

/** Metadata compression per repository (primary, filelists, other, modules). */
export type UpstreamCompression = Partial<Record<UpstreamRepo, 'gz' | 'xz' | 'zst'>>;
/** BaseOS gz, AppStream xz: both compressions real mirrors use. */
export const DEFAULT_COMPRESSION: Required<UpstreamCompression> = { BaseOS: 'gz', AppStream: 'xz' };

/**
 * createrepo_c 0.17 (Debian 12) cannot write zstd, which newer mirrors use: re-encode one
 * metadata file from gz to zst and rewrite its repomd entry (checksum, size, location; the
 * open-checksum stays, the content is the same).
 */
function repackZst(repodata: string, type: string): void {
  const repomdFile = path.join(repodata, 'repomd.xml');
  const repomd = fs.readFileSync(repomdFile, 'utf8');
  const block = new RegExp(`<data type="${type}">[\\s\\S]*?</data>`).exec(repomd);
  if (!block) return;
  const href = /<location href="repodata\/([^"]+)"/.exec(block[0])![1];
  const gz = path.join(repodata, href);
  const plain = gz.replace(/\.gz$/, '');
  run('gzip', ['-d', gz]);
  run('zstd', ['-q', '--rm', '-o', `${plain}.zst`, plain]);
  const bytes = fs.readFileSync(`${plain}.zst`);
  const sum = createHash('sha256').update(bytes).digest('hex');
  const name = path.basename(plain).replace(/^[0-9a-f]{64}-/, `${sum}-`) + '.zst';
  fs.renameSync(`${plain}.zst`, path.join(repodata, name));
  const updated = block[0]
    .replace(/<checksum type="sha256">[0-9a-f]+<\/checksum>/, `<checksum type="sha256">${sum}</checksum>`)
    .replace(/<location href="[^"]+"\/>/, `<location href="repodata/${name}"/>`)
    .replace(/<size>\d+<\/size>/, `<size>${bytes.length}</size>`);
  fs.writeFileSync(repomdFile, repomd.replace(block[0], updated));
}

interface BuiltTree {
  root: string;
  keyFile: string;
  keyFingerprint: string;
}

/** Builds (or reuses) the cached tree for these specs. */
export function buildRpmUpstream(
  specs: RpmSpec[] = DEFAULT_SPECS,
  compression: UpstreamCompression = DEFAULT_COMPRESSION,
): BuiltTree {
  const comp = { ...DEFAULT_COMPRESSION, ...compression };
  const missing = missingTools(
    ...RPM_UPSTREAM_TOOLS,
    ...(Object.values(comp).includes('zst') ? ['zstd'] : []),
  );
  if (missing.length) throw new Error(`the RPM upstream fixture needs ${missing.join(', ')}`);
  // The default compression keeps the original cache key, so existing caches stay valid.
  const keyed = JSON.stringify(comp) === JSON.stringify(DEFAULT_COMPRESSION) ? {} : { comp };
  const key = createHash('sha256')
    .update(JSON.stringify({ v: BUILDER_VERSION, specs, ...keyed }))
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(upstreamCacheDir, key);
  const done = path.join(dir, 'READY');
  if (!fs.existsSync(done)) {
    fs.mkdirSync(upstreamCacheDir, { recursive: true });
    const work = fs.mkdtempSync(path.join(upstreamCacheDir, `${key}.build-`));
    try {
      buildInto(work, specs, comp);
      fs.writeFileSync(path.join(work, 'READY'), new Date().toISOString());
      try {
        fs.renameSync(work, dir);
      } catch (err) {
        // Another test process finished the same build first: keep its tree.
        if (!fs.existsSync(done)) throw err;
        fs.rmSync(work, { recursive: true, force: true });
      }
    } catch (err) {
      fs.rmSync(work, { recursive: true, force: true });
      throw err;
    }
  }
  const keyFile = path.join(dir, 'tree', 'RPM-GPG-KEY-Rocky-9-test');
  return {
    root: path.join(dir, 'tree'),
    keyFile,
    keyFingerprint: fs.readFileSync(path.join(dir, 'FINGERPRINT'), 'utf8').trim(),
  };
}

function buildInto(work: string, specs: RpmSpec[], comp: Required<UpstreamCompression>): void {
  const gnupg = path.join(work, 'gnupg');
  fs.mkdirSync(gnupg, { mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: gnupg, SOURCE_DATE_EPOCH: '1704067200' };
  const tree = path.join(work, 'tree');
  try {
    run(
      'gpg',
      [
        '--batch',
        '--passphrase',
        '',
        '--quick-gen-key',
        'Rocky Test Signing <tests@example.org>',
        'rsa2048',
        'sign',
        'never',
      ],
      { env },
    );
    const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(run('gpg', ['--with-colons', '--list-keys'], { env }))![1];
    fs.writeFileSync(path.join(work, 'FINGERPRINT'), `${fpr}\n`);
    fs.mkdirSync(tree, { recursive: true });
    fs.writeFileSync(
      path.join(tree, 'RPM-GPG-KEY-Rocky-9-test'),
      run('gpg', ['--armor', '--export', fpr], { env }),
    );

    const specDir = path.join(work, 'top', 'SPECS');
    fs.mkdirSync(specDir, { recursive: true });
    const files = specs.map((s, i) => {
      const f = path.join(specDir, `${String(i).padStart(2, '0')}-${s.name}.spec`);
      fs.writeFileSync(f, specText(s));
      return { spec: s, file: f };
    });
    const top = path.join(work, 'top');
    const built: Array<{ spec: RpmSpec; rpm: string; arch: string }> = [];
    // One rpmbuild per target with every spec: far faster than one process per package.
    const targets: Array<{ target: string; pick: (s: RpmSpec) => boolean }> = [
      { target: 'x86_64', pick: (s) => s.kind === 'binary' },
      { target: 'aarch64', pick: (s) => s.kind === 'binary' },
      { target: 'i686', pick: (s) => s.kind === 'i686' },
      { target: 'noarch', pick: (s) => s.kind === 'noarch' },
    ];
    for (const t of targets) {
      const list = files.filter((f) => t.pick(f.spec));
      if (!list.length) continue;
      run(
        'rpmbuild',
        [
          '--quiet',
          '--define',
          `_topdir ${top}`,
          '--define',
          'dist .el9',
          '--define',
          '_buildhost build.ferry.test',
          ...(t.target === 'noarch' ? [] : ['--target', t.target]),
          '-bb',
          ...list.map((f) => f.file),
        ],
        { env },
      );
    }
    for (const s of specs) {
      for (const arch of new Set(UPSTREAM_ARCHES.map((a) => rpmArchOf(s, a)).filter(Boolean) as string[])) {
        const rel = s.release ?? '1.el9';
        const rpm = path.join(top, 'RPMS', arch, `${s.name}-${s.version}-${rel}.${arch}.rpm`);
        if (!fs.existsSync(rpm)) throw new Error(`rpmbuild did not produce ${rpm}`);
        built.push({ spec: s, rpm, arch });
      }
    }
    const rpms = built.map((b) => b.rpm);
    run(
      'rpmsign',
      [
        '--define',
        '__gpg /usr/bin/gpg',
        '--define',
        `_gpg_name ${fpr}`,
        '--define',
        `_gpg_path ${gnupg}`,
        '--addsign',
        ...rpms,
      ],
      { env },
    );

    for (const arch of UPSTREAM_ARCHES) {
      for (const repo of ['BaseOS', 'AppStream'] as const) {
        const base = path.join(tree, '9', repo, arch, 'os');
        for (const b of built) {
          if (b.spec.repo !== repo || !rpmArchOf(b.spec, arch) || rpmArchOf(b.spec, arch) !== b.arch)
            continue;
          const dest = path.join(base, 'Packages', b.spec.name[0], path.basename(b.rpm));
          fs.mkdirSync(path.dirname(dest), { recursive: true });
          fs.copyFileSync(b.rpm, dest);
        }
        const c = comp[repo];
        run('createrepo_c', [
          '--quiet',
          '--no-database',
          '--general-compress-type',
          c === 'zst' ? 'gz' : c,
          '--revision',
          '1704067200',
          '--distro',
          'cpe:/o:rocky:rocky:9,Rocky Linux 9',
          base,
        ]);
        const yaml = modulesYaml(specs, arch);
        if (repo === 'AppStream' && yaml.trim()) {
          // Named modules.yaml: modifyrepo_c keeps the input's name (<sha>-modules.yaml.xz, as Rocky).
          const y = path.join(work, `modules-${arch}`, 'modules.yaml');
          fs.mkdirSync(path.dirname(y), { recursive: true });
          fs.writeFileSync(y, yaml);
          run('modifyrepo_c', [
            '--mdtype=modules',
            '--compress-type',
            c === 'zst' ? 'gz' : c,
            y,
            path.join(base, 'repodata'),
          ]);
        }
        if (c === 'zst')
          for (const t of ['primary', 'filelists', 'other', 'modules'])
            repackZst(path.join(base, 'repodata'), t);
        const repomd = path.join(base, 'repodata', 'repomd.xml');
        run(
          'gpg',
          ['--batch', '--yes', '--armor', '--detach-sign', '-u', fpr, '-o', `${repomd}.asc`, repomd],
          { env },
        );
      }
    }
  } finally {
    try {
      run('gpgconf', ['--kill', 'gpg-agent'], { env });
    } catch {
      /* no agent was started */
    }
  }
  fs.rmSync(gnupg, { recursive: true, force: true });
  fs.rmSync(path.join(work, 'top'), { recursive: true, force: true });
  for (const a of UPSTREAM_ARCHES)
    fs.rmSync(path.join(work, `modules-${a}`), { recursive: true, force: true });
}

/** Builds (cached) and serves the upstream. */
export async function rpmUpstream(
  opts: { specs?: RpmSpec[]; roots?: string[]; compression?: UpstreamCompression } = {},
): Promise<RpmUpstream> {
  const specs = opts.specs ?? DEFAULT_SPECS;
  const built = buildRpmUpstream(specs, opts.compression);
  const server = await serveDir(built.root);
  const repoUrl = (repo: UpstreamRepo, arch: UpstreamArch): string => `${server.url}/9/${repo}/${arch}/os`;
  const repoDir = (repo: UpstreamRepo, arch: UpstreamArch): string =>
    path.join(built.root, '9', repo, arch, 'os');
  const rpmFiles = (repo: UpstreamRepo, arch: UpstreamArch): string[] => {
    const pk = path.join(repoDir(repo, arch), 'Packages');
    return fs
      .readdirSync(pk)
      .flatMap((l) => fs.readdirSync(path.join(pk, l)).map((f) => path.join(pk, l, f)))
      .sort();
  };
  const keyPath = '/RPM-GPG-KEY-Rocky-9-test';
  return {
    url: server.url,
    root: built.root,
    keyFile: built.keyFile,
    keyFingerprint: built.keyFingerprint,
    keyPath,
    roots: opts.roots ?? DEFAULT_ROOTS,
    specs,
    server,
    repoUrl,
    rpmFiles,
    dnfRepos: (arch, o = {}) =>
      (['BaseOS', 'AppStream'] as const).map((r) => ({
        id: r.toLowerCase(),
        baseurl: repoUrl(r, arch),
        gpgkey: `${server.url}${keyPath}`,
        gpgcheck: o.gpgcheck ?? true,
        repo_gpgcheck: o.repo_gpgcheck ?? true,
      })),
    tamper(kind, o = {}) {
      const dir = repoDir(o.repo ?? (kind === 'modules' ? 'AppStream' : 'BaseOS'), o.arch ?? 'x86_64');
      const rel = (abs: string): string => `/${path.relative(built.root, abs).split(path.sep).join('/')}`;
      let file: string;
      if (kind === 'repomd') file = path.join(dir, 'repodata', 'repomd.xml');
      else if (kind === 'unsigned') {
        const p = rel(path.join(dir, 'repodata', 'repomd.xml.asc'));
        server.overrides.set(p, null);
        return p;
      } else if (kind === 'primary' || kind === 'filelists' || kind === 'modules') {
        const repomd = fs.readFileSync(path.join(dir, 'repodata', 'repomd.xml'), 'utf8');
        const m = new RegExp(`<data type="${kind}">[\\s\\S]*?<location href="([^"]+)"`).exec(repomd);
        if (!m) throw new Error(`${rel(dir)} has no ${kind} metadata to tamper with`);
        file = path.join(dir, m[1]);
      } else
        file = o.file ?? rpmFiles(o.repo ?? 'BaseOS', o.arch ?? 'x86_64').find((f) => /ferry-core-/.test(f))!;
      const bytes = Buffer.from(fs.readFileSync(file));
      if (kind === 'repomd') {
        // Same length, still XML: only the signature can tell.
        const text = bytes
          .toString('utf8')
          .replace(/<revision>(\d)/, (_m, d: string) => `<revision>${(Number(d) + 1) % 10}`);
        file = rel(file);
        server.overrides.set(file, text);
        return file;
      }
      // A flipped byte near the end: inside the compressed stream / the payload, not the header.
      bytes[bytes.length - 8] ^= 0xff;
      const p = rel(file);
      server.overrides.set(p, bytes);
      return p;
    },
    untamper: () => server.overrides.clear(),
    close: () => server.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// The dnf oracle

export interface DnfRepo {
  id: string;
  baseurl: string;
  /** URL or file:// of the armored key(s); several separated by spaces. */
  gpgkey?: string;
  gpgcheck?: boolean;
  repo_gpgcheck?: boolean;
  module_hotfixes?: boolean;
}

const execFileP = promisify(execFile);

/** A throw-away dnf configuration: nothing of the host's dnf.conf, repos, cache or rpmdb. */
function dnfWorkdir(repos: DnfRepo[], arch: string): { dir: string; args: string[] } {
  fs.mkdirSync(path.join(os.tmpdir(), 'ferry-dnf'), { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-dnf', 'w-'));
  const reposd = path.join(dir, 'repos.d');
  fs.mkdirSync(reposd, { recursive: true });
  fs.mkdirSync(path.join(dir, 'log'), { recursive: true });
  const text = repos
    .map((r) =>
      [
        `[${r.id}]`,
        `name=${r.id}`,
        `baseurl=${r.baseurl}`,
        `gpgcheck=${r.gpgcheck ? 1 : 0}`,
        `repo_gpgcheck=${r.repo_gpgcheck ? 1 : 0}`,
        ...(r.gpgkey ? [`gpgkey=${r.gpgkey}`] : []),
        ...(r.module_hotfixes ? ['module_hotfixes=1'] : []),
        'enabled=1',
        'metadata_expire=0',
        '',
      ].join('\n'),
    )
    .join('\n');
  fs.writeFileSync(path.join(reposd, 'test.repo'), text);
  fs.writeFileSync(path.join(dir, 'dnf.conf'), '[main]\nkeepcache=0\n');
  const args = [
    '-y',
    `--config=${path.join(dir, 'dnf.conf')}`,
    `--installroot=${path.join(dir, 'root')}`,
    '--releasever=9',
    `--forcearch=${arch}`,
    `--setopt=reposdir=${reposd}`,
    `--setopt=cachedir=${path.join(dir, 'cache')}`,
    `--setopt=logdir=${path.join(dir, 'log')}`,
    `--setopt=persistdir=${path.join(dir, 'persist')}`,
    '--setopt=install_weak_deps=True',
    // The mirror's modules have no platform requirement, but without an id dnf warns on every run.
    '--setopt=module_platform_id=platform:el9',
    '--refresh',
  ];
  return { dir, args };
}

export interface DnfResult {
  /** Exit status (0 on success). */
  code: number;
  stdout: string;
  stderr: string;
}

async function dnf(args: string[]): Promise<DnfResult> {
  try {
    const { stdout, stderr } = await execFileP('dnf', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? String(err),
    };
  }
}

/**
 * `dnf install --downloadonly` into a bare installroot: the .rpm file names dnf chose
 * (sorted). Throws with dnf's output when it fails, unless `allowFailure` (then files is empty
 * and the result carries dnf's output, for negative tests). dnf checks package signatures
 * (gpgcheck=1) on --downloadonly too, before it reports success. Asynchronous, so an in-process
 * loopback server keeps answering.
 */
export async function dnfDownload(o: {
  repos: DnfRepo[];
  packages: string[];
  arch: string;
  allowFailure?: boolean;
  /** Install into the root for real (rpm runs, package signatures are checked), not only download. */
  install?: boolean;
  /** dnf's install_weak_deps (default true, dnf's own default): false skips Recommends. */
  weakDeps?: boolean;
  /** More dnf arguments before the command (--setopt=…, --exclude=…). */
  extraArgs?: string[];
}): Promise<{ files: string[] } & DnfResult> {
  const w = dnfWorkdir(o.repos, o.arch);
  const dl = path.join(w.dir, 'dl');
  try {
    const r = await dnf([
      ...w.args,
      // Later --setopt wins over the workdir's install_weak_deps=True.
      ...(o.weakDeps === false ? ['--setopt=install_weak_deps=False'] : []),
      ...(o.extraArgs ?? []),
      '--noplugins',
      'install',
      ...(o.install ? [] : ['--downloadonly', `--downloaddir=${dl}`]),
      ...o.packages,
    ]);
    if (r.code !== 0 && !o.allowFailure)
      throw new Error(`dnf install ${o.packages.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    let files: string[] = [];
    if (r.code === 0) {
      if (o.install) {
        files = (
          await execFileP(
            'rpm',
            [
              '--root',
              path.join(w.dir, 'root'),
              '-qa',
              '--qf',
              '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}.rpm\n',
            ],
            {
              encoding: 'utf8',
            },
          )
        ).stdout
          .split('\n')
          .filter((l) => l && !l.startsWith('gpg-pubkey-'));
      } else files = fs.existsSync(dl) ? fs.readdirSync(dl).filter((f) => f.endsWith('.rpm')) : [];
    }
    return { ...r, files: files.sort() };
  } finally {
    fs.rmSync(w.dir, { recursive: true, force: true });
  }
}

/** `dnf repoclosure` over the repos: the unresolved dependencies it lists, per package. */
export async function dnfRepoclosure(o: {
  repos: DnfRepo[];
  arch: string;
  /** Only check these repo ids (repoclosure --check); all when absent. */
  check?: string[];
}): Promise<{ unresolved: Map<string, string[]> } & DnfResult> {
  const w = dnfWorkdir(o.repos, o.arch);
  try {
    const r = await dnf([
      ...w.args,
      // Only the repoclosure plugin: Debian's 'local' plugin adds a repository that does not exist.
      '--disableplugin=*',
      '--enableplugin=repoclosure',
      'repoclosure',
      `--arch=${o.arch}`,
      '--arch=noarch',
      ...(o.check ?? []).flatMap((c) => ['--check', c]),
    ]);
    // "package: ferry-core-1.0-1.el9.x86_64\n  from baseos\n  unresolved deps:\n    dep"
    const unresolved = new Map<string, string[]>();
    let cur: string | undefined;
    let inDeps = false;
    for (const line of r.stdout.split('\n')) {
      const p = /^package: (\S+)/.exec(line);
      if (p) {
        cur = p[1];
        inDeps = false;
      } else if (/^\s+unresolved deps/.test(line)) inDeps = true;
      else if (cur && inDeps && /^\s{4}\S/.test(line))
        unresolved.set(cur, [...(unresolved.get(cur) ?? []), line.trim()]);
    }
    return { ...r, unresolved };
  } finally {
    fs.rmSync(w.dir, { recursive: true, force: true });
  }
}

/**
 * Repoclosure's unresolved entries that are not real failures: a conditional rich dependency
 * `(x if y)` whose condition nothing provides is listed by repoclosure though nothing is needed.
 */
export function realUnresolved(unresolved: Map<string, string[]>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [p, deps] of unresolved) {
    const real = deps.filter((d) => !/^\(.+ if .+\)$/.test(d));
    if (real.length) out.set(p, real);
  }
  return out;
}
