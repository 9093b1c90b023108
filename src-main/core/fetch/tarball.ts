import fs from 'node:fs/promises';
import path from 'node:path';
import { dataDir } from '../base/config/dirs.js';
import { FerryError } from '../base/errors/index.js';
import { fsyncDir, fsyncFile } from '../base/fs/atomic.js';
import { discardPartial, downloadToFile } from './download/download-file.js';
import type { HttpClient } from './download/http-client.js';
import { mirrorUrl, type MirrorMap } from './download/mirrors.js';

/**
 * Kubespray release tarballs (GitHub archive URLs) have no published checksum, so the first
 * download is trusted on first use: its sha256 is recorded next to it in the cache and in the
 * bundle manifest, and later runs reuse the cached file instead of the network.
 */

export function tarballCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(dataDir(env), 'cache', 'kubespray');
}

export function tarballCachePath(tag: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(tag)) {
    throw new FerryError('USAGE', `'${tag}' is not a Kubespray release tag.`, {
      hint: 'Use a tag such as v2.29.1.',
    });
  }
  return path.join(tarballCacheDir(env), `kubespray-${tag}.tar.gz`);
}

export interface TarballResult {
  file: string;
  sha256: string;
  size: number;
  /** False when the cache already had it. */
  downloaded: boolean;
}

export async function fetchKubesprayTarball(
  client: HttpClient,
  tag: string,
  url: string,
  opts: {
    env?: NodeJS.ProcessEnv | undefined;
    mirrors?: MirrorMap | undefined;
    signal?: AbortSignal | undefined;
    onBytes?: ((n: number) => void) | undefined;
    onSize?: ((t: number | undefined, a: number) => void) | undefined;
  } = {},
): Promise<TarballResult> {
  const file = tarballCachePath(tag, opts.env);
  const shaFile = file + '.sha256';
  try {
    const [st, sha] = await Promise.all([fs.stat(file), fs.readFile(shaFile, 'utf8')]);
    const m = /^([0-9a-f]{64}) (\d+)/.exec(sha);
    if (m && Number(m[2]) === st.size) return { file, sha256: m[1], size: st.size, downloaded: false };
  } catch {
    /* not cached yet */
  }
  await fs.mkdir(path.dirname(file), { recursive: true });
  const part = file + '.part';
  const r = await downloadToFile(client, {
    url: mirrorUrl(url, opts.mirrors),
    dest: part,
    label: url,
    signal: opts.signal,
    onBytes: opts.onBytes,
    onSize: opts.onSize,
  });
  await fsyncFile(part);
  await fs.rename(part, file);
  await discardPartial(part);
  await fs.writeFile(shaFile, `${r.sha256} ${r.size} ${url}\n`);
  await fsyncDir(path.dirname(file));
  return { file, sha256: r.sha256, size: r.size, downloaded: true };
}
