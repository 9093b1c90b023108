/**
 * Names of the tool kind (docs/bundle-format.md), with no imports: the kind's registry entry
 * (kind.ts) and the bundle writer's registry import this without pulling the copy machinery in.
 */

export const TOOL_NAME = 'ferry';
export const TOOLS_DIR = 'tools';

export function toolFileName(platform: string): string {
  return `${TOOL_NAME}-${platform}${platform.startsWith('win32-') ? '.exe' : ''}`;
}

export function toolId(name: string, platform: string): string {
  return `tool:${name}-${platform}`;
}

/** Where a bundle keeps the executable: tools/ferry-<platform>. */
export function toolPath(platform: string): string {
  return `${TOOLS_DIR}/${toolFileName(platform)}`;
}
