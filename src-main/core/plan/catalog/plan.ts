import { filePathForUrl } from '../../bundle/paths.js';
import { FerryError } from '../../base/errors/index.js';
import { compareLoose } from './jinja/looseversion.js';
import { fromPlain, PyDict, pyStr, toPlain, truthy, Undefined, type PyValue } from './jinja/values.js';
import { tarballBundlePath, tarballUrl, type KubesprayData } from './source.js';
import { VarStore, withTemplateErrors } from './variables.js';
import { ciliumChart, ciliumInstallMode } from './cilium.js';
import type { ExtraFile, Plan, PlanChart, PlanFile, PlanImage } from '../plan.js';
import type { ExtraImageSpec } from '../profile/schema.js';

export type { ExtraFile, Plan, PlanChart, PlanFile, PlanImage };

export const ARCHES = ['amd64', 'arm64'] as const;
export type Arch = (typeof ARCHES)[number];

/** The facts Ferry sets per target architecture, never read from the machine it runs on. */
export const ARCH_FACTS: Record<Arch, { ansible_architecture: string }> = {
  amd64: { ansible_architecture: 'x86_64' },
  arm64: { ansible_architecture: 'aarch64' },
};

/** A file as the catalog builds it: always with its first arch and the list of all. */
export type PlanFileBuilt = PlanFile & { arch: string; arches: string[] };
/** An image as the catalog builds it: with its repository and tag. */
export type PlanImageBuilt = PlanImage & { repo: string; tag: string };
/** What computePlan guarantees beyond the plan schema (which older plan files must also pass). */
export type ComputedPlan = Omit<Plan, 'files' | 'images'> & {
  files: PlanFileBuilt[];
  images: PlanImageBuilt[];
};

/** The profile's `extraImages` entry, as its schema parses it. */
export type ExtraImage = ExtraImageSpec;
export interface ComputeOptions {
  arches: string[];
  /** Extra-vars level: wins over role vars (--set and the profile's vars). */
  vars?: Record<string, unknown> | PyDict | undefined;
  /** Inventory group_vars level: above role defaults, below role vars, as in Ansible. */
  inventoryVars?: Record<string, unknown> | PyDict | undefined;
  /** List every URL and image any download entry defines, enabled or not (generate_list.sh). */
  all?: boolean | undefined;
  extraImages?: ExtraImage[] | undefined;
  extraFiles?: ExtraFile[] | undefined;
}

const KUBEADM_IMAGES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'];

function asDict(v: Record<string, unknown> | PyDict | undefined): PyDict {
  if (!v) return new PyDict();
  return v instanceof PyDict ? v : (fromPlain(v) as PyDict);
}

/** The variable store for one architecture, layered by Ansible precedence. */
export function storeFor(
  data: KubesprayData,
  arch: string,
  opts: Pick<ComputeOptions, 'vars' | 'inventoryVars'> = {},
): VarStore {
  if (!(ARCHES as readonly string[]).includes(arch)) {
    throw new FerryError('USAGE', `Unknown architecture '${arch}'.`, {
      hint: `Use one or more of: ${ARCHES.join(', ')}.`,
    });
  }
  const facts = PyDict.from([
    ['ansible_architecture', ARCH_FACTS[arch as Arch].ansible_architecture],
    ['ansible_system', 'Linux'],
  ]);
  const forced = PyDict.from([
    ['image_arch', arch],
    ['host_architecture', arch],
  ]);
  return new VarStore([
    data.defaults,
    asDict(opts.inventoryVars),
    facts,
    data.vars,
    asDict(opts.vars),
    forced,
  ]);
}

/** The Kubernetes versions a tag has checksums for, newest first, without a leading 'v'. */
export function supportedKubeVersions(data: KubesprayData): string[] {
  const table = data.vars.get('kubelet_checksums') ?? data.defaults.get('kubelet_checksums');
  if (!(table instanceof PyDict)) return [];
  const amd = table.get('amd64');
  if (!(amd instanceof PyDict)) return [];
  const versions = amd.keys().map((k) => pyStr(k).replace(/^v/, ''));
  return versions.sort((a, b) => compareLoose(b, a));
}

/** Kubespray before v2.28 spells kube_version with a leading 'v'; later tags without. */
export function normalizeKubeVersion(data: KubesprayData, version: string): string {
  const table = data.vars.get('kubelet_checksums') ?? data.defaults.get('kubelet_checksums');
  const amd = table instanceof PyDict ? table.get('amd64') : undefined;
  const withV = amd instanceof PyDict && amd.keys().some((k) => pyStr(k).startsWith('v'));
  const bare = version.replace(/^v/, '');
  return withV ? `v${bare}` : bare;
}

function normalizeChecksum(v: PyValue): string {
  if (v === null || v instanceof Undefined || v === 0 || v === '0' || v === '' || v === 'None') return '';
  const s = pyStr(v).trim();
  const m = /^(sha256|sha512):([0-9a-fA-F]+)$/.exec(s);
  if (m) return `${m[1]}:${m[2].toLowerCase()}`;
  if (/^[0-9a-fA-F]{64}$/.test(s)) return `sha256:${s.toLowerCase()}`;
  if (/^[0-9a-fA-F]{128}$/.test(s)) return `sha512:${s.toLowerCase()}`;
  return s;
}

export function bundlePathForUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new FerryError('CONFIG', `'${url}' is not a valid URL.`, { artifact: url });
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new FerryError('CONFIG', `'${url}' is not an http(s) URL.`, { artifact: url });
  }
  let segs: string[];
  try {
    segs = u.pathname
      .split('/')
      .filter(Boolean)
      .map((s) => decodeURIComponent(s));
  } catch {
    segs = [];
  }
  // Decoded segments must stay single path components: %2F or %5C would smuggle in separators.
  const bad = (s: string) => s === '..' || s === '.' || /[/\\\0]/.test(s);
  if (!segs.length || segs.some(bad)) {
    throw new FerryError('HOSTILE', `URL path of '${url}' cannot be stored in a bundle.`, { artifact: url });
  }
  // One rule for where a URL lands in a bundle (':port' becomes '_port', portable to FAT/exFAT).
  return filePathForUrl(url);
}

/** Fills in a registry host (docker.io, library/) and a tag (latest), as container tools do. */
export function normalizeImageRef(ref: string): string {
  const r = ref.trim();
  if (!r || /\s/.test(r))
    throw new FerryError('CONFIG', `'${ref}' is not an image reference.`, { artifact: ref });
  const slash = r.indexOf('/');
  const first = slash < 0 ? '' : r.slice(0, slash);
  const hasHost = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let full = hasHost ? r : `docker.io/${slash < 0 ? 'library/' : ''}${r}`;
  const lastSeg = full.slice(full.lastIndexOf('/') + 1);
  if (!full.includes('@') && !lastSeg.includes(':')) full += ':latest';
  return full;
}

function evalField(
  store: VarStore,
  key: string,
  entry: PyDict,
  defaults: PyDict,
  field: string,
  arch: string,
): PyValue {
  const raw = entry.has(field) ? entry.get(field)! : defaults.get(field);
  if (raw === undefined) return null;
  return withTemplateErrors(
    `downloads.${key}.${field} (${arch})`,
    typeof raw === 'string' ? raw : pyStr(raw),
    () => {
      const v = store.template(raw);
      if (v instanceof Undefined) throw new FerryError('CONFIG', `downloads.${key}.${field}: ${v.message}`);
      return v;
    },
    key,
  );
}

/** One `downloads` entry with each of its fields templated, or the error that field raises. */
export interface RenderedDownload {
  key: string;
  fields: Record<string, { value: unknown } | { error: string }>;
}

/**
 * Templates every field of every `downloads` entry for one architecture, enabled or not, without
 * stopping at the first failure: the raw material the plan is made of, and what the tests compare
 * with Ansible's own rendering field by field.
 */
export function renderDownloads(
  data: KubesprayData,
  arch: string,
  opts: Pick<ComputeOptions, 'vars' | 'inventoryVars'> = {},
  fieldNames = ['enabled', 'container', 'file', 'url', 'checksum', 'sha256', 'repo', 'tag'],
): RenderedDownload[] {
  const store = storeFor(data, arch, opts);
  const downloads = store.rawValue('downloads');
  const dflt = store.rawValue('download_defaults');
  if (!(downloads instanceof PyDict)) return [];
  return downloads.entries().map(([k, entry]) => {
    const key = pyStr(k);
    const fields: RenderedDownload['fields'] = {};
    if (entry instanceof PyDict) {
      for (const f of fieldNames) {
        if (!entry.has(f)) continue;
        try {
          fields[f] = {
            value: toPlain(
              evalField(store, key, entry, dflt instanceof PyDict ? dflt : new PyDict(), f, arch),
            ),
          };
        } catch (err) {
          fields[f] = { error: (err as Error).message };
        }
      }
    }
    return { key, fields };
  });
}

function text(v: PyValue): string {
  return v === null ? '' : pyStr(v);
}

/**
 * Computes what Kubespray will download for this cluster: every enabled entry of the `downloads`
 * dict (files per architecture with their checksums, images with their platforms), the images
 * kubeadm pulls, and the profile's extras. With `all`, every URL and image reference any entry
 * defines, enabled or not.
 */
export function computePlan(data: KubesprayData, opts: ComputeOptions): ComputedPlan {
  const arches = [...new Set(opts.arches)];
  if (!arches.length)
    throw new FerryError('USAGE', 'No target architecture given.', {
      hint: 'Use --arch amd64, arm64 or amd64,arm64.',
    });
  const files = new Map<string, PlanFileBuilt>();
  const images = new Map<string, PlanImageBuilt>();
  let kubeVersion = '';
  const charts: PlanChart[] = [];
  const warnings: string[] = [];

  const addFile = (f: Omit<PlanFileBuilt, 'arches' | 'path'> & { path?: string | undefined }) => {
    const old = files.get(f.url);
    if (old) {
      if (!old.arches.includes(f.arch)) old.arches.push(f.arch);
      old.enabled ||= f.enabled;
      if (!old.checksum) old.checksum = f.checksum;
      return;
    }
    files.set(f.url, { ...f, arches: [f.arch], path: f.path ?? bundlePathForUrl(f.url) });
  };
  const addImage = (img: Omit<PlanImageBuilt, 'platforms'>, platform: string) => {
    const old = images.get(img.ref);
    if (old) {
      if (!old.platforms.includes(platform)) old.platforms.push(platform);
      old.enabled ||= img.enabled;
      return;
    }
    images.set(img.ref, { ...img, platforms: [platform] });
  };

  for (const arch of arches) {
    const store = storeFor(data, arch, opts);
    const platform = `linux/${arch}`;
    const kv = withTemplateErrors('kube_version', text(store.rawValue('kube_version') ?? ''), () =>
      store.lookup('kube_version'),
    );
    if (kv instanceof Undefined || !kv)
      throw new FerryError('CONFIG', 'kube_version is not set.', {
        hint: 'Set kubeVersion in the profile or pass --kube-version.',
      });
    const kubeV = pyStr(kv);
    if (!kubeVersion) kubeVersion = kubeV.replace(/^v/, '');
    checkKubeVersion(data, store, kubeV, arch);

    const downloads = store.rawValue('downloads');
    const defaults = store.rawValue('download_defaults');
    if (!(downloads instanceof PyDict))
      throw new FerryError('CONFIG', `Kubespray ${data.tag}: 'downloads' is not a map.`);
    const dflt = defaults instanceof PyDict ? defaults : new PyDict();
    const downloadContainer = truthyVar(store, 'download_container', true);

    for (const [k, entryRaw] of downloads.entries()) {
      const key = pyStr(k);
      if (!(entryRaw instanceof PyDict)) continue;
      const field = (f: string) => evalField(store, key, entryRaw, dflt, f, arch);
      const enabled = truthy(field('enabled'));
      const container = truthy(field('container'));
      const isImage = enabled && container && downloadContainer;
      const isFile = enabled && !container;
      if (opts.all || isFile) {
        if (entryRaw.has('url') && (isFile || opts.all)) {
          const url = text(field('url'));
          let checksum = '';
          try {
            checksum = normalizeChecksum(
              field(entryRaw.has('checksum') || !entryRaw.has('sha256') ? 'checksum' : 'sha256'),
            );
          } catch (err) {
            if (isFile) throw err;
          }
          if (isFile && !/^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/.test(checksum)) {
            throw new FerryError(
              'CONFIG',
              `Kubespray ${data.tag} publishes no usable checksum for ${key} on ${arch} (${url}): '${checksum}'.`,
              {
                artifact: url,
                hint: `Choose a version Kubespray lists in its checksums for ${arch}, or disable ${key}.`,
              },
            );
          }
          addFile({ key, arch, url, checksum, enabled: isFile });
        }
      }
      if (opts.all || isImage) {
        if (entryRaw.has('repo') && entryRaw.has('tag')) {
          const repo = text(field('repo'));
          const tag = text(field('tag'));
          let digest = '';
          if (isImage) {
            const c = text(
              field(entryRaw.has('checksum') || !entryRaw.has('sha256') ? 'checksum' : 'sha256'),
            );
            digest = c.replace(/^sha256:/, '');
          }
          const ref = digest ? `${repo}@sha256:${digest}` : `${repo}:${tag}`;
          addImage({ key, ref, repo, tag, enabled: isImage }, platform);
        }
      }
    }

    if (arch === arches[0]) cilium(data, store, charts, warnings);
    if (charts.length && downloadContainer) {
      // The chart names the operator '<operator.image.repository>-<cloud>:<tag>', 'generic'
      // unless eni/azure/alibabacloud is on (templates/cilium-operator/_helpers.tpl), while
      // Kubespray's downloads list only '<repository>:<tag>': offline the operator pod would
      // reach for an image the registry does not have (the offline guide overrides it for this).
      const repo = `${text(lookupVar(store, 'cilium_operator_image_repo'))}-generic`;
      const tag = text(lookupVar(store, 'cilium_operator_image_tag'));
      addImage({ key: 'cilium_operator_generic', ref: `${repo}:${tag}`, repo, tag, enabled: true }, platform);
    }

    // kubeadm pulls the control plane images itself; they are not in `downloads`.
    const repoVar = store.has('kubeadm_image_repo') ? 'kubeadm_image_repo' : 'kube_image_repo';
    const kubeRepo = text(
      withTemplateErrors(repoVar, text(store.rawValue(repoVar) ?? ''), () => store.lookup(repoVar)),
    );
    const proxy = truthyVar(store, 'kube_proxy_deployed', true);
    const skip = truthyVar(store, 'skip_kubeadm_images', false);
    const tag = `v${kubeV.replace(/^v/, '')}`;
    for (const name of KUBEADM_IMAGES) {
      const enabled = downloadContainer && !skip && (name !== 'kube-proxy' || proxy);
      if (!enabled && !opts.all) continue;
      const repo = `${kubeRepo}/${name}`;
      addImage({ key: `kubeadm_${name}`, ref: `${repo}:${tag}`, repo, tag, enabled }, platform);
    }
  }

  for (const [i, x] of (opts.extraImages ?? []).entries()) {
    const spec = typeof x === 'string' ? { ref: x } : x;
    const ref = normalizeImageRef(spec.ref);
    const platforms = spec.platforms?.length ? spec.platforms : arches.map((a) => `linux/${a}`);
    const at = ref.indexOf('@');
    const colon = ref.lastIndexOf(':');
    const repo = at >= 0 ? ref.slice(0, at) : ref.slice(0, colon);
    const tag = at >= 0 ? ref.slice(at + 1) : ref.slice(colon + 1);
    for (const p of platforms)
      addImage({ key: `extra_image_${i}`, ref, repo, tag, enabled: true, extra: true }, p);
    const img = images.get(ref)!;
    img.extra = true;
  }
  for (const [i, f] of (opts.extraFiles ?? []).entries()) {
    const sha = f.sha256.replace(/^sha256:/, '').toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(sha)) {
      throw new FerryError('CONFIG', `extraFiles[${i}]: sha256 '${f.sha256}' is not 64 hex digits.`, {
        artifact: f.url,
      });
    }
    let p: string | undefined;
    if (f.path) {
      const segs = f.path.split('/').filter(Boolean);
      if (f.path.startsWith('/') || segs.some((s) => s === '..' || s === '.' || s.includes('\\'))) {
        throw new FerryError(
          'HOSTILE',
          `extraFiles[${i}].path '${f.path}' must be a relative path inside the bundle.`,
          { artifact: f.url },
        );
      }
      p = ['files', ...segs].join('/');
    }
    const key = `extra_file_${i}`;
    addFile({
      key,
      arch: arches[0],
      url: f.url,
      checksum: `sha256:${sha}`,
      enabled: true,
      extra: true,
      path: p,
    });
    const got = files.get(f.url)!;
    got.extra = true;
    for (const a of arches) if (!got.arches.includes(a)) got.arches.push(a);
  }

  const plan: ComputedPlan = {
    kubespray: data.tag,
    kubeVersion,
    arches,
    files: [...files.values()].filter((f) => opts.all || f.enabled),
    images: [...images.values()].filter((i) => opts.all || i.enabled),
    vars: toPlain(
      PyDict.from([...asDict(opts.inventoryVars).entries(), ...asDict(opts.vars).entries()]),
    ) as Record<string, unknown>,
  };
  if (data.tag !== 'unknown' && data.source.kind !== 'dir') {
    plan.kubesprayTarball = { url: tarballUrl(data.tag), path: tarballBundlePath(data.tag) };
  }
  if (charts.length) plan.charts = charts;
  if (warnings.length) plan.warnings = warnings;
  return plan;
}

/** The cilium chart when this tag's cilium role runs `cilium install` and can be pointed at files_repo. */
function cilium(data: KubesprayData, store: VarStore, charts: PlanChart[], warnings: string[]): void {
  const plugin = store.has('kube_network_plugin')
    ? text(
        withTemplateErrors('kube_network_plugin', text(store.rawValue('kube_network_plugin') ?? ''), () =>
          store.lookup('kube_network_plugin'),
        ),
      )
    : '';
  // The network_plugin role runs cilium for either (roles/network_plugin/meta/main.yml).
  if (plugin !== 'cilium' && !truthyVar(store, 'cilium_deploy_additionally', false)) return;
  const mode = ciliumInstallMode(data.tag);
  if (mode === 'manifests') return;
  if (mode !== 'chart') {
    warnings.push(
      mode === 'unknown'
        ? `Ferry cannot tell which Kubespray this is, so it does not carry cilium's Helm chart; if its cilium role runs 'cilium install', nodes will reach for https://helm.cilium.io/ offline.`
        : `Kubespray ${data.tag} installs cilium with 'cilium install', which downloads its Helm chart from https://helm.cilium.io/, and has no cilium_install_extra_flags to point it at files_repo (added in v2.29.0): use Kubespray v2.29.0 or later for an offline cilium cluster.`,
    );
    return;
  }
  const v = withTemplateErrors('cilium_version', text(store.rawValue('cilium_version') ?? ''), () =>
    store.lookup('cilium_version'),
  );
  if (v instanceof Undefined || !text(v))
    throw new FerryError('CONFIG', `Kubespray ${data.tag} defines no cilium_version.`, {
      hint: 'Set cilium_version in the profile.',
    });
  charts.push(ciliumChart(text(v)));
}

function lookupVar(store: VarStore, name: string): PyValue {
  return withTemplateErrors(name, text(store.rawValue(name) ?? ''), () => {
    const v = store.lookup(name);
    if (v instanceof Undefined) throw new FerryError('CONFIG', `${name}: ${v.message}`);
    return v;
  });
}

function truthyVar(store: VarStore, name: string, dflt: boolean): boolean {
  if (!store.has(name)) return dflt;
  return withTemplateErrors(name, text(store.rawValue(name) ?? ''), () => {
    const v = store.lookup(name);
    if (v instanceof Undefined) throw new FerryError('CONFIG', `${name}: ${v.message}`);
    return truthy(v);
  });
}

function checkKubeVersion(data: KubesprayData, store: VarStore, kubeV: string, arch: string): void {
  const table = store.lookup('kubelet_checksums');
  if (!(table instanceof PyDict)) return;
  const forArch = table.get(arch);
  if (!(forArch instanceof PyDict)) return;
  if (!forArch.has(kubeV)) {
    const supported = forArch.keys().map(pyStr);
    throw new FerryError('CONFIG', `Kubespray ${data.tag} does not support Kubernetes ${kubeV} on ${arch}.`, {
      hint: `Choose one of: ${supported.slice(0, 12).join(', ')}${supported.length > 12 ? ', …' : ''}.`,
      details: { supported },
    });
  }
}
