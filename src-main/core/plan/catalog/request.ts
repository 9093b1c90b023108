import fs from 'node:fs/promises';
import { FerryError } from '../../base/errors/index.js';
import { profileVars } from '../profile/load.js';
import type { Profile } from '../profile/schema.js';
import { fromPlain, PyDict, type PyValue } from './jinja/values.js';
import { checkChoices, unknownVariableWarnings, type PlanWarning } from './check.js';
import { readInventory } from './inventory.js';
import { ARCHES, computePlan, normalizeKubeVersion, type ComputeOptions, type ComputedPlan } from './plan.js';
import { loadKubespray, type KubesprayData, type LoadOptions } from './source.js';
import { parseYaml11 } from './yaml11.js';

/** Everything a user can say about the plan, from flags and the profile (flags win). */
export interface PlanRequest {
  /** A tag, a source folder or a tarball path (--kubespray); else the profile's `kubespray`. */
  kubespray?: string | undefined;
  profile?: Profile | undefined;
  /** Inventory folder (--inventory); else the profile's `inventory`. */
  inventory?: string | undefined;
  /** `KEY=VALUE` pairs (--set), values parsed as YAML 1.1. */
  sets?: string[];
  /** --kube-version: shorthand for kube_version, spelled the way the tag expects. */
  kubeVersion?: string | undefined;
  arches?: string[] | undefined;
  all?: boolean;
}

/** Splits `KEY=VALUE` and types VALUE as Ansible's YAML would (`true`, `1.17`, `[a, b]`). */
export function parseSet(pair: string): [string, PyValue] {
  const eq = pair.indexOf('=');
  const key = eq < 0 ? '' : pair.slice(0, eq).trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
    throw new FerryError('USAGE', `--set '${pair}': expected KEY=VALUE with a variable name as KEY.`, {
      hint: 'Example: --set kube_network_plugin=cilium',
    });
  }
  const text = pair.slice(eq + 1);
  if (text.trim() === '') return [key, ''];
  try {
    return [key, parseYaml11(text, `--set ${key}`)];
  } catch (err) {
    // A malformed value on the command line is a usage error (exit 2), not a broken file.
    if (err instanceof FerryError && err.code === 'CONFIG')
      throw new FerryError('USAGE', err.message, {
        artifact: `--set ${key}`,
        hint: `Quote the value for YAML, e.g. --set '${key}=[a, b]' or --set '${key}="text"'.`,
      });
    throw err;
  }
}

/** Interprets --kubespray: an existing folder, an existing file (tarball), or a tag. */
export async function kubespraySource(
  value: string,
): Promise<{ dir?: string; tarball?: string; tag?: string }> {
  const st = await fs.stat(value).catch(() => null);
  if (st?.isDirectory()) return { dir: value };
  if (st?.isFile()) return { tarball: value };
  if (/^v\d+\.\d+\.\d+/.test(value)) return { tag: value };
  throw new FerryError(
    'USAGE',
    `--kubespray '${value}' is neither a folder, a file, nor a tag like v2.31.0.`,
    {
      hint: 'Pass a Kubespray tag (v2.31.0), a Kubespray source folder or a release tarball.',
    },
  );
}

export function parseArches(values: string[] | undefined): string[] | undefined {
  if (!values?.length) return undefined;
  const out = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  for (const a of out) {
    if (!(ARCHES as readonly string[]).includes(a)) {
      throw new FerryError('USAGE', `Unknown architecture '${a}'.`, {
        hint: `Use ${ARCHES.join(', ')} or both: --arch amd64,arm64.`,
      });
    }
  }
  return [...new Set(out)];
}

/** Loads Kubespray and the variables from every source, in precedence order, and computes the plan. */
/** The Kubespray a request names: --kubespray, else the profile's `kubespray:`. */
export async function requestSource(
  req: Pick<PlanRequest, 'kubespray' | 'profile'>,
): Promise<{ dir?: string; tarball?: string; tag?: string }> {
  if (req.kubespray) return kubespraySource(req.kubespray);
  const profile = req.profile;
  if (profile?.kubespray)
    return typeof profile.kubespray === 'string' ? { tag: profile.kubespray } : profile.kubespray;
  throw new FerryError(
    'USAGE',
    'Which Kubespray? Neither --kubespray nor a profile with `kubespray:` was given.',
    {
      hint: 'ferry plan --kubespray v2.31.0 (or a Kubespray folder or tarball), or ferry plan --profile ferry.yaml',
    },
  );
}

export async function planFromRequest(
  req: PlanRequest,
  opts: LoadOptions = {},
): Promise<{ plan: ComputedPlan; data: KubesprayData; options: ComputeOptions; warnings: PlanWarning[] }> {
  const profile = req.profile;
  const source = await requestSource(req);
  const data = await loadKubespray(source, opts);

  const inventoryDir = req.inventory ?? profile?.inventory;
  const inventoryVars = inventoryDir ? (await readInventory(inventoryDir)).vars : new PyDict();

  // Who set each variable, the highest layer last, for the checks' messages.
  const given: { name: string; source: string }[] = [];
  const sourceOf = new Map<string, string>();
  const note = (name: string, source: string) => {
    given.push({ name, source });
    sourceOf.set(name, source);
  };
  for (const k of inventoryVars.keys()) note(String(k), `the inventory ${inventoryDir}`);

  // Extra-vars level, lowest first: profile vars, profile kubeVersion, --set, --kube-version.
  const vars = new PyDict();
  if (profile) for (const [k, v] of profileVars(profile).entries()) vars.set(k, v);
  // A profile built in code (not loaded from YAML) has only plain values.
  if (profile?.vars && !profileVars(profile).size)
    for (const [k, v] of Object.entries(profile.vars)) vars.set(k, fromPlain(v));
  for (const k of vars.keys()) note(String(k), 'the profile');
  if (profile?.kubeVersion) vars.set('kube_version', normalizeKubeVersion(data, profile.kubeVersion));
  for (const s of req.sets ?? []) {
    const [k, v] = parseSet(s);
    vars.set(k, v);
    note(k, '--set');
  }
  if (req.kubeVersion) vars.set('kube_version', normalizeKubeVersion(data, req.kubeVersion));

  // Before the plan: a refused value would otherwise yield a plan missing its component.
  checkChoices(data, { vars, inventoryVars }, (n) => sourceOf.get(n) ?? 'the inventory');
  const warnings = unknownVariableWarnings(data, given);

  const arches = req.arches ?? profile?.arch ?? ['amd64'];
  const options: ComputeOptions = {
    arches,
    vars,
    inventoryVars,
    all: req.all,
    extraImages: profile?.extraImages,
    extraFiles: profile?.extraFiles,
  };
  return { plan: computePlan(data, options), data, options, warnings };
}
