import { filePathForUrl } from '../../bundle/paths.js';
import { FerryError } from '../../base/errors/index.js';
import type { PlanChart } from '../plan.js';

/**
 * Cilium's Helm chart. From Kubespray v2.28 the cilium role runs `cilium install --version
 * {{ cilium_version }}`, and the cilium CLI downloads the chart from https://helm.cilium.io/
 * (index.yaml, then cilium-<version>.tgz). Nothing in Kubespray's `downloads` names it, so
 * offline it must be carried and served like any file. v2.29.0 added
 * `cilium_install_extra_flags` and `cilium_extra_values` (roles/network_plugin/cilium), the
 * only way to point the CLI at files_repo; v2.28 has neither; v2.26 and v2.27 apply manifests
 * and need no chart. The cilium role's defaults are not part of the catalog's data (only
 * kubespray_defaults is), so the tag decides.
 */

export const CILIUM_CHART_REPO = 'https://helm.cilium.io/';

export type CiliumInstall = 'chart' | 'cli-without-repository' | 'manifests' | 'unknown';

/** How a Kubespray tag installs cilium (checked against each tag's roles/network_plugin/cilium). */
export function ciliumInstallMode(tag: string): CiliumInstall {
  const m = /^v?(\d+)\.(\d+)\./.exec(tag);
  if (!m) return 'unknown';
  const [maj, min] = [Number(m[1]), Number(m[2])];
  if (maj !== 2) return maj > 2 ? 'chart' : 'manifests';
  if (min >= 29) return 'chart';
  if (min === 28) return 'cli-without-repository';
  return 'manifests';
}

export function ciliumChart(version: string, repo = CILIUM_CHART_REPO): PlanChart {
  const v = version.trim().replace(/^v/, '');
  // A version lands in a URL and a bundle path: semver characters only.
  if (!/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/.test(v)) {
    throw new FerryError('CONFIG', `cilium_version '${version}' is not a chart version.`, {
      artifact: 'cilium_version',
      hint: 'Set cilium_version to a released Cilium version, e.g. 1.18.4.',
    });
  }
  const base = repo.endsWith('/') ? repo : repo + '/';
  const url = `${base}cilium-${v}.tgz`;
  const indexUrl = `${base}index.yaml`;
  return {
    key: 'cilium_chart',
    name: 'cilium',
    version: v,
    repo: base,
    url,
    path: filePathForUrl(url),
    indexUrl,
    indexPath: filePathForUrl(indexUrl),
  };
}
