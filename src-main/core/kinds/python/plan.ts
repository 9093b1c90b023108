import path from 'node:path';
import { FerryError } from '../../base/errors/index.js';
import { dataDir } from '../../base/config/dirs.js';
import { HttpClient, type HttpClientOptions } from '../../fetch/download/http-client.js';
import type { MirrorMap } from '../../fetch/download/mirrors.js';
import { mergeProxyConfig, proxyConfigFromEnv, type ProxyConfig } from '../../fetch/download/proxy.js';
import { IndexClient } from './index-client.js';
import { parseRequirement, parseRequirementsFile } from './markers.js';
import { resolveWheels, type RequirementLine } from './resolve.js';
import type { ResolvedWheelSet } from './set.js';
import { DEFAULT_INDEX, PythonRequestSchema, type PythonRequest } from './request.js';
import { OS_TARGETS, resolveTarget, type PythonTarget } from './targets.js';

export { DEFAULT_INDEX, PythonRequestSchema, type PythonRequest };

/**
 * What the user asks for the deploy host's Python (flags, the profile's `python:`, the app's
 * cluster step) → the plan's wheel sets, one per target (Python version × architecture).
 */

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
        throw new FerryError('INVALID_CHOICE', `${os} does not install Python ${py}.`, {
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
  proxy?: ProxyConfig | undefined;
  mirrors?: MirrorMap | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  signal?: AbortSignal | undefined;
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
      mirrors: opts.mirrors,
      signal: opts.signal,
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
