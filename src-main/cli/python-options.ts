import { FerryError } from '../core/base/errors/index.js';
import type { ProxyConfig } from '../core/fetch/download/proxy.js';
import type { MirrorMap } from '../core/fetch/download/mirrors.js';
import type { KubesprayData } from '../core/plan/catalog/source.js';
import type { Profile } from '../core/plan/profile/schema.js';
import { planPython } from '../core/kinds/python/plan.js';
import { PY_ARCHES, type PythonRequest } from '../core/kinds/python/request.js';
import type { ResolvedWheelSet } from '../core/kinds/python/set.js';
import type { CommandContext, OptionSpec } from './command.js';
import { str, strs } from './output.js';

/**
 * The deploy-host Python options `ferry plan` and `ferry fetch` share. Python is resolved only
 * when asked (a flag here, or `python:` in the profile): it needs the package index, and a plan
 * without it works from Kubespray's data alone.
 */

/** --deploy-os comes from the cluster options (shared with the OS packages); it names the Python's OS too. */
export function pythonOptions(): Record<string, OptionSpec> {
  return {
    python: {
      type: 'string',
      multiple: true,
      valueName: 'X.Y',
      description:
        "Deploy host's Python version(s), e.g. 3.11 or 3.11,3.12: resolve Kubespray's requirements.txt to wheels.",
    },
    'deploy-arch': {
      type: 'string',
      multiple: true,
      valueName: 'ARCHES',
      description: 'Deploy host architecture(s): x86_64, aarch64 or x86_64,aarch64 (default x86_64).',
    },
    glibc: {
      type: 'string',
      valueName: 'X.Y',
      description: "Deploy host's glibc level for manylinux wheels (default: the OS's).",
    },
    'pip-index': {
      type: 'string',
      multiple: true,
      valueName: 'URL',
      description:
        'Python simple index to resolve from (default https://pypi.org/simple/; an internal PyPI, devpi, Nexus).',
    },
    'pip-requirement': {
      type: 'string',
      multiple: true,
      valueName: 'REQ',
      description: "An extra Python requirement besides Kubespray's (PEP 508, e.g. 'kubernetes==31.0.0').",
    },
    'allow-sdist': {
      type: 'string',
      multiple: true,
      valueName: 'NAMES',
      description: "Take an sdist where a project has no wheel for the deploy host (names, or ':all:').",
    },
  };
}

const list = (v: unknown) =>
  strs(v)
    .flatMap((x) => x.split(','))
    .map((x) => x.trim())
    .filter(Boolean);

/** Flags over the profile's `python:`; undefined when neither asks for Python. */
export function pythonRequest(
  values: CommandContext['values'],
  profile?: Profile,
): PythonRequest | undefined {
  const base: PythonRequest = { ...(profile?.python ?? {}) };
  const pythons = list(values.python);
  const arches = list(values['deploy-arch']);
  for (const a of arches) {
    if (!(PY_ARCHES as readonly string[]).includes(a)) {
      throw new FerryError('USAGE', `Unknown deploy-host architecture '${a}'.`, {
        hint: `Use ${PY_ARCHES.join(', ')} (Python's names; the cluster's --arch takes amd64/arm64).`,
      });
    }
  }
  const os = str(values['deploy-os']);
  const glibc = str(values.glibc);
  const indexes = strs(values['pip-index']);
  const extra = strs(values['pip-requirement']);
  const sdist = list(values['allow-sdist']);
  const asked =
    pythons.length || arches.length || os || glibc || indexes.length || extra.length || sdist.length;
  if (!asked && !profile?.python) return undefined;
  if (os) {
    base.os = os;
    // A named OS replaces the profile's Python and glibc unless flags give them too.
    delete base.python;
    delete base.glibc;
  }
  if (pythons.length) base.python = pythons;
  if (arches.length) base.arch = arches as PythonRequest['arch'];
  if (glibc) base.glibc = glibc;
  if (indexes.length) base.indexes = indexes;
  if (extra.length) base.requirements = [...(base.requirements ?? []), ...extra];
  if (sdist.length) base.allowSdist = sdist.includes(':all:') ? true : sdist;
  return base;
}

/** Resolve the request for the plan's Kubespray tag, through the same proxy and mirrors as the rest. */
export async function resolvePythonForPlan(
  req: PythonRequest,
  data: Pick<KubesprayData, 'tag' | 'requirements'>,
  ctx: Pick<CommandContext, 'env' | 'signal'>,
  net: { proxy?: ProxyConfig | undefined; mirrors?: MirrorMap | undefined },
): Promise<ResolvedWheelSet[]> {
  return planPython(req, data, { env: ctx.env, signal: ctx.signal, ...net });
}
