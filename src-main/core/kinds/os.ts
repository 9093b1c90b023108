/**
 * The operating systems Ferry plans OS packages for: the facts Kubespray's Jinja conditions read
 * (what `setup` would report on such a node), the package family, and the public archives the
 * packages come from by default. Pure data and functions: no I/O, so the app, the CLI and tests
 * share one model. The RPM family has its slot (facts, family) but no archive model yet.
 */
import { FerryError } from '../base/errors/index.js';

export type OsFamily = 'deb' | 'rpm';

/** The Ansible facts Kubespray's package conditions use (roles/system_packages, preinstall). */
export interface OsFacts {
  ansible_os_family: string;
  ansible_distribution: string;
  ansible_distribution_major_version: string;
  ansible_distribution_version: string;
  ansible_distribution_release: string;
}

/** One apt suite of an archive: `deb <uri> <suite> <components…>`. */
export interface AptSuite {
  uri: string;
  suite: string;
  components: string[];
  /** Which keyring of the OS verifies it ('distro' = the distribution's archive keyring). */
  keyring: 'distro' | 'docker';
}

export interface OsModel {
  /** Ferry's id, as --os takes it: debian-12, ubuntu-24.04, rocky-9. */
  id: string;
  family: OsFamily;
  /** Display name for the app and `ferry plan`. */
  title: string;
  facts: OsFacts;
  /** The system Python 3 (minor version) the OS ships as `python3`. */
  python: string;
  /** Debian architectures Ferry supports for it. */
  arches: string[];
  /**
   * Where the distribution's archive keyring comes from: Ferry ships Debian's (resources/keyrings);
   * Ubuntu's must be given by the user (ubuntu-keyring is not installable on a Debian host, and
   * Ferry does not carry keys it could not check).
   */
  keyring?: { shipped?: string; path: string; package: string };
}

const debian = (major: string, version: string, codename: string, python: string): OsModel => ({
  id: `debian-${major}`,
  family: 'deb',
  title: `Debian ${major} (${codename})`,
  facts: {
    ansible_os_family: 'Debian',
    ansible_distribution: 'Debian',
    ansible_distribution_major_version: major,
    ansible_distribution_version: version,
    ansible_distribution_release: codename,
  },
  python,
  arches: ['amd64', 'arm64'],
  keyring: {
    shipped: 'debian-archive-keyring.gpg',
    path: '/usr/share/keyrings/debian-archive-keyring.gpg',
    package: 'debian-archive-keyring',
  },
});

const ubuntu = (version: string, codename: string, python: string): OsModel => ({
  id: `ubuntu-${version}`,
  family: 'deb',
  title: `Ubuntu ${version} (${codename})`,
  facts: {
    ansible_os_family: 'Debian',
    ansible_distribution: 'Ubuntu',
    ansible_distribution_major_version: version.split('.')[0],
    ansible_distribution_version: version,
    ansible_distribution_release: codename,
  },
  python,
  arches: ['amd64', 'arm64'],
  keyring: { path: '/usr/share/keyrings/ubuntu-archive-keyring.gpg', package: 'ubuntu-keyring' },
});

const el = (id: string, distribution: string, title: string): OsModel => ({
  id,
  family: 'rpm',
  title,
  facts: {
    ansible_os_family: 'RedHat',
    ansible_distribution: distribution,
    ansible_distribution_major_version: '9',
    ansible_distribution_version: '9.6',
    ansible_distribution_release: distribution === 'RedHat' ? 'Plow' : 'Blue Onyx',
  },
  python: '3.9',
  arches: ['amd64', 'arm64'],
});

export const OS_MODELS: readonly OsModel[] = [
  debian('12', '12.12', 'bookworm', '3.11'),
  debian('13', '13.2', 'trixie', '3.13'),
  ubuntu('22.04', 'jammy', '3.10'),
  ubuntu('24.04', 'noble', '3.12'),
  el('rocky-9', 'Rocky', 'Rocky Linux 9'),
  el('alma-9', 'AlmaLinux', 'AlmaLinux 9'),
  el('rhel-9', 'RedHat', 'Red Hat Enterprise Linux 9'),
];

export const OS_IDS = OS_MODELS.map((o) => o.id);
/** The ids this version of Ferry can plan packages for (the deb family). */
export const DEB_OS_IDS = OS_MODELS.filter((o) => o.family === 'deb').map((o) => o.id);

export function osModel(id: string): OsModel {
  const m = OS_MODELS.find((o) => o.id === id);
  if (!m) {
    throw new FerryError('USAGE', `Unknown target OS '${id}'.`, {
      artifact: id,
      hint: `Use one of ${OS_IDS.join(', ')}.`,
    });
  }
  return m;
}

/** Parses repeatable / comma-separated --os values into known, de-duplicated ids. */
export function parseOsList(values: string[] | undefined): string[] | undefined {
  if (!values?.length) return undefined;
  const ids = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim().toLowerCase())
    .filter(Boolean);
  for (const id of ids) osModel(id);
  return [...new Set(ids)];
}

/** Refuses an OS whose family Ferry does not carry packages for yet, naming what works. */
export function requireDebFamily(id: string): OsModel {
  const m = osModel(id);
  if (m.family !== 'deb') {
    throw new FerryError('UNSUPPORTED', `OS packages for ${m.title} (RPM) are not carried yet.`, {
      artifact: id,
      hint: `Ferry plans OS packages for ${DEB_OS_IDS.join(', ')}; leave ${id} out of --os for now.`,
    });
  }
  return m;
}

/**
 * The public archives a node of `os` installs from on `arch`, as its stock sources list says.
 * Debian: one archive for every architecture, plus the security archive (whose Release announces
 * `Components: updates/main` while the files sit under main/; the index lookup accepts both).
 * Ubuntu: archive.ubuntu.com and security.ubuntu.com carry amd64 (and i386) only; every other
 * architecture is on ports.ubuntu.com, all pockets in one tree. `universe` holds some of
 * Kubespray's packages (mergerfs, python3.11 on jammy), so it is always included.
 */
export function defaultSuites(os: OsModel, arch: string): AptSuite[] {
  if (os.family !== 'deb') requireDebFamily(os.id);
  const code = os.facts.ansible_distribution_release;
  if (os.facts.ansible_distribution === 'Debian') {
    const main = ['main'];
    return [
      { uri: 'https://deb.debian.org/debian', suite: code, components: main, keyring: 'distro' },
      { uri: 'https://deb.debian.org/debian', suite: `${code}-updates`, components: main, keyring: 'distro' },
      {
        uri: 'https://deb.debian.org/debian-security',
        suite: `${code}-security`,
        components: main,
        keyring: 'distro',
      },
    ];
  }
  const comps = ['main', 'universe'];
  if (arch === 'amd64') {
    return [
      { uri: 'http://archive.ubuntu.com/ubuntu', suite: code, components: comps, keyring: 'distro' },
      {
        uri: 'http://archive.ubuntu.com/ubuntu',
        suite: `${code}-updates`,
        components: comps,
        keyring: 'distro',
      },
      {
        uri: 'http://security.ubuntu.com/ubuntu',
        suite: `${code}-security`,
        components: comps,
        keyring: 'distro',
      },
    ];
  }
  const ports = 'http://ports.ubuntu.com/ubuntu-ports';
  return ['', '-updates', '-security'].map((p) => ({
    uri: ports,
    suite: `${code}${p}`,
    components: comps,
    keyring: 'distro' as const,
  }));
}

/** Docker's apt repository for the node OS, when container_manager is docker. */
export function dockerSuite(os: OsModel, baseUrl?: string): AptSuite {
  const dist = os.facts.ansible_distribution.toLowerCase();
  return {
    uri: baseUrl ?? `https://download.docker.com/linux/${dist}`,
    suite: os.facts.ansible_distribution_release,
    components: ['stable'],
    keyring: 'docker',
  };
}
