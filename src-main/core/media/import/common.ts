import { createHash } from 'node:crypto';
import { FerryError } from '../../base/errors/index.js';
import type { Artifact, FileEntry, Manifest } from '../../bundle/manifest.js';
import type { JobHookOptions, JobHooks } from '../../base/jobs/hooks.js';
import { checkSignature, KeyStore, type SignatureStatus } from '../../bundle/keys/keystore.js';
import type { HashPool } from '../../bundle/verify/hash-pool.js';
import { artifactName, describeSignature, enforceSignature } from '../../bundle/verify/verify-bundle.js';
import { kindOf } from '../../kinds/index.js';
import { resolveFiles } from '../store/sources.js';
import { Store, type BundleRecord } from '../store/store.js';

/**
 * Progress, items and logs go to `job` (the app) or the callbacks (the CLI): base/jobs/hooks.
 * Items: the signature verdict, then per-artifact tiles (waiting, checking, good, damaged, missing).
 */
export interface ImportOptions extends JobHookOptions<ImportItem> {
  /** Store folder; default `<dataDir>/store`. */
  store?: string;
  allowUntrusted?: boolean;
  allowUnsigned?: boolean;
  keyStore?: KeyStore;
  pool?: HashPool;
}

export type ImportItem =
  | { type: 'signature'; status: SignatureStatus['status']; fingerprint?: string; description: string }
  /** `id` is the part's name: the job keeps the latest state per part, not every report. */
  | {
      type: 'part';
      id: string;
      name: string;
      state: 'checking' | 'good' | 'damaged' | 'missing';
      message?: string;
    }
  | {
      type: 'artifact';
      id: string;
      kind: Artifact['kind'];
      name: string;
      state: 'waiting' | 'checking' | 'good' | 'damaged' | 'missing';
      bytes: number;
      message?: string;
    };

export interface ImportReport {
  source: string;
  store: string;
  bundleId: string;
  signature: SignatureStatus;
  status: 'complete' | 'incomplete';
  /** Artifacts by outcome. */
  artifacts: Array<{ id: string; name: string; state: 'good' | 'damaged' | 'missing'; problems?: string[] }>;
  filesCopied: number;
  bytesCopied: number;
  /** Files the store already held (shared with another bundle, or an earlier import). */
  filesShared: number;
  damaged: BundleRecord['damaged'];
  missing: BundleRecord['missing'];
  /** Files on the media the manifest does not list: not imported. */
  extras: string[];
  /** Other stored bundles this import completed (repair). */
  repaired: string[];
  seconds: number;
  hint?: string;
  /** Ferry's own executables the bundle carries, made runnable where the store keeps them. */
  tools?: Array<{ platform: string; version: string; path: string }>;
}

export type Hooks = JobHooks<ImportItem>;

/** Signature first: checked against this machine's trusted keys, shown, and enforced. */
export async function gateSignature(
  manifestBytes: Buffer,
  signatureBytes: Buffer | undefined,
  opts: ImportOptions,
  h: Hooks,
): Promise<SignatureStatus> {
  const trusted = await (opts.keyStore ?? KeyStore.fromEnv()).list();
  const s = await checkSignature(manifestBytes, signatureBytes, trusted);
  h.item({
    type: 'signature',
    status: s.status,
    ...('fingerprint' in s && s.fingerprint ? { fingerprint: s.fingerprint } : {}),
    description: describeSignature(s),
  });
  h.log('info', `Signature: ${describeSignature(s)}.`);
  enforceSignature(s, opts);
  return s;
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/**
 * Every artifact's record must agree with the signed file list, by its kind's rule (a package's
 * declared sha256 is its file's). verify reports such an artifact damaged; a second copy of the
 * media cannot fix a record, so import refuses before anything is copied.
 */
export function checkRecords(m: Manifest): void {
  const listed = new Map(m.files.map((f) => [f.path, f]));
  for (const a of m.artifacts) {
    const p = kindOf(a).verify.record(a, listed)[0];
    if (p)
      throw new FerryError('INTEGRITY', `${artifactName(a)}: ${p.error}.`, {
        artifact: a.id,
        hint: 'The manifest was written wrong or altered. Fetch and export the bundle again on the connected side.',
      });
  }
}

/**
 * A delta needs its base in the store, byte for byte the manifest it names. Otherwise say exactly
 * which base and which artifacts are missing, before anything is copied.
 */
export async function checkBase(store: Store, m: Manifest): Promise<void> {
  if (!m.base) return;
  const base = await store.get(m.base.id, m.base.manifestSha256);
  const other = base ? undefined : await store.get(m.base.id);
  const listed = new Set(m.files.map((f) => f.path));
  const needing = m.artifacts.filter((a) => a.paths.some((p) => !listed.has(p)));
  const names = needing.slice(0, 10).map((a) => artifactName(a));
  const more = needing.length > 10 ? ` and ${needing.length - 10} more` : '';
  if (!base) {
    throw new FerryError(
      'NOT_FOUND',
      `This is a delta of bundle ${m.base.id}${other ? ' (another version of it is in the store)' : ''}, which is not in the store at ${store.root}. ` +
        `Without it, ${needing.length} artifact(s) are missing: ${names.join(', ')}${more}.`,
      {
        artifact: m.base.id,
        hint: `Import bundle ${m.base.id} (manifest sha256 ${m.base.manifestSha256.slice(0, 16)}…) into this store first, or export a full bundle without --since.`,
        details: { base: m.base, missingArtifacts: needing.map((a) => a.id) },
      },
    );
  }
  // The base itself must be whole for the delta to be usable.
  const files = await resolveFiles(store, base);
  const missing: string[] = [];
  for (const a of needing) {
    for (const p of a.paths) {
      if (listed.has(p)) continue;
      const e = files.get(p);
      if (!e || !(await store.hasBlob(e.sha256, e.size))) missing.push(p);
    }
  }
  if (missing.length) {
    throw new FerryError(
      'NOT_FOUND',
      `The base bundle ${m.base.id} in the store lacks ${missing.length} file(s) this delta relies on: ${missing.slice(0, 5).join(', ')}.`,
      {
        artifact: m.base.id,
        hint: 'Repair the base bundle (import a second copy of it), then import this delta again.',
      },
    );
  }
}

/**
 * After an import, other stored bundles that were waiting for repair may now be whole: any blob a
 * verified import brought in is the same content their manifest names.
 */
export async function completeWaitingBundles(
  store: Store,
): Promise<Array<{ id: string; manifestSha256: string }>> {
  const repaired: Array<{ id: string; manifestSha256: string }> = [];
  for (const b of await store.list()) {
    if (b.record.status === 'complete') continue;
    const sizeOf = new Map(b.manifest.files.map((f) => [f.path, f.size]));
    const stillDamaged = [];
    for (const d of b.record.damaged) {
      const size = sizeOf.get(d.path) ?? -1;
      if (!(await store.hasBlob(d.sha256, size))) stillDamaged.push(d);
    }
    const stillMissing = [];
    for (const d of b.record.missing) {
      const size = sizeOf.get(d.path) ?? -1;
      if (!(await store.hasBlob(d.sha256, size))) stillMissing.push(d);
    }
    if (stillDamaged.length === b.record.damaged.length && stillMissing.length === b.record.missing.length)
      continue;
    const status = stillDamaged.length === 0 && stillMissing.length === 0 ? 'complete' : 'incomplete';
    await store.writeRecord({ ...b.record, damaged: stillDamaged, missing: stillMissing, status });
    if (status === 'complete')
      repaired.push({ id: b.record.bundleId, manifestSha256: b.record.manifestSha256 });
  }
  return repaired;
}

/** The artifacts each file belongs to, for per-artifact tiles. */
export function artifactIndex(m: Manifest): {
  byPath: Map<string, Artifact[]>;
  entries: Map<string, FileEntry>;
} {
  const byPath = new Map<string, Artifact[]>();
  // Appends in place: copying the list per artifact made manifests whose artifacts share paths
  // quadratic to index.
  for (const a of m.artifacts)
    for (const p of a.paths) {
      const list = byPath.get(p);
      if (list) list.push(a);
      else byPath.set(p, [a]);
    }
  return { byPath, entries: new Map(m.files.map((f) => [f.path, f])) };
}

export function repairHint(bundleId: string, ids: string[]): string {
  return (
    `Import a second copy of the media into the same store (only the damaged files are taken from it), ` +
    `or on the connected side re-export just these artifacts (ferry export BUNDLE --to PATH ${ids
      .slice(0, 5)
      .map((i) => `--only '${i}'`)
      .join(' ')}${ids.length > 5 ? ' …' : ''}) and import that. ` +
    `Bundle ${bundleId} stays marked incomplete until then.`
  );
}
