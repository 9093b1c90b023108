import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract } from 'tar';
import { FerryError } from '../base/errors/index.js';
import { writeFileAtomic } from '../base/fs/atomic.js';
import type { BundleSource } from '../bundle/source.js';
import { kubesprayRelease } from '../kinds/index.js';
import { planNodes, renderInventory, type NodeSpec } from './inventory.js';

/**
 * The deploy folder, one per cluster: Kubespray unpacked from the bundle, the inventory Ferry
 * wrote (or the user's, copied), offline.yml in its group_vars, the callback plugin and the
 * Ansible log. Everything a technician needs to rerun by hand is in one place.
 */
export interface Workspace {
  dir: string;
  kubespray: string;
  inventoryDir: string;
  /** What `-i` gets: the inventory folder (hosts.yaml plus group_vars beside it). */
  inventory: string;
  pluginDir: string;
  logFile: string;
  /** The inventory's hosts as Ansible reads them (names, connection, address, user, port, key). */
  hosts: InventoryHost[];
}

const MARKER = '.ferry-kubespray';

/**
 * Unpacks the bundle's Kubespray release, hashing the tarball while it streams through the
 * extractor: the bytes unpacked are the bytes the manifest lists, even if the file changed since
 * the bundle was verified. A finished unpack is marked with the tarball's digest, so a rerun (or
 * a resume after a crash) reuses it only when it is complete and from the same release.
 */
export async function unpackKubespray(
  src: BundleSource,
  dir: string,
): Promise<{ dir: string; version: string }> {
  const art = kubesprayRelease(src.manifest)?.artifact;
  const rel = art?.paths[0];
  const entry = rel ? src.entry(rel) : undefined;
  const file = rel ? src.filePath(rel) : undefined;
  if (!art || !rel || !entry || !file)
    throw new FerryError('NOT_FOUND', `Bundle ${src.id} carries no Kubespray release to deploy with.`, {
      artifact: 'kubespray/',
      hint: 'Fetch the bundle with its Kubespray release (the default of ferry fetch).',
    });
  const target = path.join(dir, 'kubespray');
  const marker = path.join(target, MARKER);
  const done = await fsp.readFile(marker, 'utf8').catch(() => '');
  if (done.trim() === entry.sha256) return { dir: target, version: art.version };
  const tmp = `${target}.partial`;
  await fsp.rm(tmp, { recursive: true, force: true });
  await fsp.mkdir(tmp, { recursive: true });
  const hash = createHash('sha256');
  const tee = new Transform({
    transform(chunk, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    // strip: 1 removes GitHub's kubespray-<version>/ top folder; tar refuses absolute paths,
    // '..' and writes through symlinks by default, so nothing lands outside tmp.
    await pipeline(fs.createReadStream(file), tee, tarExtract({ cwd: tmp, strip: 1 }));
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw new FerryError('INTEGRITY', `Cannot unpack ${rel}: ${(err as Error).message}`, {
      artifact: rel,
      hint: 'Run ferry verify on the bundle; re-export it if the tarball is damaged.',
      cause: err,
    });
  }
  const got = hash.digest('hex');
  if (got !== entry.sha256) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw new FerryError('CHECKSUM', `${rel} changed since the bundle was verified (sha256 ${got}).`, {
      artifact: rel,
      hint: 'Something is writing to the bundle: re-import or re-verify it.',
    });
  }
  await fsp.writeFile(path.join(tmp, MARKER), entry.sha256 + '\n');
  await fsp.rm(target, { recursive: true, force: true });
  await fsp.rename(tmp, target);
  return { dir: target, version: art.version };
}

export interface WorkspaceOptions {
  source: BundleSource;
  dir: string;
  /** Nodes to write hosts.yaml for; or… */
  nodes?: NodeSpec[] | undefined;
  /** …an existing Kubespray inventory folder, copied in (the user's stays untouched). */
  inventoryFrom?: string | undefined;
  /** offline.yml as written by `ferry vars`. */
  offlineYml: string;
  pythonInterpreter?: string | undefined;
  /** ansible-inventory, to read host names from any inventory format. */
  ansibleInventory?: string;
  env?: NodeJS.ProcessEnv | undefined;
}

export async function prepareWorkspace(o: WorkspaceOptions): Promise<Workspace> {
  await fsp.mkdir(o.dir, { recursive: true });
  const ks = await unpackKubespray(o.source, o.dir);
  const inventoryDir = path.join(o.dir, 'inventory');
  if (o.inventoryFrom) {
    const from = path.resolve(o.inventoryFrom);
    if (!(await fsp.stat(from).catch(() => undefined))?.isDirectory())
      throw new FerryError('CONFIG', `--inventory ${o.inventoryFrom} is not a folder.`, {
        artifact: o.inventoryFrom,
        hint: 'Give the inventory folder (the one holding hosts.yaml or inventory.ini and group_vars).',
      });
    if (from !== inventoryDir) {
      await fsp.rm(inventoryDir, { recursive: true, force: true });
      await fsp.cp(from, inventoryDir, { recursive: true, verbatimSymlinks: true });
    }
  } else {
    const nodes = planNodes(o.nodes ?? []);
    await fsp.mkdir(inventoryDir, { recursive: true });
    await writeFileAtomic(
      path.join(inventoryDir, 'hosts.yaml'),
      renderInventory(nodes, o.pythonInterpreter ? { pythonInterpreter: o.pythonInterpreter } : {}),
    );
  }
  const gv = path.join(inventoryDir, 'group_vars', 'all');
  await fsp.mkdir(gv, { recursive: true });
  await writeFileAtomic(path.join(gv, 'offline.yml'), o.offlineYml);
  const hosts = await inventoryHosts(inventoryDir, o.ansibleInventory ?? 'ansible-inventory', o.env);
  return {
    dir: o.dir,
    kubespray: ks.dir,
    inventoryDir,
    inventory: inventoryDir,
    pluginDir: path.join(o.dir, 'callback_plugins'),
    logFile: path.join(o.dir, 'ansible.log'),
    hosts,
  };
}

export interface InventoryHost {
  name: string;
  connection: string;
  address: string;
  user?: string | undefined;
  port?: number | undefined;
  key?: string | undefined;
}

/** Hosts as Ansible itself reads the inventory (any format, group_vars applied). */
export async function inventoryHosts(
  inventory: string,
  ansibleInventory = 'ansible-inventory',
  env: NodeJS.ProcessEnv = process.env,
): Promise<InventoryHost[]> {
  const { code, stdout, stderr } = await capture(ansibleInventory, ['-i', inventory, '--list'], env);
  if (code !== 0)
    throw new FerryError(
      'CONFIG',
      `Ansible cannot read the inventory ${inventory}: ${stderr.trim().slice(-500)}`,
      {
        artifact: inventory,
      },
    );
  let json: { _meta?: { hostvars?: Record<string, Record<string, unknown>> } };
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new FerryError('CONFIG', `ansible-inventory printed no JSON for ${inventory}.`, {
      artifact: inventory,
    });
  }
  const vars = json._meta?.hostvars ?? {};
  const names = new Set<string>(Object.keys(vars));
  // Hosts with no variables at all are only listed in their groups.
  for (const [k, g] of Object.entries(json))
    if (k !== '_meta' && g && typeof g === 'object' && Array.isArray((g as { hosts?: unknown }).hosts))
      for (const h of (g as { hosts: string[] }).hosts) names.add(h);
  return [...names].sort().map((name) => {
    const v = vars[name] ?? {};
    const s = (k: string) =>
      typeof v[k] === 'string' || typeof v[k] === 'number' ? String(v[k]) : undefined;
    return {
      name,
      connection: s('ansible_connection') ?? 'ssh',
      address: s('ansible_host') ?? name,
      user: s('ansible_user'),
      port: s('ansible_port') ? Number(s('ansible_port')) : undefined,
      key: s('ansible_ssh_private_key_file') ?? s('ansible_private_key_file'),
    };
  });
}

export function capture(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  input?: string,
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        new FerryError(err.code === 'ENOENT' ? 'NOT_FOUND' : 'IO', `Cannot run ${cmd}: ${err.message}`, {
          artifact: cmd,
          hint: 'Install ansible-core (and openssh-client) on the deploy host, or use the bundle’s virtualenv.',
        }),
      ),
    );
    child.on('close', (code, sig) => resolve({ code: code ?? (sig ? 124 : 1), stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}
