import path from 'node:path';
import { z } from 'zod';
import { FerryError } from '../../base/errors/index.js';
import { dataDir } from '../../base/config/dirs.js';
import { HttpClient, type HttpClientOptions } from '../../fetch/download/http-client.js';
import type { MirrorMap } from '../../fetch/download/mirrors.js';
import { mergeProxyConfig, proxyConfigFromEnv, type ProxyConfig } from '../../fetch/download/proxy.js';
import { IndexClient } from './index-client.js';
import { parseRequirement, parseRequirementsFile } from './markers.js';
import { resolveWheels, type RequirementLine } from './resolve.js';
import type { ResolvedWheelSet } from './set.js';
import { OS_TARGETS, resolveTarget, type PythonTarget } from './targets.js';

/**
 * What the user asks for the deploy host's Python (flags, the profile's `python:`, the app's
 * cluster step) → the plan's wheel sets, one per target (Python version × architecture).
 */

export const DEFAULT_INDEX = 'https://pypi.org/simple/';
export const PY_ARCHES = ['x86_64', 'aarch64'] as const;

export const PythonRequestSchema = z.strictObject({
  os: z
    .string()
    .optional()
    .describe(
      `The deploy host's OS, which gives its Python and glibc: ${Object.keys(OS_TARGETS).join(', ')}.`,
    ),
  python: z
    .array(z.string().regex(/^3\.\d+$/, 'expected a Python version like 3.11'))
    .min(1)
    .optional()
    .describe("Python version(s) of the deploy host, e.g. ['3.11']; default: the OS's."),
  arch: z
    .array(z.enum(PY_ARCHES))
    .min(1)
    .optional()
    .describe('Deploy-host architecture(s). Default: [x86_64].'),
  glibc: z
    .string()
    .regex(/^2\.\d+$/, 'expected a glibc level like 2.36')
    .optional()
    .describe("glibc level for manylinux wheels; default: the OS's."),
  requirements: z
    .array(z.string().min(1))
    .optional()
    .describe('Extra requirements besides Kubespray’s requirements.txt (PEP 508 lines).'),
  indexes: z
    .array(z.string().url())
    .min(1)
    .optional()
    .describe('Simple index URLs (an internal PyPI, devpi or Nexus). Default: https://pypi.org/simple/.'),
  allowSdist: z
    .union([z.boolean(), z.array(z.string().min(1))])
    .optional()
    .describe('Allow an sdist where a project has no wheel for a target: true, or project names.'),
});
export type PythonRequest = z.infer<typeof PythonRequestSchema>;

/** The targets a request names: each Python version × each architecture, checked against the tag. */
export function targetsOf(req: PythonRequest, kubesprayTag: string): Array<PythonTarget & { os?: string }> {
  const arches = req.arch ?? ['x86_64'];
  const pythons: Array<string | undefined> = req.python ?? [undefined];
  const out: Array<PythonTarget & { os?: string }> = [];
  for (const py of pythons)
    for (const arch of arches) {
      const t = resolveTarget({ os: req.os, python: py, arch, glibc: req.glibc, kubesprayTag });
      const os = req.os;
      if (os && py && !OS_TARGETS[os].installable.includes(py)) {
        throw new FerryError('UNSUPPORTED', `${os} does not install Python ${py}.`, {
          artifact: `python ${py}`,
          hint: `${os} has Python ${OS_TARGETS[os].installable.join(', ')}; choose one of those, or give --glibc instead of --deploy-os.`,
        });
      }
      if (!out.some((o) => o.python === t.python && o.arch === t.arch))
        out.push({ ...t, ...(os ? { os } : {}) });
    }
  return out;
}

/** Kubespray's requirements.txt lines, then the user's extras, each with where it came from. */
export function requirementLines(
  requirementsTxt: string | undefined,
  kubesprayTag: string,
  extras: string[] = [],
): RequirementLine[] {
  const out: RequirementLine[] = [];
  if (requirementsTxt !== undefined) {
    for (const { line } of parseRequirementsFile(
      requirementsTxt,
      `Kubespray ${kubesprayTag} requirements.txt`,
    ))
      out.push({ line, why: `Kubespray ${kubesprayTag} requirements.txt: ${line}` });
  }
  for (const e of extras) {
    parseRequirement(e, 'extra requirement');
    out.push({ line: e, why: `extra requirement: ${e}` });
  }
  if (!out.length) {
    throw new FerryError(
      'NOT_FOUND',
      `Kubespray ${kubesprayTag} has no requirements.txt and no extra requirements were given.`,
      {
        hint: 'Point --kubespray at a whole Kubespray tree or release tarball, or give the requirements.',
      },
    );
  }
  return out;
}

export interface PlanPythonOptions {
  client?: HttpClient;
  http?: Omit<HttpClientOptions, 'proxy' | 'tls'>;
  proxy?: ProxyConfig;
  mirrors?: MirrorMap;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Where verified metadata is cached; default <data dir>/cache/pypi/metadata. */
  cacheDir?: string;
}

/** Resolve every target against the same index session: pages and metadata are fetched once. */
export async function planPython(
  req: PythonRequest,
  kubespray: { tag: string; requirements?: string },
  opts: PlanPythonOptions = {},
): Promise<ResolvedWheelSet[]> {
  const parsed = PythonRequestSchema.safeParse(req);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new FerryError('USAGE', `python.${i.path.join('.')}: ${i.message}`);
  }
  const targets = targetsOf(parsed.data, kubespray.tag);
  const lines = requirementLines(kubespray.requirements, kubespray.tag, parsed.data.requirements);
  const env = opts.env ?? process.env;
  const client =
    opts.client ??
    new HttpClient({ ...(opts.http ?? {}), proxy: mergeProxyConfig(proxyConfigFromEnv(env), opts.proxy) });
  try {
    const index = new IndexClient({
      client,
      indexes: parsed.data.indexes ?? [DEFAULT_INDEX],
      ...(opts.mirrors ? { mirrors: opts.mirrors } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      cacheDir: opts.cacheDir ?? path.join(dataDir(env), 'cache', 'pypi', 'metadata'),
    });
    const out: ResolvedWheelSet[] = [];
    for (const t of targets)
      out.push(await resolveWheels(lines, t, { index, allowSdist: parsed.data.allowSdist }));
    return out;
  } finally {
    if (!opts.client) await client.close();
  }
}

/** `ferry plan`'s text: per target, each distribution and why it is there. */
export function describeWheelSets(sets: readonly ResolvedWheelSet[]): string[] {
  const out: string[] = [];
  for (const s of sets) {
    const t = s.target;
    out.push(
      `Deploy host: Python ${t.python} ${t.arch} glibc ${t.glibc}${t.os ? ` (${t.os})` : ''} — ${s.wheels.length} distributions`,
    );
    const w = Math.max(10, ...s.wheels.map((x) => x.filename.length));
    for (const x of s.wheels) out.push(`  ${x.filename.padEnd(w)}  ${x.why}`);
  }
  return out;
}
