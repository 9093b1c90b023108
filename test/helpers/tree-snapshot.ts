import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** Every entry under `root` with its type, size, mtime and content hash: to prove nothing was written. */
export async function snapshotTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string) => {
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      const st = await fs.lstat(p);
      const rel = path.relative(root, p);
      if (e.isDirectory()) {
        out[rel] = `dir ${st.mtimeMs}`;
        await walk(p);
      } else if (e.isFile()) {
        out[rel] = `file ${st.size} ${st.mtimeMs} ${createHash('sha256')
          .update(await fs.readFile(p))
          .digest('hex')}`;
      } else out[rel] = `other ${st.mode}`;
    }
  };
  await walk(root);
  return out;
}
