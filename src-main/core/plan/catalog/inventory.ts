import fs from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../../base/errors/index.js';
import { PyDict } from './jinja/values.js';
import { parseYaml11 } from './yaml11.js';

const EXTENSIONS = ['', '.yml', '.yaml', '.json'];

/** The groups whose variables apply to every Kubespray node, lowest precedence first. */
export const INVENTORY_GROUPS = ['all', 'k8s_cluster'];

async function kind(p: string): Promise<'dir' | 'file' | null> {
  const st = await fs.stat(p).catch(() => null);
  return st ? (st.isDirectory() ? 'dir' : st.isFile() ? 'file' : null) : null;
}

/** Ansible's _get_dir_vars_files: sorted, recursive, hidden and backup files skipped. */
async function dirVarsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await fs.readdir(dir)).sort()) {
    if (name.startsWith('.') || name.endsWith('~')) continue;
    const ext = path.extname(name);
    const full = path.join(dir, name);
    const k = await kind(full);
    if (k === 'dir' && !ext) out.push(...(await dirVarsFiles(full)));
    else if (k === 'file' && (!ext || EXTENSIONS.includes(ext))) out.push(full);
  }
  return out;
}

/** Ansible's find_vars_files: the first of group_vars/<g>, <g>.yml, <g>.yaml, <g>.json that exists wins. */
async function groupFiles(groupVars: string, group: string): Promise<string[]> {
  for (const ext of EXTENSIONS) {
    const p = path.join(groupVars, group + ext);
    const k = await kind(p);
    if (k === 'dir') return dirVarsFiles(p);
    if (k === 'file') return [p];
  }
  return [];
}

/**
 * Reads a Kubespray inventory folder's group_vars for the groups every node belongs to (all, then
 * k8s_cluster, which overrides it), the way Ansible's host_group_vars plugin does. Returns the
 * merged variables (whole values replace, hash_behaviour=replace) and the files read, in order.
 */
export async function readInventory(dir: string): Promise<{ vars: PyDict; files: string[] }> {
  const root = path.resolve(dir);
  const rootKind = await kind(root);
  if (rootKind === null)
    throw new FerryError('NOT_FOUND', `Inventory folder ${root} does not exist.`, { artifact: root });
  // Accept the inventory folder or, for convenience, its inventory file.
  const base = rootKind === 'file' ? path.dirname(root) : root;
  const groupVars = path.join(base, 'group_vars');
  if ((await kind(groupVars)) !== 'dir') {
    throw new FerryError('NOT_FOUND', `${base} has no group_vars folder.`, {
      artifact: base,
      hint: 'Point --inventory at your Kubespray inventory folder (the one holding group_vars/all and group_vars/k8s_cluster).',
    });
  }
  const vars = new PyDict();
  const files: string[] = [];
  for (const group of INVENTORY_GROUPS) {
    for (const file of await groupFiles(groupVars, group)) {
      const value = parseYaml11(await fs.readFile(file, 'utf8'), file);
      if (value === null) continue;
      if (!(value instanceof PyDict)) {
        throw new FerryError('CONFIG', `${file} must be a map of variables.`, {
          artifact: file,
          hint: 'Each group_vars file holds `name: value` pairs.',
        });
      }
      for (const [k, v] of value.entries()) vars.set(k, v);
      files.push(file);
    }
  }
  return { vars, files };
}
