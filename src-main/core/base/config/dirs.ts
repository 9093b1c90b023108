import os from 'node:os';
import path from 'node:path';

/**
 * Where Ferry keeps its keys and settings, and its data (store, caches), per OS convention.
 * FERRY_CONFIG_DIR / FERRY_DATA_DIR override both (tests, portable installs).
 */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FERRY_CONFIG_DIR) return path.resolve(env.FERRY_CONFIG_DIR);
  const home = env.HOME ?? env.USERPROFILE ?? os.homedir();
  if (process.platform === 'win32')
    return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Ferry');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Ferry');
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'ferry');
}

export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FERRY_DATA_DIR) return path.resolve(env.FERRY_DATA_DIR);
  const home = env.HOME ?? env.USERPROFILE ?? os.homedir();
  if (process.platform === 'win32')
    return path.join(env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local'), 'Ferry');
  if (process.platform === 'darwin')
    return path.join(home, 'Library', 'Application Support', 'Ferry', 'data');
  return path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'ferry');
}
