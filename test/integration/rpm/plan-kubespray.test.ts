import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { runCli } from '../../../src-main/cli/main.js';
import { HttpClient } from '../../../src-main/core/fetch/download/http-client.js';
import type { ResolvedRpmSet } from '../../../src-main/core/kinds/rpm/set.js';
import {
  osPackagesSettings,
  planOsPackages,
  rpmPackagesSummary,
} from '../../../src-main/core/kinds/deb/plan-request.js';
import { kubesprayOsRoots } from '../../../src-main/core/kinds/deb/roots.js';
import { osModel } from '../../../src-main/core/kinds/os.js';
import { loadKubespray, type KubesprayData } from '../../../src-main/core/plan/catalog/index.js';
import { parsePlan } from '../../../src-main/core/plan/plan.js';
import { serveDir, type StaticServer } from '../../helpers/static-server.js';
import { kubesprayDataDir, lacksCondition } from '../../helpers/tools.js';

/**
 * Kubespray v2.31.0's real Rocky 9 root set, evaluated from the shared Kubespray data, resolved
 * through the whole planning path (settings → repomd signature → primary and filelists against
 * their checksums → resolution) against a synthetic BaseOS/AppStream that provides those names
 * the way Rocky does: `conntrack` only as a provide of conntrack-tools, `/bin/sh` only in bash's
 * filelists, versioned requires on glibc, python3's exact python3-libs.
 */
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface Pkg {
  name: string;
  arch: string;
  ver?: string;
  rel?: string;
  provides?: string[];
  requires?: string[];
  files?: string[];
  /** Paths only filelists lists. */
  allFiles?: string[];
  epoch?: number;
}

function entry(dep: string): string {
  const m = /^(\S+)(?: (>=|=) (\S+))?$/.exec(dep)!;
  if (!m[2]) return `<rpm:entry name="${esc(m[1])}"/>`;
  const [ver, rel] = m[3].split('-');
  return `<rpm:entry name="${esc(m[1])}" flags="${m[2] === '=' ? 'EQ' : 'GE'}" epoch="0" ver="${ver}"${rel ? ` rel="${rel}"` : ''}/>`;
}

function repodata(dir: string, pkgs: Pkg[]): void {
  const ids = pkgs.map((p) => sha(Buffer.from(`${p.name}-${p.ver ?? ''}.${p.arch}`)));
  const primary = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="${pkgs.length}">`,
    ...pkgs.map((p, i) => {
      const ver = p.ver ?? '1.0';
      const rel = p.rel ?? '1.el9';
      return `<package type="rpm"><name>${p.name}</name><arch>${p.arch}</arch><version epoch="${p.epoch ?? 0}" ver="${ver}" rel="${rel}"/>
<checksum type="sha256" pkgid="YES">${ids[i]}</checksum><summary>${p.name}</summary><description>x</description><packager>t</packager><url></url>
<time file="1" build="1"/><size package="${1000 + i}" installed="1" archive="1"/><location href="Packages/${p.name[0]}/${p.name}-${ver}-${rel}.${p.arch}.rpm"/>
<format><rpm:license>MIT</rpm:license><rpm:sourcerpm>${p.name}-${ver}-${rel}.src.rpm</rpm:sourcerpm><rpm:header-range start="1" end="2"/>
<rpm:provides><rpm:entry name="${p.name}" flags="EQ" epoch="${p.epoch ?? 0}" ver="${ver}" rel="${rel}"/>${(p.provides ?? []).map(entry).join('')}</rpm:provides>
<rpm:requires>${(p.requires ?? []).map(entry).join('')}</rpm:requires>
${(p.files ?? []).map((f) => `<file>${f}</file>`).join('')}</format></package>`;
    }),
    '</metadata>',
    '',
  ].join('\n');
  const filelists = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="${pkgs.length}">`,
    ...pkgs.map(
      (p, i) =>
        `<package pkgid="${ids[i]}" name="${p.name}" arch="${p.arch}"><version epoch="${p.epoch ?? 0}" ver="${p.ver ?? '1.0'}" rel="${p.rel ?? '1.el9'}"/>${[...(p.files ?? []), ...(p.allFiles ?? [])].map((f) => `<file>${f}</file>`).join('')}</package>`,
    ),
    '</filelists>',
    '',
  ].join('\n');
  fs.mkdirSync(path.join(dir, 'repodata'), { recursive: true });
  const data = (type: string, body: string): string => {
    const gz = gzipSync(Buffer.from(body));
    const href = `repodata/${sha(gz)}-${type}.xml.gz`;
    fs.writeFileSync(path.join(dir, href), gz);
    return `<data type="${type}"><checksum type="sha256">${sha(gz)}</checksum><open-checksum type="sha256">${sha(Buffer.from(body))}</open-checksum><location href="${href}"/><timestamp>1</timestamp><size>${gz.length}</size><open-size>${body.length}</open-size></data>`;
  };
  fs.writeFileSync(
    path.join(dir, 'repodata/repomd.xml'),
    `<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>42</revision>${data('primary', primary)}${data('filelists', filelists)}</repomd>\n`,
  );
}

describe.skipIf(lacksCondition(!fs.existsSync(kubesprayDataDir), kubesprayDataDir))(
  'Kubespray v2.31.0 Rocky 9 roots, planned end to end',
  () => {
    let dir: string;
    let server: StaticServer;
    let client: HttpClient;
    let data: KubesprayData;
    let keyFile: string;
    let dockerKeyFile: string;
    const rocky = osModel('rocky-9');

    beforeAll(async () => {
      data = await loadKubespray({ dir: path.join(kubesprayDataDir, 'v2.31.0') });
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpm-plan-kubespray-'));
      const roots = kubesprayOsRoots(data, rocky).map((r) => r.name);
      const k = await openpgp.generateKey({
        userIDs: [{ name: 'mirror' }],
        type: 'ecc',
        curve: 'ed25519Legacy',
      });
      keyFile = path.join(dir, 'mirror.asc');
      fs.writeFileSync(keyFile, k.publicKey);
      const priv = await openpgp.readPrivateKey({ armoredKey: k.privateKey });
      const dk = await openpgp.generateKey({
        userIDs: [{ name: 'docker' }],
        type: 'ecc',
        curve: 'ed25519Legacy',
      });
      dockerKeyFile = path.join(dir, 'docker.asc');
      fs.writeFileSync(dockerKeyFile, dk.publicKey);
      const dockerPriv = await openpgp.readPrivateKey({ armoredKey: dk.privateKey });
      for (const arch of ['x86_64', 'aarch64']) {
        const base: Pkg[] = [
          { name: 'glibc', arch, ver: '2.34', rel: '168.el9_6.23', files: ['/usr/sbin/ldconfig'] },
          {
            name: 'bash',
            arch,
            ver: '5.1.8',
            rel: '9.el9',
            files: ['/usr/bin/bash'],
            allFiles: ['/bin/sh', '/usr/share/doc/bash/README'],
          },
          { name: 'conntrack-tools', arch, provides: ['conntrack'], requires: ['glibc >= 2.34'] },
          { name: 'python3-libs', arch, ver: '3.9.21', rel: '2.el9', requires: ['glibc >= 2.34'] },
        ];
        const app: Pkg[] = [];
        for (const name of roots) {
          if (name === 'conntrack') continue;
          const p: Pkg = {
            name,
            arch: name === 'container-selinux' ? 'noarch' : arch,
            requires: ['glibc >= 2.34', '/bin/sh'],
          };
          if (name === 'python3')
            Object.assign(p, { ver: '3.9.21', rel: '2.el9', requires: ['python3-libs = 3.9.21-2.el9'] });
          // Rocky ships container-selinux (and socat, ipvsadm) in AppStream.
          (['container-selinux', 'socat', 'ipvsadm', 'python3'].includes(name) ? app : base).push(p);
        }
        // Docker's repository: Kubespray's pinned builds, and a newer one that must not be chosen.
        repodata(path.join(dir, 'docker', '9', arch, 'stable'), [
          { name: 'containerd.io', arch, ver: '1.6.32', rel: '3.1.el9', requires: ['glibc >= 2.34'] },
          { name: 'containerd.io', arch, ver: '1.7.27', rel: '3.1.el9', requires: ['glibc >= 2.34'] },
          { name: 'docker-ce-cli', arch, ver: '28.3.3', rel: '1.el9', epoch: 1 },
          {
            name: 'docker-ce',
            arch,
            ver: '28.3.3',
            rel: '1.el9',
            epoch: 3,
            requires: ['containerd.io >= 1.6.24', 'docker-ce-cli'],
          },
          {
            name: 'docker-ce',
            arch,
            ver: '29.0.0',
            rel: '1.el9',
            epoch: 3,
            requires: ['containerd.io >= 1.7.0', 'docker-ce-cli'],
          },
        ]);
        repodata(path.join(dir, '9', 'BaseOS', arch, 'os'), base);
        repodata(path.join(dir, '9', 'AppStream', arch, 'os'), app);
        for (const r of [path.join('9', 'BaseOS', arch, 'os'), path.join('9', 'AppStream', arch, 'os')]) {
          const md = fs.readFileSync(path.join(dir, r, 'repodata/repomd.xml'));
          const sig = await openpgp.sign({
            message: await openpgp.createMessage({ binary: md }),
            signingKeys: priv,
            detached: true,
          });
          fs.writeFileSync(path.join(dir, r, 'repodata/repomd.xml.asc'), sig);
        }
        // Docker's repomd is signed by Docker's key (a second throw-away key here).
        const dmd = fs.readFileSync(path.join(dir, 'docker', '9', arch, 'stable', 'repodata/repomd.xml'));
        const dsig = await openpgp.sign({
          message: await openpgp.createMessage({ binary: dmd }),
          signingKeys: dockerPriv,
          detached: true,
        });
        fs.writeFileSync(path.join(dir, 'docker', '9', arch, 'stable', 'repodata/repomd.xml.asc'), dsig);
      }
      server = await serveDir(dir);
      client = new HttpClient({ retry: { attempts: 1 } });
    });

    afterAll(async () => {
      await client?.close();
      await server?.close();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('resolves every root for both arches through --rpm-repo and --rpm-key, into plan.json', async () => {
      const settings = osPackagesSettings({
        os: ['rocky-9'],
        rpmRepos: [`rocky-9=${server.url}/9`],
        rpmKeys: [`rocky-9=${keyFile}`],
      });
      const r = await planOsPackages(
        settings,
        { data, options: { arches: ['amd64', 'arm64'] } },
        { client, cacheDir: path.join(dir, 'cache', 'apt'), rpmCacheDir: path.join(dir, 'cache', 'dnf') },
      );
      expect(r.debs).toEqual([]);
      expect(r.rpms).toHaveLength(1);
      const set = r.rpms[0];
      const roots = kubesprayOsRoots(data, rocky);
      expect(set.roots.map((x) => x.name)).toEqual(roots.map((x) => x.name));
      for (const arch of ['x86_64', 'aarch64']) {
        const names = set.packages
          .filter((p) => p.repoArch === arch)
          .map((p) => p.name)
          .sort();
        const want = [
          ...roots.map((x) => (x.name === 'conntrack' ? 'conntrack-tools' : x.name)),
          'glibc',
          'bash',
          'python3-libs',
        ].sort();
        expect(names).toEqual([...new Set(want)]);
      }
      expect(set.sources.every((s) => s.repomdSigned)).toBe(true);
      // bash is there only because /bin/sh is in its filelists, not in primary.
      expect(set.packages.find((p) => p.name === 'bash')?.why).toMatch(/\/bin\/sh/);
      // The set round-trips through plan.json.
      const plan = parsePlan({
        kubespray: 'v2.31.0',
        kubeVersion: '1.35.4',
        arches: ['amd64'],
        files: [],
        images: [],
        rpms: r.rpms,
      });
      expect(plan.rpms).toEqual(r.rpms);
      const text = rpmPackagesSummary(r.rpms).join('\n');
      expect(text).toMatch(/OS packages for rocky-9 \(x86_64, aarch64\): \d+ roots → \d+ packages/);
      expect(text).toMatch(/conntrack-tools-1\.0-1\.el9\.x86_64 +0\.0 MB {2}baseos/);
      expect(text).toContain('(repomd signed)');
    });

    it('ferry plan --os rocky-9 --rpm-repo … --rpm-key … prints the set and puts it in plan.json', async () => {
      const run = async (extra: string[]): Promise<{ code: number; out: string; err: string }> => {
        const stdout = new PassThrough();
        const stderr = new PassThrough();
        let out = '';
        let err = '';
        stdout.on('data', (c) => (out += c));
        stderr.on('data', (c) => (err += c));
        const code = await runCli(
          [
            'plan',
            '--kubespray',
            path.join(kubesprayDataDir, 'v2.31.0'),
            '--arch',
            'arm64',
            '--os',
            'rocky-9',
            '--rpm-repo',
            `rocky-9=${server.url}/9`,
            '--rpm-key',
            `rocky-9=${keyFile}`,
            '--offline',
            ...extra,
          ],
          {
            stdout,
            stderr,
            env: { FERRY_DATA_DIR: path.join(dir, 'data') },
            signal: new AbortController().signal,
          },
        );
        return { code, out, err };
      };
      const j = await run(['--json']);
      expect(j.err).not.toMatch(/error/i);
      expect(j.code).toBe(0);
      const json = JSON.parse(j.out) as { rpms: ResolvedRpmSet[] };
      expect(json.rpms).toHaveLength(1);
      expect(json.rpms[0]).toMatchObject({ os: 'rocky-9', arches: ['aarch64'] });
      expect(json.rpms[0].packages.map((p) => p.name)).toContain('conntrack-tools');
      const t = await run([]);
      expect(t.code).toBe(0);
      expect(t.out).toMatch(
        new RegExp(
          `OS packages for rocky-9 \\(aarch64\\): \\d+ roots → ${json.rpms[0].packages.length} packages`,
        ),
      );
      expect(t.out).toMatch(/^ {4}conntrack-tools-1\.0-1\.el9\.aarch64 +0\.0 MB {2}baseos$/m);
      // A bad --rpm-repo is a usage error naming the flag.
      const bad = await run(['--rpm-repo', 'debian-12=http://x/']);
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(/--rpm-repo names Debian 12/);
    }, 120_000);

    it('container_manager: docker adds Docker’s repository and takes Kubespray’s pinned builds', async () => {
      const mirrors = { 'https://download.docker.com/linux/rhel/': `${server.url}/docker/` };
      const options = { arches: ['amd64'], vars: { container_manager: 'docker' } };
      const settings = osPackagesSettings({
        os: ['rocky-9'],
        rpmRepos: [`rocky-9=${server.url}/9`],
        rpmKeys: [`rocky-9=${keyFile}`, `docker=${dockerKeyFile}`],
      });
      const r = await planOsPackages(
        settings,
        { data, options },
        { client, cacheDir: path.join(dir, 'cache-d', 'apt'), mirrors },
      );
      const set = r.rpms[0];
      expect(set.sources.map((s) => s.id)).toEqual(['baseos', 'appstream', 'docker-ce-stable']);
      // The source records the real URL; the mirror only changed where the bytes came from.
      expect(set.sources[2].uri).toBe('https://download.docker.com/linux/rhel/9/x86_64/stable');
      const docker = set.packages
        .filter((p) => p.source === 'docker-ce-stable')
        .map((p) => `${p.name}-${p.epoch}:${p.version}-${p.release}`)
        .sort();
      expect(docker).toEqual([
        'containerd.io-0:1.6.32-3.1.el9',
        'docker-ce-3:28.3.3-1.el9',
        'docker-ce-cli-1:28.3.3-1.el9',
      ]);
      expect(set.keys?.map((k) => `${k.file} ${k.sources?.join(',')}`)).toEqual([
        'RPM-GPG-KEY-rocky-9-given baseos,appstream',
        'RPM-GPG-KEY-docker-given docker-ce-stable',
      ]);
      // Without --rpm-key docker=… Docker's pinned key is fetched: the mirror's has another fingerprint.
      server.overrides.set('/docker/gpg', fs.readFileSync(dockerKeyFile));
      try {
        await expect(
          planOsPackages(
            osPackagesSettings({
              os: ['rocky-9'],
              rpmRepos: [`rocky-9=${server.url}/9`],
              rpmKeys: [`rocky-9=${keyFile}`],
            }),
            { data, options },
            { client, cacheDir: path.join(dir, 'cache-e', 'apt'), mirrors },
          ),
        ).rejects.toMatchObject({
          code: 'SIGNATURE',
          artifact: 'https://download.docker.com/linux/rhel/gpg',
          message: expect.stringContaining('060A61C51B558A7F742B77AAC52FEB6B621E9F35'),
        });
      } finally {
        server.overrides.delete('/docker/gpg');
      }
    });

    it('RHEL with no base URL is refused naming --rpm-repo, before any request', async () => {
      const before = server.requests.length;
      await expect(
        planOsPackages(
          osPackagesSettings({ os: ['rhel-9'] }),
          { data, options: { arches: ['amd64'] } },
          { client, cacheDir: path.join(dir, 'cache2', 'apt') },
        ),
      ).rejects.toMatchObject({ code: 'CONFIG', hint: expect.stringContaining('--rpm-repo rhel-9=URL') });
      expect(server.requests.length).toBe(before);
    });
  },
);
