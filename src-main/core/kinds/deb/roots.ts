/**
 * Which OS packages a node of a given OS installs, from the bundle's own Kubespray data: the
 * tag's `pkgs` (roles/system_packages from v2.28, roles/kubernetes/preinstall before) evaluated
 * with that OS's facts and the cluster's variables by the catalog's Jinja evaluator, plus the
 * packages Kubespray installs outside `pkgs` that the cluster's settings pull in. Each root says
 * why it is there, so `ferry plan` can show it.
 */
import { FerryError } from '../../base/errors/index.js';
import { renderString } from '../../plan/catalog/jinja/evaluate.js';
import { fromPlain, PyDict, toPlain, type PyValue } from '../../plan/catalog/jinja/values.js';
import type { KubesprayData } from '../../plan/catalog/source.js';
import { VarStore, withTemplateErrors } from '../../plan/catalog/variables.js';
import { parseYaml11 } from '../../plan/catalog/yaml11.js';
import { minimumPython } from '../python/targets.js';
import type { OsModel } from '../os.js';

export interface RootPackage {
  name: string;
  /** An exact version Kubespray pins (docker-ce=5:28.3.3-1~debian.12~bookworm). */
  version?: string;
  why: string;
  /** Which archive it comes from: the distribution's (default) or Docker's. */
  source?: 'docker';
}

export interface RootsOptions {
  /** Extra-vars level variables (profile vars, --set). */
  vars?: PyDict | undefined;
  /** Inventory variables (group_vars). */
  inventoryVars?: PyDict | undefined;
  /** Debian architecture of the node; only `host_architecture` depends on it. */
  arch?: string;
  /** The OS is also the deploy host's: add what running Kubespray offline needs. */
  deployHost?: boolean;
  /** The user's own packages (--os-package). */
  extra?: string[];
}

const SYSTEM_PACKAGES = 'roles/system_packages/vars/main.yml';
const PREINSTALL = 'roles/kubernetes/preinstall/vars/main.yml';

/**
 * Every role of a node: Kubespray's conditions test `'k8s_cluster' in group_names`, and one
 * bundle serves control-plane, worker and etcd hosts alike, so the union is planned.
 */
const NODE_GROUPS = ['k8s_cluster', 'kube_control_plane', 'kube_node', 'etcd'];

function yamlFile(data: KubesprayData, rel: string): PyValue | undefined {
  const text = data.osPackageFiles?.[rel];
  return text === undefined ? undefined : parseYaml11(text, rel);
}

function asDict(v: PyValue | undefined): PyDict {
  return v instanceof PyDict ? v : new PyDict();
}

/** Ansible's conditional truth of a templated value: "False" is false (literal_eval), "" too. */
function holds(v: unknown): boolean {
  if (typeof v === 'string') {
    const t = v.trim();
    return t !== '' && !/^(false|no|none|0)$/i.test(t);
  }
  if (Array.isArray(v)) return v.length > 0;
  return Boolean(v);
}

/** The variables of one node of `os`, layered as Ansible would for the roles that install packages. */
function nodeStore(data: KubesprayData, os: OsModel, opts: RootsOptions): VarStore {
  const f = os.facts;
  const facts = fromPlain({
    ...f,
    ansible_system: 'Linux',
    ansible_architecture: opts.arch === 'arm64' ? 'aarch64' : 'x86_64',
    group_names: NODE_GROUPS,
    inventory_hostname: 'node1',
    // Defined on every host once the inventory is built; the first run's ping check needs it.
    main_access_ip: '10.0.0.10',
    is_fedora_coreos: false,
  }) as PyDict;
  const dockerDefaults = asDict(yamlFile(data, 'roles/container-engine/docker/defaults/main.yml'));
  // The docker role's include_vars with_first_found: <distribution>-<major>, <distribution>,
  // <os_family> (Rocky, Alma and RHEL all read redhat.yml).
  const dist = f.ansible_distribution.toLowerCase();
  const dockerVars = asDict(
    [`${dist}-${f.ansible_distribution_major_version}`, dist, f.ansible_os_family.toLowerCase()]
      .map((n) => yamlFile(data, `roles/container-engine/docker/vars/${n}.yml`))
      .find((x) => x !== undefined),
  );
  return new VarStore([
    data.defaults,
    // roles/container-engine/containerd-common/defaults, which the docker role depends on; that
    // role is not among the files the catalog reads, and this is its only package variable.
    PyDict.from([['containerd_package', 'containerd.io']]),
    dockerDefaults,
    opts.inventoryVars ?? new PyDict(),
    facts,
    data.vars,
    dockerVars,
    opts.vars ?? new PyDict(),
    PyDict.from([['host_architecture', opts.arch ?? 'amd64']]),
  ]);
}

function render(store: VarStore, where: string, template: string): unknown {
  return withTemplateErrors(where, template, () => toPlain(renderString(template, store)));
}

/** Whether a Kubespray setting holds for a node of `os` (epel_enabled, …), as Ansible reads it. */
export function kubesprayVar(data: KubesprayData, os: OsModel, opts: RootsOptions, name: string): boolean {
  return holds(render(nodeStore(data, os, opts), name, `{{ ${name} | default(False) }}`));
}

/** The list-of-conditions schema (v2.27+): every condition must hold. */
function listSchema(store: VarStore, pkgs: PyDict, rel: string): RootPackage[] {
  const out: RootPackage[] = [];
  for (const [k, v] of pkgs.entries()) {
    const name = String(k);
    const conds = Array.isArray(v) ? v.map(String) : [];
    if (!conds.every((c) => holds(render(store, `${rel}: ${name}`, c)))) continue;
    const why = conds.length
      ? conds.map((c) => c.replace(/^\s*\{\{\s*|\s*\}\}\s*$/g, '')).join(' and ')
      : 'always';
    out.push({
      name,
      why: `Kubespray ${rel === SYSTEM_PACKAGES ? 'system_packages' : 'preinstall'} pkgs (${why})`,
    });
  }
  return out;
}

/**
 * The dict schema of v2.26 (preinstall/files/pkgs-schema.json): `enabled` (a template, default
 * true), `groups` (any of them), `os.families` or `os.distributions.<name>` with optional
 * major_versions / versions / releases; an absent key matches everything.
 */
function dictSchema(store: VarStore, os: OsModel, pkgs: PyDict, rel: string): RootPackage[] {
  const out: RootPackage[] = [];
  const f = os.facts;
  const list = (v: PyValue | undefined): string[] => (Array.isArray(v) ? v.map((x) => String(x)) : []);
  for (const [k, v] of pkgs.entries()) {
    const name = String(k);
    const spec = asDict(v);
    const reasons: string[] = [];
    const enabled = spec.get('enabled');
    if (enabled !== undefined) {
      const e = typeof enabled === 'string' ? render(store, `${rel}: ${name}`, enabled) : toPlain(enabled);
      if (!holds(e)) continue;
      reasons.push(typeof enabled === 'string' ? enabled.replace(/^\s*\{\{\s*|\s*\}\}\s*$/g, '') : 'enabled');
    }
    const groups = list(spec.get('groups'));
    if (groups.length) {
      if (!groups.some((g) => NODE_GROUPS.includes(g))) continue;
      reasons.push(`groups ${groups.join(', ')}`);
    }
    const osSpec = spec.get('os');
    if (osSpec instanceof PyDict) {
      const families = list(osSpec.get('families'));
      const dists = asDict(osSpec.get('distributions'));
      let ok = families.includes(f.ansible_os_family);
      if (ok) reasons.push(`family ${f.ansible_os_family}`);
      const d = dists.get(f.ansible_distribution);
      if (!ok && d !== undefined) {
        const dd = asDict(d);
        const majors = list(dd.get('major_versions'));
        const versions = list(dd.get('versions'));
        const releases = list(dd.get('releases'));
        ok =
          (!majors.length && !versions.length && !releases.length) ||
          majors.includes(f.ansible_distribution_major_version) ||
          versions.includes(f.ansible_distribution_version) ||
          releases.includes(f.ansible_distribution_release);
        if (ok) reasons.push(`distribution ${f.ansible_distribution}`);
      }
      if (!ok) continue;
    }
    out.push({
      name,
      why: `Kubespray preinstall pkgs (${reasons.length ? reasons.join(', ') : 'always'})`,
    });
  }
  return out;
}

/** The `pkgs` of the tag, evaluated for `os`: what Kubespray's package task installs. */
export function kubesprayPkgs(data: KubesprayData, os: OsModel, opts: RootsOptions = {}): RootPackage[] {
  const rel = data.osPackageFiles?.[SYSTEM_PACKAGES] !== undefined ? SYSTEM_PACKAGES : PREINSTALL;
  const file = asDict(yamlFile(data, rel));
  const pkgs = file.get('pkgs');
  if (!(pkgs instanceof PyDict)) {
    throw new FerryError('NOT_FOUND', `Kubespray ${data.tag} has no OS package list (${rel}).`, {
      artifact: rel,
      hint: 'Use a Kubespray source folder or release tarball; the package list is read from its roles.',
    });
  }
  const store = nodeStore(data, os, opts);
  const first = pkgs.values()[0];
  return Array.isArray(first) || first === undefined
    ? listSchema(store, pkgs, rel)
    : dictSchema(store, os, pkgs, rel);
}

/** `name=version` as Kubespray pins apt packages; `name` alone stays unpinned. */
function pinned(spec: string): { name: string; version?: string } {
  const i = spec.indexOf('=');
  return i < 0 ? { name: spec.trim() } : { name: spec.slice(0, i).trim(), version: spec.slice(i + 1).trim() };
}

/**
 * dnf's NAME-[EPOCH:]VERSION-RELEASE as Kubespray pins RPMs (docker-ce-3:28.3.3-1.el9,
 * containerd.io-1.6.32-3.1.el9): a spec whose second-last part does not start with a digit (or
 * an epoch) is a bare name (container-selinux), as dnf would read it first. Also NAME=EVR.
 */
export function rpmPinned(spec: string): { name: string; version?: string } {
  const t = spec.trim();
  const eq = t.indexOf('=');
  if (eq > 0) return { name: t.slice(0, eq).trim(), version: t.slice(eq + 1).trim() };
  const m = /^(.+)-((?:\d+:)?\d[^-]*)-([^-]+)$/.exec(t);
  return m ? { name: m[1], version: `${m[2]}-${m[3]}` } : { name: t };
}

function pythonCmp(a: string, b: string): number {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
  return x[0] - y[0] || (x[1] ?? 0) - (y[1] ?? 0);
}

/**
 * Every root package of `os`: the tag's `pkgs`, then the packages the cluster's settings pull in
 * outside them, then the deploy host's and the user's. The first reason a name gets is kept.
 */
export function kubesprayOsRoots(data: KubesprayData, os: OsModel, opts: RootsOptions = {}): RootPackage[] {
  const out = new Map<string, RootPackage>();
  const add = (r: RootPackage): void => {
    if (r.name && !out.has(r.name)) out.set(r.name, r);
  };
  for (const r of kubesprayPkgs(data, os, opts)) add(r);
  const store = nodeStore(data, os, opts);
  const v = (name: string): unknown => render(store, name, `{{ ${name} | default(None) }}`);
  if (os.family === 'deb') {
    if (v('container_manager') === 'docker') {
      const pkgs = render(store, 'docker_package_info', '{{ docker_package_info.pkgs }}');
      for (const spec of Array.isArray(pkgs) ? pkgs : []) {
        const p = pinned(String(spec));
        add({ ...p, source: 'docker', why: "container_manager: docker (Kubespray's docker role, pinned)" });
      }
    }
    if (holds(v('helm_enabled'))) add({ name: 'python3-yaml', why: 'helm_enabled (the helm-apps role)' });
    if (holds(v('calico_wireguard_enabled')) && v('kube_network_plugin') === 'calico') {
      add({ name: 'wireguard', why: 'calico_wireguard_enabled' });
    }
    if (holds(v('ntp_enabled')) && holds(v('ntp_timezone'))) {
      add({ name: 'tzdata', why: 'ntp_timezone (preinstall sets the timezone)' });
    }
    add({ name: 'python3-minimal', why: 'bootstrap_os: Ansible needs Python on the node' });
    // Kubespray's ping check runs only once main_access_ip is known, which is not on a first run
    // that gathers it; a later run needs the package all the same.
    add({ name: 'iputils-ping', why: 'Kubespray pkgs (ping_access_ip; skipped on a first run)' });
    if (opts.deployHost) {
      const min = minimumPython(data.tag === 'unknown' ? 'v2.31.0' : data.tag);
      const py = pythonCmp(os.python, min) >= 0 ? 'python3' : `python${min}`;
      const why = `deploy host: Kubespray ${data.tag} runs on Python ≥ ${min}`;
      add({ name: py, why });
      add({ name: `${py}-venv`, why });
      add({ name: 'openssh-client', why: 'deploy host: Ansible connects over ssh' });
      add({ name: 'rsync', why: 'deploy host: Ansible synchronize' });
    }
  }
  if (os.family === 'rpm') {
    if (v('container_manager') === 'docker') {
      const pkgs = render(store, 'docker_package_info', '{{ docker_package_info.pkgs }}');
      for (const spec of Array.isArray(pkgs) ? pkgs : []) {
        const p = rpmPinned(String(spec));
        add({ ...p, source: 'docker', why: "container_manager: docker (Kubespray's docker role, pinned)" });
      }
    }
    if (holds(v('calico_wireguard_enabled')) && v('kube_network_plugin') === 'calico') {
      add({ name: 'wireguard-tools', why: 'calico_wireguard_enabled' });
    }
    if (holds(v('ntp_enabled')) && holds(v('ntp_timezone'))) {
      add({ name: 'tzdata', why: 'ntp_timezone (preinstall sets the timezone)' });
    }
    add({ name: 'python3', why: 'bootstrap_os: Ansible needs Python on the node' });
    if (opts.deployHost) {
      add({ name: 'openssh-clients', why: 'deploy host: Ansible connects over ssh' });
      add({ name: 'rsync', why: 'deploy host: Ansible synchronize' });
    }
    for (const e of opts.extra ?? [])
      add({ ...rpmPinned(e), why: 'extra package (profile or --os-package)' });
    return [...out.values()];
  }
  for (const e of opts.extra ?? []) add({ ...pinned(e), why: 'extra package (profile or --os-package)' });
  return [...out.values()];
}
