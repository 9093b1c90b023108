import { FerryError } from '../../base/errors/index.js';
import type { Artifact, FileEntry, Manifest } from '../../bundle/manifest.js';
import type { SignatureStatus } from '../../bundle/keys/keystore.js';
import { artifactName, artifactOwnPaths, NOT_LISTED } from '../../bundle/verify/verify-bundle.js';
import { Store, type BundleRecord } from '../store/store.js';
import {
  artifactIndex,
  completeWaitingBundles,
  repairHint,
  sha256,
  type Hooks,
  type ImportReport,
} from './common.js';

type Outcome = { state: 'good' | 'damaged' | 'missing'; message?: string };

/**
 * Book-keeping shared by folder and archive imports: per-file outcomes roll up into per-artifact
 * tiles as soon as an artifact's last file is known, and the store record is written at the end.
 */
export class ImportSession {
  private outcomes = new Map<string, Outcome>();
  private started = new Set<string>();
  private emitted = new Set<string>();
  readonly damaged: BundleRecord['damaged'] = [];
  readonly missing: BundleRecord['missing'] = [];
  filesCopied = 0;
  bytesCopied = 0;
  filesShared = 0;
  readonly stamp = new Date().toISOString().replace(/[:.]/g, '-');
  private readonly index;
  private readonly t0 = Date.now();

  constructor(
    readonly store: Store,
    readonly manifest: Manifest,
    readonly manifestBytes: Buffer,
    readonly signatureBytes: Buffer | undefined,
    readonly signature: SignatureStatus,
    readonly source: string,
    readonly h: Hooks,
  ) {
    this.index = artifactIndex(manifest);
    // Paths an artifact needs that the (possibly re-signed) file list omits: missing from the start,
    // by verify's own rule, so import cannot call complete what verify calls MISSING.
    const seen = new Set<string>();
    for (const a of manifest.artifacts)
      for (const p of artifactOwnPaths(a, this.index.entries, !!manifest.base).unlisted) {
        this.outcomes.set(p, { state: 'missing', message: NOT_LISTED });
        if (!seen.has(p)) this.missing.push({ path: p, sha256: '' });
        seen.add(p);
      }
  }

  begin(): void {
    const { progress } = this.h;
    progress.setPhase('importing');
    progress.bytesTotal = this.manifest.files.reduce((s, f) => s + f.size, 0);
    progress.bytesDone = 0;
    progress.itemsTotal = this.manifest.artifacts.length;
    progress.itemsDone = 0;
    progress.itemsFailed = 0;
    for (const a of this.manifest.artifacts) {
      const bytes = a.paths.reduce((s, p) => s + (this.index.entries.get(p)?.size ?? 0), 0);
      this.h.item({
        type: 'artifact',
        id: a.id,
        kind: a.kind,
        name: artifactName(a),
        state: 'waiting',
        bytes,
      });
    }
    this.h.report();
  }

  checking(f: FileEntry): void {
    this.h.progress.current = f.path;
    for (const a of this.index.byPath.get(f.path) ?? []) {
      if (this.started.has(a.id)) continue;
      this.started.add(a.id);
      this.h.item({
        type: 'artifact',
        id: a.id,
        kind: a.kind,
        name: artifactName(a),
        state: 'checking',
        bytes: 0,
      });
    }
  }

  done(f: FileEntry, o: Outcome & { quarantined?: string }): void {
    this.outcomes.set(f.path, o);
    if (o.state === 'damaged')
      this.damaged.push({
        path: f.path,
        sha256: f.sha256,
        ...(o.quarantined ? { quarantined: o.quarantined } : {}),
      });
    if (o.state === 'missing') this.missing.push({ path: f.path, sha256: f.sha256 });
    for (const a of this.index.byPath.get(f.path) ?? []) this.maybeEmit(a);
    this.h.report();
  }

  // Takes the artifact itself, not its id: looking it up by id in the manifest's list made an
  // import quadratic in artifacts (165k artifacts are within the manifest's limits).
  private maybeEmit(a: Artifact): void {
    const id = a.id;
    if (this.emitted.has(id)) return;
    // Paths a delta leaves to its base were checked by checkBase.
    const { own } = artifactOwnPaths(a, this.index.entries, !!this.manifest.base);
    const os = own.map((p) => this.outcomes.get(p));
    if (os.some((o) => o === undefined)) return;
    this.emitted.add(id);
    const bad = own.filter((_, i) => os[i]!.state !== 'good');
    const state = bad.length === 0 ? 'good' : os.every((o) => o!.state === 'missing') ? 'missing' : 'damaged';
    const message = bad.length
      ? bad.map((p) => `${p}: ${this.outcomes.get(p)!.message ?? this.outcomes.get(p)!.state}`).join('; ')
      : undefined;
    this.h.progress.itemsDone++;
    if (state !== 'good') this.h.progress.itemsFailed++;
    this.h.item({
      type: 'artifact',
      id,
      kind: a.kind,
      name: artifactName(a),
      state,
      bytes: 0,
      ...(message ? { message } : {}),
    });
  }

  async finish(extras: string[]): Promise<ImportReport> {
    for (const a of this.manifest.artifacts) this.maybeEmit(a);
    const status = this.damaged.length === 0 && this.missing.length === 0 ? 'complete' : 'incomplete';
    const manifestSha256 = sha256(this.manifestBytes);
    const record: BundleRecord = {
      bundleId: this.manifest.id,
      manifestSha256,
      importedAt: new Date().toISOString(),
      source: this.source,
      signature: {
        status: this.signature.status,
        ...('fingerprint' in this.signature && this.signature.fingerprint
          ? { fingerprint: this.signature.fingerprint }
          : {}),
        ...(this.signature.status === 'trusted' ? { signer: this.signature.signer } : {}),
      },
      status,
      damaged: this.damaged,
      missing: this.missing,
      ...(this.manifest.base ? { base: this.manifest.base } : {}),
      bytes: this.manifest.files.reduce((s, f) => s + f.size, 0),
    };
    await this.store.writeBundle(this.manifestBytes, this.signatureBytes, record);
    const repaired = (await completeWaitingBundles(this.store))
      .filter((r) => !(r.id === this.manifest.id && r.manifestSha256 === manifestSha256))
      .map((r) => r.id);
    const after = await this.store.get(this.manifest.id, manifestSha256);
    const finalStatus = after?.record.status ?? status;
    const tiles = this.manifest.artifacts.map((a) => {
      const { own } = artifactOwnPaths(a, this.index.entries, !!this.manifest.base);
      const bad = own.filter((p) => this.outcomes.get(p)?.state !== 'good');
      const state: 'good' | 'damaged' | 'missing' =
        bad.length === 0
          ? 'good'
          : bad.length === own.length && bad.every((p) => this.outcomes.get(p)?.state === 'missing')
            ? 'missing'
            : 'damaged';
      return {
        id: a.id,
        name: artifactName(a),
        state,
        ...(bad.length
          ? { problems: bad.map((p) => `${p}: ${this.outcomes.get(p)?.message ?? 'missing'}`) }
          : {}),
      };
    });
    const badIds = tiles.filter((t) => t.state !== 'good').map((t) => t.id);
    this.h.progress.setPhase('done');
    this.h.report();
    return {
      source: this.source,
      store: this.store.root,
      bundleId: this.manifest.id,
      signature: this.signature,
      status: finalStatus,
      artifacts: tiles,
      filesCopied: this.filesCopied,
      bytesCopied: this.bytesCopied,
      filesShared: this.filesShared,
      damaged: this.damaged,
      missing: this.missing,
      extras,
      repaired,
      seconds: (Date.now() - this.t0) / 1000,
      ...(finalStatus !== 'complete' ? { hint: repairHint(this.manifest.id, badIds) } : {}),
    };
  }
}

export function assertNotCancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw new FerryError('CANCELLED', 'Cancelled.');
}
