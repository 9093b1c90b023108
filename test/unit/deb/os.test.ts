import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEBIAN_ARCHIVE_KEYRING } from '../../../src-main/core/kinds/deb/keyrings.js';
import { readKeyring } from '../../../src-main/core/kinds/deb/release.js';
import {
  DEB_OS_IDS,
  OS_IDS,
  defaultSuites,
  osModel,
  parseOsList,
  requireDebFamily,
} from '../../../src-main/core/kinds/os.js';
import { NODE_OSES } from '../../../src-main/ipc/choices.js';

describe('target OS model', () => {
  it('parses repeatable and comma-separated --os values, refusing unknown ones by name', () => {
    expect(parseOsList(['debian-12,ubuntu-24.04', 'debian-12'])).toEqual(['debian-12', 'ubuntu-24.04']);
    expect(parseOsList([])).toBeUndefined();
    expect(() => parseOsList(['debian-11'])).toThrow(/Unknown target OS 'debian-11'/);
    expect(() => requireDebFamily('rocky-9')).toThrow(/RPM/);
  });

  it('offers the app the same OS list the core plans for', () => {
    expect([...NODE_OSES].sort()).toEqual([...OS_IDS].sort());
    expect(DEB_OS_IDS.every((id) => (NODE_OSES as readonly string[]).includes(id))).toBe(true);
  });

  it('has the facts Kubespray’s conditions read', () => {
    expect(osModel('ubuntu-22.04').facts).toEqual({
      ansible_os_family: 'Debian',
      ansible_distribution: 'Ubuntu',
      ansible_distribution_major_version: '22',
      ansible_distribution_version: '22.04',
      ansible_distribution_release: 'jammy',
    });
    expect(osModel('debian-13').facts.ansible_distribution_release).toBe('trixie');
    expect(osModel('rocky-9')).toMatchObject({ family: 'rpm', facts: { ansible_os_family: 'RedHat' } });
  });

  it('Debian: main archive, -updates and the security archive, the same for both arches', () => {
    const s = defaultSuites(osModel('debian-12'), 'arm64');
    expect(s.map((x) => `${x.uri} ${x.suite} ${x.components.join(',')}`)).toEqual([
      'https://deb.debian.org/debian bookworm main',
      'https://deb.debian.org/debian bookworm-updates main',
      'https://deb.debian.org/debian-security bookworm-security main',
    ]);
  });

  it('Ubuntu: archive and security for amd64, ports for arm64, universe included', () => {
    const amd = defaultSuites(osModel('ubuntu-24.04'), 'amd64');
    expect(amd.map((x) => `${x.uri} ${x.suite}`)).toEqual([
      'http://archive.ubuntu.com/ubuntu noble',
      'http://archive.ubuntu.com/ubuntu noble-updates',
      'http://security.ubuntu.com/ubuntu noble-security',
    ]);
    const arm = defaultSuites(osModel('ubuntu-22.04'), 'arm64');
    expect(new Set(arm.map((x) => x.uri))).toEqual(new Set(['http://ports.ubuntu.com/ubuntu-ports']));
    expect(arm.map((x) => x.suite)).toEqual(['jammy', 'jammy-updates', 'jammy-security']);
    for (const x of [...amd, ...arm]) expect(x.components).toEqual(['main', 'universe']);
  });

  it('ships Debian’s archive keyring, identical in resources/ and in the code', async () => {
    const file = fs.readFileSync(
      path.join(__dirname, '../../../resources/keyrings/debian-archive-keyring.gpg'),
    );
    expect(Buffer.from(DEBIAN_ARCHIVE_KEYRING()).equals(file)).toBe(true);
    const keys = await readKeyring(DEBIAN_ARCHIVE_KEYRING());
    const uids = keys.flatMap((k) => k.getUserIDs()).join('\n');
    expect(uids).toMatch(/Debian Stable Release Key \(12\/bookworm\)/);
    expect(uids).toMatch(/Debian Security Archive Automatic Signing Key \(12\/bookworm\)/);
  });
});
