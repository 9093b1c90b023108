/**
 * The operating systems Ferry plans OS packages for: the facts Kubespray's Jinja conditions read
 * (what `setup` would report on such a node), the package family, and the public archives the
 * packages come from by default. Pure data and functions: no I/O, so the app, the CLI and tests
 * share one model. The RPM family (Rocky, Alma, RHEL 9 and 10) has its repositories and the
 * distribution keys pinned by URL and published fingerprint (fetched at plan time, never shipped).
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
  /** RHEL-family only: the dnf repositories and the distribution key. */
  rpm?: RpmOsModel;
}

/**
 * A public OpenPGP key Ferry does not ship: where the distribution publishes it and the primary-key
 * fingerprints it published (upper-case hex, 40 digits). Plan time fetches the URL and refuses a
 * key whose fingerprint is not one of these, so a mirror or proxy cannot swap the trust root.
 */
export interface PinnedKey {
  url: string;
  fingerprints: string[];
  /** Where the node has it once the distribution's release package is installed. */
  nodePath?: string;
}

/** Which key verifies a repository: the distribution's, EPEL's, Docker's. */
export type RpmKeyId = 'distro' | 'epel' | 'docker';

/** One dnf repository of an OS model, as its stock .repo file defines it. */
export interface RpmRepoModel {
  /** Ferry's repository id (RpmSource.id): baseos, appstream, crb, epel, docker-ce-stable. */
  id: string;
  /**
   * The directory name under the distribution's root (BaseOS, AppStream, CRB): the layout
   * <root>/<dir>/<arch>/os/ that Rocky's and Alma's mirrors and a reposync share.
   */
  dir?: string;
  /** A fixed base URL with $basearch (EPEL, Docker), used whatever the distribution root is. */
  url?: string;
  key: RpmKeyId;
  /** When it is used: always, only with epel_enabled, only for container_manager: docker. */
  when: 'always' | 'epel' | 'docker' | 'never';
}

export interface RpmOsModel {
  /** EL major version: 9, 10. */
  major: string;
  /**
   * The public root holding <dir>/<arch>/os/ (https://dl.rockylinux.org/pub/rocky/9); absent for
   * RHEL, whose content needs an entitlement: the user gives a base URL (--rpm-repo).
   */
  defaultRoot?: string;
  repos: RpmRepoModel[];
  /** The distribution's package key; absent for RHEL (Red Hat's keys are pinned all the same). */
  key: PinnedKey;
  /** Keys of EPEL and Docker's repository for this major version. */
  epelKey: PinnedKey;
  dockerKey: PinnedKey;
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

/**
 * EPEL and Docker's keys per EL major version (fingerprints as Fedora and Docker publish them;
 * checked against xsuchy/distribution-gpg-keys: keys/epel/RPM-GPG-KEY-EPEL-9, -10, keys/docker/).
 */
const EPEL_KEY: Record<string, PinnedKey> = {
  '9': {
    url: 'https://dl.fedoraproject.org/pub/epel/RPM-GPG-KEY-EPEL-9',
    fingerprints: ['FF8AD1344597106ECE813B918A3872BF3228467C'],
    nodePath: '/etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-9',
  },
  '10': {
    url: 'https://dl.fedoraproject.org/pub/epel/RPM-GPG-KEY-EPEL-10',
    fingerprints: ['7D8D15CBFC4E62688591FB2633D98517E37ED158'],
    nodePath: '/etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-10',
  },
};

/** Docker signs its CentOS/RHEL repositories with one key (the "Docker Release (CE rpm)" key). */
const DOCKER_RPM_KEY: PinnedKey = {
  url: 'https://download.docker.com/linux/rhel/gpg',
  fingerprints: ['060A61C51B558A7F742B77AAC52FEB6B621E9F35'],
};

/**
 * The distribution keys. Rocky 9 and Alma 9 from distribution-gpg-keys (keys/rocky/RPM-GPG-KEY-
 * Rocky-9, keys/alma/RPM-GPG-KEY-AlmaLinux-9); Rocky 10 and Alma 10 as their projects publish
 * them (rockylinux.org/resources/gpg-key-info, the AlmaLinux 10 release notes); Red Hat's
 * "release key 2" and "auxiliary key 3" (RPM-GPG-KEY-redhat-release on RHEL 9 and 10, also
 * access.redhat.com/security/team/key). RHEL 10.1's post-quantum "release key 4" is not an
 * OpenPGP v4 key openpgp.js reads, and v4 signatures stay on every package, so it is not needed.
 */
const DISTRO_KEY: Record<string, PinnedKey> = {
  'rocky-9': {
    url: 'https://dl.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-9',
    fingerprints: ['21CB256AE16FC54C6E652949702D426D350D275D'],
    nodePath: '/etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-9',
  },
  'rocky-10': {
    url: 'https://dl.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-10',
    fingerprints: ['FC226859C0860BF0DDB95B085B106C736FEDFC85'],
    nodePath: '/etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-10',
  },
  'alma-9': {
    url: 'https://repo.almalinux.org/almalinux/RPM-GPG-KEY-AlmaLinux-9',
    fingerprints: ['BF18AC2876178908D6E71267D36CB86CB86B3716'],
    nodePath: '/etc/pki/rpm-gpg/RPM-GPG-KEY-AlmaLinux-9',
  },
  'alma-10': {
    url: 'https://repo.almalinux.org/almalinux/RPM-GPG-KEY-AlmaLinux-10',
    fingerprints: ['EE6DB7B98F5BF5EDD9DA0DE5DEE5C11CC2A1E572'],
    nodePath: '/etc/pki/rpm-gpg/RPM-GPG-KEY-AlmaLinux-10',
  },
  rhel: {
    url: 'https://www.redhat.com/security/data/fd431d51.txt',
    fingerprints: ['567E347AD0044ADE55BA8A5F199E2F91FD431D51', '7E4624258C406535D56D6F135054E4A45A6340B3'],
    nodePath: '/etc/pki/rpm-gpg/RPM-GPG-KEY-redhat-release',
  },
};

/**
 * The repositories of an EL node. Kubespray's `pkgs` for RedHat (conntrack-tools via conntrack,
 * container-selinux, ipvsadm, nss, …) all live in BaseOS and AppStream on EL9 and EL10; CRB is
 * modelled (a private mirror may need it for extra packages) but not read unless asked.
 * EPEL only with `epel_enabled` (Kubespray's bootstrap_os adds it then); Docker's repository
 * for container_manager: docker at Kubespray's docker_rh_repo_base_url
 * (download.docker.com/linux/rhel/<major>/$basearch/stable; Rocky and Alma use the same one).
 */
function elRepos(major: string): RpmRepoModel[] {
  return [
    { id: 'baseos', dir: 'BaseOS', key: 'distro', when: 'always' },
    { id: 'appstream', dir: 'AppStream', key: 'distro', when: 'always' },
    { id: 'crb', dir: 'CRB', key: 'distro', when: 'never' },
    {
      id: 'epel',
      url: `https://dl.fedoraproject.org/pub/epel/${major}/Everything/$basearch`,
      key: 'epel',
      when: 'epel',
    },
    {
      id: 'docker-ce-stable',
      url: `https://download.docker.com/linux/rhel/${major}/$basearch/stable`,
      key: 'docker',
      when: 'docker',
    },
  ];
}

interface ElFacts {
  id: string;
  distribution: 'Rocky' | 'AlmaLinux' | 'RedHat';
  title: string;
  version: string;
  release: string;
  root?: string;
}

const el = (f: ElFacts): OsModel => {
  const major = f.version.split('.')[0];
  return {
    id: f.id,
    family: 'rpm',
    title: f.title,
    facts: {
      ansible_os_family: 'RedHat',
      ansible_distribution: f.distribution,
      ansible_distribution_major_version: major,
      ansible_distribution_version: f.version,
      ansible_distribution_release: f.release,
    },
    // platform-python: 3.9 on EL9, 3.12 on EL10.
    python: major === '9' ? '3.9' : '3.12',
    arches: ['amd64', 'arm64'],
    rpm: {
      major,
      ...(f.root ? { defaultRoot: f.root } : {}),
      repos: elRepos(major),
      key: DISTRO_KEY[f.distribution === 'RedHat' ? 'rhel' : f.id],
      epelKey: EPEL_KEY[major],
      dockerKey: DOCKER_RPM_KEY,
    },
  };
};

export const OS_MODELS: readonly OsModel[] = [
  debian('12', '12.12', 'bookworm', '3.11'),
  debian('13', '13.2', 'trixie', '3.13'),
  ubuntu('22.04', 'jammy', '3.10'),
  ubuntu('24.04', 'noble', '3.12'),
  el({
    id: 'rocky-9',
    distribution: 'Rocky',
    title: 'Rocky Linux 9',
    version: '9.6',
    release: 'Blue Onyx',
    root: 'https://dl.rockylinux.org/pub/rocky/9',
  }),
  el({
    id: 'alma-9',
    distribution: 'AlmaLinux',
    title: 'AlmaLinux 9',
    version: '9.6',
    release: 'Sage Margay',
    root: 'https://repo.almalinux.org/almalinux/9',
  }),
  el({
    id: 'rhel-9',
    distribution: 'RedHat',
    title: 'Red Hat Enterprise Linux 9',
    version: '9.6',
    release: 'Plow',
  }),
  el({
    id: 'rocky-10',
    distribution: 'Rocky',
    title: 'Rocky Linux 10',
    version: '10.0',
    release: 'Red Quartz',
    root: 'https://dl.rockylinux.org/pub/rocky/10',
  }),
  el({
    id: 'alma-10',
    distribution: 'AlmaLinux',
    title: 'AlmaLinux 10',
    version: '10.0',
    release: 'Purple Lion',
    root: 'https://repo.almalinux.org/almalinux/10',
  }),
  el({
    id: 'rhel-10',
    distribution: 'RedHat',
    title: 'Red Hat Enterprise Linux 10',
    version: '10.0',
    release: 'Coughlan',
  }),
];

export const OS_IDS = OS_MODELS.map((o) => o.id);
/** The Debian-family ids (apt archives). */
export const DEB_OS_IDS = OS_MODELS.filter((o) => o.family === 'deb').map((o) => o.id);
/** The RHEL-family ids (dnf repositories). */
export const RPM_OS_IDS = OS_MODELS.filter((o) => o.family === 'rpm').map((o) => o.id);

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

/**
 * The model of an OS of the given family, for code that only handles that family (the apt
 * planner, the dnf planner): a mismatch is a programming slip or a hand-edited plan, named.
 */
export function requireFamily(id: string, family: OsFamily): OsModel {
  const m = osModel(id);
  if (m.family !== family) {
    const ids = family === 'deb' ? DEB_OS_IDS : RPM_OS_IDS;
    throw new FerryError(
      'UNSUPPORTED',
      `${m.title} is ${m.family === 'rpm' ? 'an RPM (dnf)' : 'a Debian (apt)'} OS, not one of ${ids.join(', ')}.`,
      { artifact: id, hint: `Its packages are planned by the ${m.family} kind.` },
    );
  }
  return m;
}

/** requireFamily(id, 'deb'): the apt planner's guard. */
export function requireDebFamily(id: string): OsModel {
  return requireFamily(id, 'deb');
}

/** Ferry's architecture names (Debian's) → RPM's: amd64 → x86_64, arm64 → aarch64. */
export function rpmArch(arch: string): string {
  const m: Record<string, string> = {
    amd64: 'x86_64',
    arm64: 'aarch64',
    x86_64: 'x86_64',
    aarch64: 'aarch64',
  };
  const r = m[arch];
  if (!r) {
    throw new FerryError('UNSUPPORTED', `No RPM architecture for '${arch}'.`, {
      artifact: arch,
      hint: 'Ferry carries RPMs for amd64 (x86_64) and arm64 (aarch64).',
    });
  }
  return r;
}

/** One repository to read for an RPM OS and architecture: the model's, with its base URL filled in. */
export interface RpmRepoSpec {
  id: string;
  /** Base URL holding repodata/ for this architecture. */
  baseurl: string;
  key: RpmKeyId;
}

export interface RpmRepoOptions {
  /** A distribution root given by the user (--rpm-repo OS=URL): <root>/<dir>/<arch>/os/. */
  root?: string;
  /** Exact base URLs per repository id (--rpm-repo OS:ID=URL), $basearch substituted. */
  repos?: Record<string, string>;
  epel?: boolean;
  docker?: boolean;
}

/**
 * The repositories a node of `os` installs from on `arch` (Ferry's arch name). A root URL may
 * hold `$basearch` and `$repo` (the directory name: BaseOS) or `$repoid` (baseos), so layouts
 * like Red Hat's CDN (…/rhel9/9/$basearch/$repoid/os) fit; without them the Rocky/Alma layout
 * <root>/<dir>/<arch>/os is used. RHEL has no public root: without one given, a CONFIG error
 * names the flag, and no other distribution is ever put in its place.
 */
export function rpmRepos(os: OsModel, arch: string, opts: RpmRepoOptions = {}): RpmRepoSpec[] {
  const model = requireFamily(os.id, 'rpm').rpm!;
  const a = rpmArch(arch);
  const sub = (u: string, r: RpmRepoModel): string =>
    u
      .replaceAll('$basearch', a)
      .replaceAll('$repoid', r.id)
      .replaceAll('$repo', r.dir ?? r.id)
      .replace(/\/+$/, '');
  const out: RpmRepoSpec[] = [];
  for (const r of model.repos) {
    const exact = opts.repos?.[r.id];
    const wanted =
      exact !== undefined ||
      r.when === 'always' ||
      (r.when === 'epel' && opts.epel === true) ||
      (r.when === 'docker' && opts.docker === true);
    if (!wanted) continue;
    let base: string | undefined;
    if (exact !== undefined) base = sub(exact, r);
    else if (r.url) base = sub(r.url, r);
    else {
      const root = opts.root ?? model.defaultRoot;
      if (!root) {
        throw new FerryError('CONFIG', `${os.title} has no public repository: give its base URL.`, {
          artifact: `${os.id} ${r.dir ?? r.id}`,
          hint: `Pass --rpm-repo ${os.id}=URL (a Satellite, a reposync or an ISO served over HTTP, laid out URL/BaseOS/$basearch/os or with $repo/$basearch in it), and --client-cert/--client-key for Red Hat's CDN. Ferry never substitutes another distribution.`,
        });
      }
      base = /\$(basearch|repo)/.test(root)
        ? sub(root, r)
        : `${root.replace(/\/+$/, '')}/${r.dir ?? r.id}/${a}/os`;
    }
    out.push({ id: r.id, baseurl: base, key: r.key });
  }
  for (const [id, url] of Object.entries(opts.repos ?? {})) {
    if (!model.repos.some((r) => r.id === id)) {
      out.push({ id, baseurl: sub(url, { id, key: 'distro', when: 'always' }), key: 'distro' });
    }
  }
  return out;
}

/** The pinned key of a repository's key id. */
export function rpmPinnedKey(os: OsModel, key: RpmKeyId): PinnedKey {
  const m = requireFamily(os.id, 'rpm').rpm!;
  return key === 'distro' ? m.key : key === 'epel' ? m.epelKey : m.dockerKey;
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
