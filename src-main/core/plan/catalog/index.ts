/**
 * The Kubespray catalog: what a given cluster downloads, computed from Kubespray's own role data
 * with an evaluator of the Jinja2 subset it uses (see jinja/). Other modules code against this API.
 */
import { renderString } from './jinja/evaluate.js';
import { fromPlain, PyDict, toPlain } from './jinja/values.js';
import { storeFor } from './plan.js';
import { roleVariableNames, type KubesprayData } from './source.js';
import { withTemplateErrors } from './variables.js';

export {
  ARCHES,
  bundlePathForUrl,
  computePlan,
  normalizeImageRef,
  normalizeKubeVersion,
  renderDownloads,
  storeFor,
  type RenderedDownload,
  supportedKubeVersions,
  type Arch,
  type ComputeOptions,
  type ExtraFile,
  type ExtraImage,
  type ComputedPlan,
  type Plan,
  type PlanChart,
  type PlanFile,
  type PlanFileBuilt,
  type PlanImage,
  type PlanImageBuilt,
} from './plan.js';
export {
  cachedTarballPath,
  loadKubespray,
  tarballBundlePath,
  tarballUrl,
  type KubesprayData,
  type LoadOptions,
} from './source.js';
export { CILIUM_CHART_REPO, ciliumChart, ciliumInstallMode, type CiliumInstall } from './cilium.js';
export { readInventory } from './inventory.js';
export {
  checkChoices,
  choiceRules,
  editDistance,
  nearestName,
  unknownVariableWarnings,
  type ChoiceRule,
  type PlanWarning,
} from './check.js';
export { parseYaml11 } from './yaml11.js';
export { PyDict, PyFloat, toPlain, fromPlain } from './jinja/values.js';

/**
 * Renders any template with Kubespray's variables for `arch` (default amd64) plus `vars` at
 * extra-vars precedence, e.g. to check that generated variables resolve to Ferry's servers.
 * Returns plain JSON values (strings, booleans, lists, objects).
 */
export function evaluateTemplate(
  data: KubesprayData,
  vars: Record<string, unknown> | PyDict,
  template: string,
  opts: { arch?: string; inventoryVars?: Record<string, unknown> | PyDict } = {},
): unknown {
  const store = storeFor(data, opts.arch ?? 'amd64', {
    vars: vars instanceof PyDict ? vars : (fromPlain(vars) as PyDict),
    inventoryVars: opts.inventoryVars,
  });
  return withTemplateErrors('template', template, () => toPlain(renderString(template, store)));
}

/** Names of every variable the tag's kubespray defaults role defines (defaults and vars). */
export function listVariables(data: KubesprayData): string[] {
  return roleVariableNames(data);
}
export {
  kubespraySource,
  parseArches,
  parseSet,
  planFromRequest,
  requestSource,
  type PlanRequest,
} from './request.js';
