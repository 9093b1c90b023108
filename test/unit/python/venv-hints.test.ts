import { describe, expect, it } from 'vitest';
import { parseOsRelease, pythonPackageHint } from '../../../src-main/core/kinds/python/venv.js';

const DEBIAN12 =
  'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';
const UBUNTU2204 = 'NAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nID_LIKE=debian\n';
const ROCKY9 = 'NAME="Rocky Linux"\nVERSION_ID="9.4"\nID="rocky"\nID_LIKE="rhel centos fedora"\n';

describe('the OS package a deploy host needs for the offline venv', () => {
  it('reads os-release', () => {
    expect(parseOsRelease(ROCKY9)).toEqual({
      id: 'rocky',
      like: ['rhel', 'centos', 'fedora'],
      version: '9.4',
    });
  });
  it('Debian without python3-venv: the versioned venv package', () => {
    const h = pythonPackageHint(DEBIAN12, 'no-venv', { have: '3.11', need: '3.11' });
    expect(h.packages).toEqual(['python3.11-venv']);
    expect(h.hint).toContain('apt install python3.11-venv');
  });
  it('Ubuntu 22.04 for Kubespray v2.31: python3.11 from the archive, and --python', () => {
    const h = pythonPackageHint(UBUNTU2204, 'too-old', { have: '3.10', need: '3.11' });
    expect(h.packages).toEqual(['python3.11', 'python3.11-venv']);
    expect(h.hint).toContain('--python python3.11');
  });
  it('Rocky 9: the AppStream Python with its pip', () => {
    const h = pythonPackageHint(ROCKY9, 'too-old', { have: '3.9', need: '3.11' });
    expect(h.packages).toEqual(['python3.11', 'python3.11-pip']);
    expect(h.hint).toBe(
      'Install them: dnf install python3.11 python3.11-pip, then pass --python python3.11.',
    );
  });
  it('an unknown OS gets the version to look for', () => {
    expect(pythonPackageHint('', 'no-python', { need: '3.11' }).hint).toContain('Python 3.11 or newer');
  });
});

describe('when the bundle carries the OS package too', () => {
  it('says it is in the bundle’s repository', async () => {
    const { withBundleNote } = await import('../../../src-main/core/kinds/python/venv.js');
    const source = {
      id: 'b',
      manifest: {
        artifacts: [
          {
            id: 'deb:debian-12/python3.11-venv_3.11.2-6_amd64',
            kind: 'deb',
            os: 'debian-12',
            package: 'python3.11-venv',
            version: '3.11.2-6',
            arch: 'amd64',
            sha256: 'a'.repeat(64),
            size: 1,
            paths: ['debs/x.deb'],
          },
        ],
      },
    } as never;
    const h = pythonPackageHint(DEBIAN12, 'no-venv', { have: '3.11', need: '3.11' });
    expect(withBundleNote(h, [source])).toBe(
      `${h.hint} python3.11-venv is in this bundle's package repository (ferry serve; ferry vars names it).`,
    );
    expect(withBundleNote(h, [])).toBe(h.hint);
  });
});
