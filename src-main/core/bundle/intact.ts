import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Are these bundle files in place at the size the file list gives them (a regular file, not a
 * link)? The cheap check fetch makes before it calls an artifact held: its bytes were verified
 * when they came in, and a size that moved means they did not stay.
 */
export async function filesAtSize(
  dir: string,
  paths: readonly string[],
  sizes: ReadonlyMap<string, number> | ((p: string) => number | undefined),
): Promise<boolean> {
  const sizeOf = typeof sizes === 'function' ? sizes : (p: string) => sizes.get(p);
  for (const p of paths) {
    const size = sizeOf(p);
    if (size === undefined) return false;
    const st = await fs.lstat(path.join(dir, ...p.split('/'))).catch(() => undefined);
    if (!st?.isFile() || st.size !== size) return false;
  }
  return true;
}
