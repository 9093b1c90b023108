import type { BundleSummary } from '../contract.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { describeBundle, type FoundBundle } from '../../core/media/scan/index.js';
/** A bundle folder or an archive export, summarised by core's scan, with a token to act on it. */
export async function summarize(s: AppServices, dir: string): Promise<BundleSummary> {
  return summaryView(s, await describeBundle(dir, await s.keyStore.list()));
}

export function summaryView(s: AppServices, b: FoundBundle): BundleSummary {
  const picked = s.picks.add(b.dir, 'bundle', 'folder');
  const { dir: _dir, signature, ...rest } = b;
  return { token: picked.token, label: picked.label, ...rest, signature: { ...signature } };
}

/** bundle.open: a picked bundle folder or archive export, summarised. */
export function bundleHandlers(s: AppServices): Pick<Handlers, 'bundle.open'> {
  return {
    'bundle.open': ({ token }) => summarize(s, s.picks.resolve(token, 'bundle')),
  };
}
