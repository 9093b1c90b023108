import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { kubesprayOsRoots, kubesprayPkgs } from '../../../src-main/core/kinds/deb/roots.js';
import { osModel } from '../../../src-main/core/kinds/os.js';
import { fromPlain, loadKubespray, type PyDict } from '../../../src-main/core/plan/catalog/index.js';
import { kubesprayDataDir, lacksCondition } from '../../helpers/tools.js';

const TAGS = ['v2.26.1', 'v2.27.1', 'v2.28.1', 'v2.29.1', 'v2.30.0', 'v2.31.0'];
const load = (tag: string) => loadKubespray({ dir: path.join(kubesprayDataDir, tag) });
const names = (r: { name: string }[]) => r.map((x) => x.name);
const vars = (v: Record<string, unknown>) => fromPlain(v) as PyDict;

describe.skipIf(lacksCondition(!fs.existsSync(kubesprayDataDir), kubesprayDataDir))(
  'Kubespray’s OS package roots, evaluated per tag and OS',
  () => {
    it('v2.31.0 under defaults: the counts the reference data states per OS', async () => {
      const data = await load('v2.31.0');
      const count = (id: string) => kubesprayPkgs(data, osModel(id)).length;
      expect(count('debian-12')).toBe(22);
      expect(count('ubuntu-22.04')).toBe(20);
      expect(count('ubuntu-24.04')).toBe(20);
      expect(count('rocky-9')).toBe(19);
      expect(count('alma-9')).toBe(19);
      expect(count('rhel-9')).toBe(20);
    });

    for (const tag of TAGS) {
      it(`${tag}: Debian and Ubuntu sets follow the facts and kube_proxy_mode`, async () => {
        const data = await load(tag);
        // Which schema the tag uses, read independently of Ferry's loader.
        const rel = fs.existsSync(path.join(kubesprayDataDir, tag, 'roles/system_packages/vars/main.yml'))
          ? 'roles/system_packages/vars/main.yml'
          : 'roles/kubernetes/preinstall/vars/main.yml';
        const raw = parse(fs.readFileSync(path.join(kubesprayDataDir, tag, rel), 'utf8')) as {
          pkgs: Record<string, unknown>;
        };
        const dictSchema = !Array.isArray(Object.values(raw.pkgs)[0]);
        expect(dictSchema).toBe(tag === 'v2.26.1');

        const deb12 = names(kubesprayPkgs(data, osModel('debian-12')));
        expect(deb12).toEqual(
          expect.arrayContaining([
            'conntrack',
            'iptables',
            'ipvsadm',
            'socat',
            'python3-apt',
            'mergerfs',
            'gnupg',
          ]),
        );
        expect(deb12).not.toContain('ipset');
        expect(deb12).not.toContain('container-selinux');
        expect(deb12).not.toContain('aufs-tools'); // Debian 10 only
        // Every name the set has is a key of the tag's own pkgs.
        for (const n of deb12) expect(Object.keys(raw.pkgs)).toContain(n);

        const iptables = names(
          kubesprayPkgs(data, osModel('debian-12'), { vars: vars({ kube_proxy_mode: 'iptables' }) }),
        );
        expect(iptables).toContain('ipset');
        expect(iptables).not.toContain('ipvsadm');

        for (const u of ['ubuntu-22.04', 'ubuntu-24.04']) {
          const set = names(kubesprayPkgs(data, osModel(u)));
          expect(set).toContain('python3-apt');
          expect(set).not.toContain('mergerfs'); // Debian 12 only
          expect(set).not.toContain('gnupg');
        }
        const rocky = names(kubesprayPkgs(data, osModel('rocky-9')));
        expect(rocky).toEqual(expect.arrayContaining(['container-selinux', 'libseccomp', 'conntrack']));
        expect(rocky).not.toContain('apt-transport-https');
      });
    }

    it('v2.26.1’s dict schema and v2.27.1’s conditions (the same data, converted) agree on every OS', async () => {
      const [dict, list] = await Promise.all([load('v2.26.1'), load('v2.27.1')]);
      for (const v of [{}, { kube_proxy_mode: 'iptables', ntp_enabled: true }]) {
        for (const id of [
          'debian-12',
          'debian-13',
          'ubuntu-22.04',
          'ubuntu-24.04',
          'rocky-9',
          'alma-9',
          'rhel-9',
        ]) {
          const a = names(kubesprayPkgs(dict, osModel(id), { vars: vars(v) })).sort();
          const b = names(kubesprayPkgs(list, osModel(id), { vars: vars(v) })).sort();
          expect({ id, v, names: a }).toEqual({ id, v, names: b });
        }
      }
    });

    it('reads the package data from a release tarball as from a folder', async () => {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deb-roots-tar-'));
      try {
        // GitHub's archive layout: everything under kubespray-<version>/.
        const top = path.join(tmp, 'kubespray-2.31.0');
        fs.cpSync(path.join(kubesprayDataDir, 'v2.31.0', 'roles'), path.join(top, 'roles'), {
          recursive: true,
        });
        const file = path.join(tmp, 'kubespray-2.31.0.tar.gz');
        await tar.c({ gzip: true, file, cwd: tmp }, ['kubespray-2.31.0']);
        const fromTar = await loadKubespray({ tarball: file });
        const fromDir = await load('v2.31.0');
        expect(Object.keys(fromTar.osPackageFiles ?? {})).toEqual(Object.keys(fromDir.osPackageFiles ?? {}));
        expect(names(kubesprayPkgs(fromTar, osModel('debian-12')))).toEqual(
          names(kubesprayPkgs(fromDir, osModel('debian-12'))),
        );
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    });

    it('the extras the cluster’s settings pull in, each with its reason', async () => {
      const data = await load('v2.31.0');
      const debian = osModel('debian-12');
      const plain = kubesprayOsRoots(data, debian);
      expect(names(plain)).toEqual(expect.arrayContaining(['python3-minimal', 'iputils-ping']));
      expect(names(plain)).not.toContain('python3-yaml');
      expect(names(plain)).not.toContain('docker-ce');

      const r = kubesprayOsRoots(data, debian, {
        vars: vars({
          container_manager: 'docker',
          helm_enabled: true,
          kube_network_plugin: 'calico',
          calico_wireguard_enabled: true,
          ntp_enabled: true,
          ntp_timezone: 'Etc/UTC',
        }),
        extra: ['htop', 'jq=1.6-2.1'],
      });
      const by = new Map(r.map((x) => [x.name, x]));
      // Kubespray's own pins for docker_version 28.3 on bookworm (roles/container-engine/docker/vars/debian.yml).
      expect(by.get('docker-ce')).toMatchObject({
        version: '5:28.3.3-1~debian.12~bookworm',
        source: 'docker',
      });
      expect(by.get('docker-ce-cli')).toMatchObject({ version: '5:28.3.3-1~debian.12~bookworm' });
      expect(by.get('containerd.io')?.version).toMatch(/^\d+\.\d+\.\d+-\d+$/);
      expect(by.get('python3-yaml')?.why).toMatch(/helm_enabled/);
      expect(by.get('wireguard')?.why).toMatch(/calico_wireguard_enabled/);
      expect(by.get('tzdata')?.why).toMatch(/ntp_timezone/);
      expect(by.get('ntp')?.why).toMatch(/ntp_enabled/);
      expect(by.get('jq')).toMatchObject({ version: '1.6-2.1', why: expect.stringMatching(/extra/) });
      expect(by.has('htop')).toBe(true);

      const ubuntu = kubesprayOsRoots(data, osModel('ubuntu-24.04'), {
        vars: vars({ container_manager: 'docker' }),
      });
      expect(ubuntu.find((x) => x.name === 'docker-ce')?.version).toBe('5:28.3.3-1~ubuntu.24.04~noble');
    });

    it('the deploy host gains Python at the version the tag needs, venv, ssh and rsync', async () => {
      const v31 = await load('v2.31.0');
      const deb = names(kubesprayOsRoots(v31, osModel('debian-12'), { deployHost: true }));
      expect(deb).toEqual(expect.arrayContaining(['python3', 'python3-venv', 'openssh-client', 'rsync']));
      // Ubuntu 22.04's python3 is 3.10; v2.31.0 needs 3.11, which jammy has as python3.11.
      const jammy = names(kubesprayOsRoots(v31, osModel('ubuntu-22.04'), { deployHost: true }));
      expect(jammy).toEqual(expect.arrayContaining(['python3.11', 'python3.11-venv']));
      expect(jammy).not.toContain('python3-venv');
      const v30 = await load('v2.30.0');
      expect(names(kubesprayOsRoots(v30, osModel('ubuntu-22.04'), { deployHost: true }))).toContain(
        'python3-venv',
      );
      expect(names(kubesprayOsRoots(v31, osModel('debian-12')))).not.toContain('openssh-client');
    });
  },
);
