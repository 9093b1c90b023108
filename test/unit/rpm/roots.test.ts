import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubesprayOsRoots, kubesprayVar, rpmPinned } from '../../../src-main/core/kinds/deb/roots.js';
import { osModel } from '../../../src-main/core/kinds/os.js';
import { fromPlain, loadKubespray, type PyDict } from '../../../src-main/core/plan/catalog/index.js';
import { kubesprayDataDir, lacksCondition } from '../../helpers/tools.js';

const load = (tag: string) => loadKubespray({ dir: path.join(kubesprayDataDir, tag) });
const vars = (v: Record<string, unknown>) => fromPlain(v) as PyDict;

describe('rpmPinned: dnf’s NAME-[EPOCH:]VERSION-RELEASE', () => {
  it('splits Kubespray’s pins and leaves bare names alone', () => {
    expect(rpmPinned('docker-ce-3:28.3.3-1.el9')).toEqual({ name: 'docker-ce', version: '3:28.3.3-1.el9' });
    expect(rpmPinned('containerd.io-1.6.32-3.1.el9')).toEqual({
      name: 'containerd.io',
      version: '1.6.32-3.1.el9',
    });
    expect(rpmPinned('container-selinux')).toEqual({ name: 'container-selinux' });
    expect(rpmPinned('python3.12')).toEqual({ name: 'python3.12' });
    expect(rpmPinned('foo=1:2.0-3')).toEqual({ name: 'foo', version: '1:2.0-3' });
  });
});

describe.skipIf(lacksCondition(!fs.existsSync(kubesprayDataDir), kubesprayDataDir))(
  'Kubespray v2.31.0 roots for the RHEL family',
  () => {
    it('Rocky 9 under defaults: the RedHat pkgs, python3 for Ansible, nothing Debian', async () => {
      const data = await load('v2.31.0');
      const r = kubesprayOsRoots(data, osModel('rocky-9'));
      const names = r.map((x) => x.name);
      expect(names).toEqual(
        expect.arrayContaining([
          'conntrack',
          'container-selinux',
          'device-mapper-libs',
          'iproute',
          'iptables',
          'libseccomp',
          'nss',
          'socat',
          'python3',
        ]),
      );
      for (const n of ['iproute2', 'python3-apt', 'apparmor', 'libseccomp2', 'python3-libselinux'])
        expect(names).not.toContain(n);
      // RHEL proper adds python3-libselinux (Kubespray: ansible_distribution in RedHat, CentOS).
      expect(kubesprayOsRoots(data, osModel('rhel-10')).map((x) => x.name)).toContain('python3-libselinux');
    });

    it('container_manager: docker pins docker-ce, its CLI and containerd.io at Kubespray’s versions', async () => {
      const data = await load('v2.31.0');
      for (const [id, el] of [
        ['alma-9', 'el9'],
        ['rocky-10', 'el10'],
      ] as const) {
        const r = kubesprayOsRoots(data, osModel(id), { vars: vars({ container_manager: 'docker' }) });
        const docker = r.filter((x) => x.source === 'docker').map((x) => `${x.name} ${x.version}`);
        expect(docker).toEqual([
          `containerd.io 1.6.32-3.1.${el}`,
          `docker-ce-cli 1:28.3.3-1.${el}`,
          `docker-ce 3:28.3.3-1.${el}`,
        ]);
      }
    });

    it('epel_enabled is read from the cluster’s variables', async () => {
      const data = await load('v2.31.0');
      expect(kubesprayVar(data, osModel('rocky-9'), {}, 'epel_enabled')).toBe(false);
      expect(
        kubesprayVar(data, osModel('rocky-9'), { vars: vars({ epel_enabled: true }) }, 'epel_enabled'),
      ).toBe(true);
    });
  },
);
