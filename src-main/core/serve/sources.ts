import type { BundleSource } from '../bundle/source.js';
import fs from 'node:fs/promises';
import path from 'node:path';
import { registerServedRoot } from './fileserver/send.js';
import { FerryError } from '../base/errors/index.js';
import { storeSources } from '../media/store/index.js';
import type { VerifyOptions } from '../bundle/verify/index.js';
import { openVerifiedBundle } from './verified-source.js';

export interface ServeSourceOptions extends VerifyOptions {
  bundle?: string | undefined;
  store?: string | undefined;
  allowDamaged?: boolean;
}

export interface OpenedSources {
  sources: BundleSource[];
  /** What was checked, for the log line: files and bytes verified, or bundles found in the store. */
  summary: string;
  /** Bundle paths left out because they did not verify (bundle folders only). */
  excluded: string[];
}

/**
 * What `serve`, `vars` and `push` read from: a bundle folder, verified now (signature policy and
 * every byte), or the local store, whose content import verified on the way in.
 */
export async function openServeSources(o: ServeSourceOptions): Promise<OpenedSources> {
  if (!!o.bundle === !!o.store)
    throw new FerryError('USAGE', 'Pass exactly one of --bundle DIR or --store DIR.');
  if (o.store) {
    // The store holds only content import verified (damaged artifacts are quarantined, incomplete bundles left out).
    const sources = await storeSources(o.store);
    registerServedRoot(path.resolve(o.store), await fs.realpath(o.store).catch(() => path.resolve(o.store!)));
    if (sources.length === 0) {
      throw new FerryError('NOT_FOUND', `The store at ${o.store} holds no complete bundle.`, {
        artifact: o.store,
        hint: 'Import one with `ferry import BUNDLE`, or serve a bundle folder with --bundle DIR.',
      });
    }
    return {
      sources,
      summary: `Serving ${sources.length} bundle(s) from the store at ${o.store}`,
      excluded: [],
    };
  }
  const v = await openVerifiedBundle(o.bundle!, o);
  const mib = (v.report.bytes / 1024 / 1024).toFixed(1);
  return {
    sources: [v.source],
    summary:
      `Verified ${v.report.counts.files} files (${mib} MiB) in ${v.report.seconds.toFixed(1)} s` +
      (v.excluded.length ? `; ${v.excluded.length} damaged file(s) left out` : '') +
      // What `ferry verify` reports as EXTRA is named here too, and never served.
      (v.extraProblem ? `; not intact: ${v.extraProblem}, not served` : ''),
    excluded: v.excluded,
  };
}
