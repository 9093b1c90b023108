import type { HttpClient } from '../core/fetch/download/http-client.js';
import type { MirrorMap } from '../core/fetch/download/mirrors.js';
import type { ProxyConfig } from '../core/fetch/download/proxy.js';
import type { CommandContext } from './command.js';
import { printJsonLine } from './output.js';

/**
 * The `fetchTarball` hook that `plan` and `fetch` hand to the catalog: a Kubespray tag's release
 * tarball comes through the same download layer, proxy and mirrors as every other file, and is
 * cached, so planning by tag works on any machine that can fetch.
 */
export function kubesprayTarballFetcher(
  ctx: CommandContext,
  net: { mirrors?: MirrorMap; proxy?: ProxyConfig },
  /** Commands whose --json output is a stream of JSON lines report the download as one; others keep stdout for their single JSON document. */
  opts: { jsonLines?: boolean } = {},
): { fetchTarball: (tag: string, url: string) => Promise<string>; close: () => Promise<void> } {
  let client: HttpClient | undefined;
  return {
    fetchTarball: async (tag, url) => {
      // The download layer (undici) loads only when a tag has to be downloaded: planning from a
      // folder or a tarball on disk never pays for it (ferry plan's start-up, bench/cli).
      const [{ HttpClient }, { mergeProxyConfig, proxyConfigFromEnv }, { fetchKubesprayTarball }] =
        await Promise.all([
          import('../core/fetch/download/http-client.js'),
          import('../core/fetch/download/proxy.js'),
          import('../core/fetch/tarball.js'),
        ]);
      client ??= new HttpClient({ proxy: mergeProxyConfig(proxyConfigFromEnv(ctx.env), net.proxy) });
      if (!ctx.json && ctx.stderr.isTTY) ctx.stderr.write(`Downloading Kubespray ${tag}…\n`);
      const r = await fetchKubesprayTarball(client, tag, url, {
        env: ctx.env,
        mirrors: net.mirrors,
        signal: ctx.signal,
      });
      if (ctx.json && opts.jsonLines && r.downloaded)
        printJsonLine(ctx, {
          type: 'log',
          level: 'info',
          message: `Kubespray ${tag}: ${url} sha256:${r.sha256} (no published checksum; recorded)`,
        });
      return r.file;
    },
    close: async () => {
      await client?.close();
    },
  };
}
