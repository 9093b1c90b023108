import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The shared data folder sits beside the repository (on developer machines and in CI). */
export const sharedDir = process.env.FERRY_SHARED_DIR ?? path.resolve(repoRoot, '../shared');
export const kubesprayDataDir = path.join(sharedDir, 'kubespray');

export function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * For tests that need an external program (skopeo, docker-registry, nginx…). On a developer
 * machine without it the test is skipped with the reason; in CI (CI=true) a missing tool is a
 * failure, because .ci/run installs every tool the suite needs.
 */
export function missingTools(...names: string[]): string[] {
  const missing = names.filter((n) => !hasTool(n));
  if (missing.length && process.env.CI === 'true') {
    throw new Error(`CI must have ${missing.join(', ')} installed (see .ci/run)`);
  }
  return missing;
}

/** describe.skipIf helper: true when the tools are absent (outside CI). */
export function lacks(...names: string[]): boolean {
  return missingTools(...names).length > 0;
}

/**
 * describe.skipIf / it.skipIf helper for a condition other than a missing program (the shared
 * Kubespray data, root, a Linux-only kernel feature): on a developer machine that lacks it the
 * test is skipped; in CI it is a failure naming what is missing, since CI must provide it.
 */
export function lacksCondition(missing: boolean, what: string): boolean {
  if (missing && process.env.CI === 'true') throw new Error(`CI must provide ${what} (see .ci/run)`);
  return missing;
}
