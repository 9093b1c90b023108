import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { FerryError } from '../../base/errors/index.js';
import { hashFile } from '../../base/fs/atomic.js';
import { TOOL } from '../../bundle/writer.js';
import { TOOL_NAME, toolFileName } from './paths.js';

/**
 * Where `ferry fetch` finds the Ferry executables it carries: the files scripts/build-cli.mjs
 * (`npm run build:cli`) writes to out/cli/, one per deploy-host platform, with the index
 * `ferry-tools.json` that names each one's platform, version, size and sha256. The offline deploy
 * host then runs Ferry from the bundle (`tools/ferry-linux-x64 serve …`) with nothing installed.
 */

/** The deploy hosts Kubespray runs from: Linux on either architecture Kubespray supports. */
export const DEFAULT_TOOL_PLATFORMS = ['linux-x64', 'linux-arm64'] as const;
export const TOOLS_INDEX = 'ferry-tools.json';

/** One executable to carry, found on this machine. */
export interface ToolFile {
  name: string;
  /** Node-style os-arch: 'linux-x64', 'linux-arm64', 'win32-x64', 'darwin-arm64'. */
  platform: string;
  version: string;
  /** Absolute path on this machine. */
  file: string;
  size: number;
  sha256: string;
}

const PLATFORM = /^(linux|darwin|win32)-(x64|arm64)$/;

const IndexSchema = z.object({
  format: z.literal('ferry-tools'),
  version: z.literal(1),
  tools: z.array(
    z.object({
      name: z.string(),
      platform: z.string().regex(PLATFORM),
      version: z.string().min(1),
      file: z.string().regex(/^[A-Za-z0-9._-]+$/),
      size: z.number().int().nonnegative(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
});

/** Ferry's own version, as the bundle's `tool` field names it ('ferry 0.1.0' → '0.1.0'). */
export function ferryVersion(): string {
  return TOOL.replace(/^ferry /, '');
}

/** Running as a single-executable application (the standalone `ferry-<platform>`)? */
function isSea(): boolean {
  try {
    // node:sea answers in any Node 22; a plain `node` process (tsx, ferry.cjs) says false.
    const sea = process.getBuiltinModule?.('node:sea') as { isSea?: () => boolean } | undefined;
    return sea?.isSea?.() === true;
  } catch {
    return false;
  }
}

/** The Ferry checkout's out/cli, found from the running script (tsx, bin/ferry.mjs, ferry.cjs). */
async function checkoutOutCli(script: string | undefined): Promise<string | undefined> {
  if (!script) return undefined;
  let dir = path.dirname(path.resolve(script));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'ferry') return path.join(dir, 'out', 'cli');
    } catch {
      /* not here */
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

/**
 * The folders searched, in order: the one the caller names (`--tools DIR`), else FERRY_TOOLS_DIR,
 * else the folder of the running standalone executable (it sits beside its siblings), else the
 * checkout's out/cli.
 */
export async function toolDirs(opts: {
  dir?: string;
  env?: NodeJS.ProcessEnv;
  script?: string;
}): Promise<string[]> {
  if (opts.dir) return [path.resolve(opts.dir)];
  const env = opts.env ?? process.env;
  if (env.FERRY_TOOLS_DIR) return [path.resolve(env.FERRY_TOOLS_DIR)];
  const dirs: string[] = [];
  if (isSea()) dirs.push(path.dirname(process.execPath));
  const out = await checkoutOutCli(opts.script ?? process.argv[1]);
  if (out) dirs.push(out);
  return [...new Set(dirs)];
}

async function readIndex(dir: string): Promise<z.infer<typeof IndexSchema>['tools']> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, TOOLS_INDEX), 'utf8');
  } catch {
    return [];
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = IndexSchema.safeParse(json);
  if (!parsed.success)
    throw new FerryError('CONFIG', `${path.join(dir, TOOLS_INDEX)} is not an index of Ferry executables.`, {
      artifact: path.join(dir, TOOLS_INDEX),
      hint: 'Build them again with `npm run build:cli`.',
    });
  return parsed.data.tools;
}

export interface FoundTools {
  found: ToolFile[];
  /** Platforms asked for that no searched folder holds. */
  missing: string[];
  searched: string[];
}

/**
 * The executables for `platforms`, each from the first folder that holds it. An executable the
 * build index lists takes its version and sha256 from there (the copy into the bundle checks the
 * bytes against it); one without an index entry is hashed here and gets this Ferry's version.
 */
export async function findTools(opts: {
  platforms?: readonly string[];
  dir?: string;
  env?: NodeJS.ProcessEnv;
  script?: string;
  signal?: AbortSignal;
}): Promise<FoundTools> {
  const platforms = [...new Set(opts.platforms ?? DEFAULT_TOOL_PLATFORMS)];
  for (const p of platforms)
    if (!PLATFORM.test(p))
      throw new FerryError('USAGE', `'${p}' is not a platform Ferry is built for.`, {
        hint: 'Use linux-x64, linux-arm64, darwin-x64, darwin-arm64 or win32-x64.',
      });
  const searched = await toolDirs(opts);
  const found: ToolFile[] = [];
  const missing: string[] = [];
  for (const platform of platforms) {
    let hit: ToolFile | undefined;
    for (const dir of searched) {
      const file = path.join(dir, toolFileName(platform));
      const st = await fs.stat(file).catch(() => undefined);
      if (!st?.isFile()) continue;
      const entry = (await readIndex(dir)).find(
        (t) => t.file === toolFileName(platform) && t.size === st.size,
      );
      hit = {
        name: TOOL_NAME,
        platform,
        version: entry?.version ?? ferryVersion(),
        file,
        size: st.size,
        sha256: entry?.sha256 ?? (await hashFile(file, opts.signal)).sha256,
      };
      break;
    }
    if (hit) found.push(hit);
    else missing.push(platform);
  }
  return { found, missing, searched };
}

/** findTools, or an error naming what is missing, where it looked, and the two ways on. */
export async function requireTools(opts: Parameters<typeof findTools>[0]): Promise<ToolFile[]> {
  const r = await findTools(opts);
  if (r.missing.length === 0) return r.found;
  const where = r.searched.length ? r.searched.join(', ') : 'no folder (no Ferry checkout found)';
  throw new FerryError(
    'NOT_FOUND',
    `The bundle should carry Ferry itself for ${r.missing.join(', ')}, but ${r.missing.map(toolFileName).join(', ')} ${r.missing.length === 1 ? 'is' : 'are'} not in ${where}.`,
    {
      artifact: r.missing.map(toolFileName).join(', '),
      hint: 'Build the executables with `npm run build:cli` (or point --tools / FERRY_TOOLS_DIR at a folder holding them), or pass --no-tools to fetch without them; the offline side then needs Ferry installed another way.',
    },
  );
}
