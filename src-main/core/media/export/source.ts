import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../../base/errors/index.js';
import {
  MANIFEST_FILE,
  PARTIAL_DIR,
  SIGNATURE_FILE,
  type FileEntry,
  type Manifest,
} from '../../bundle/manifest.js';
import { openBundle, type OpenedBundle } from '../../bundle/reader.js';
import type { ManifestSigner } from '../../bundle/writer.js';
import { checkSignature, KeyStore, type SignatureStatus } from '../../bundle/keys/keystore.js';
import { describeSignature, enforceSignature } from '../../bundle/verify/verify-bundle.js';
import { deltaFiles, readOldManifest } from './preflight.js';
import type { ExportOptions, Hooks } from './options.js';

/** The bundle being exported, with the manifest the target will carry and who signs it. */
export interface ExportSource {
  bundle: OpenedBundle;
  /** The files to write (a delta drops what the base has). */
  files: FileEntry[];
  /** The manifest as it will be written (before parts are added in folder mode). */
  manifest: Manifest;
  sourceSignature: SignatureStatus;
  /** Present when the source manifest's exact bytes (and signature) can be written unchanged. */
  unchanged: boolean;
  signer?: (ManifestSigner & { fingerprint: string }) | undefined;
  signerName?: string | undefined;
  delta?: { baseId: string; omittedFiles: number; omittedBytes: number } | undefined;
  /** sha256 of the source manifest bytes: identifies "the same export" for resume. */
  sourceKey: string;
}

export async function prepareSource(bundleDir: string, opts: ExportOptions, h: Hooks): Promise<ExportSource> {
  const bundle = await openBundle(bundleDir);
  const keyStore = opts.keyStore ?? KeyStore.fromEnv();
  const trusted = await keyStore.list();
  const sourceSignature = await checkSignature(bundle.manifestBytes, bundle.signatureBytes, trusted);
  // Exporting an unsigned bundle is allowed (the offline side decides); a bad signature never is.
  enforceSignature(sourceSignature, { allowUnsigned: true, allowUntrusted: opts.allowUntrusted });
  h.log('info', `Source bundle ${bundle.manifest.id}: ${describeSignature(sourceSignature)}.`);
  let files = bundle.manifest.files;
  let manifest: Manifest = bundle.manifest;
  let delta: ExportSource['delta'];
  let sourceKey = createHash('sha256').update(bundle.manifestBytes).digest('hex');
  if (opts.since) {
    if (bundle.manifest.base) {
      throw new FerryError(
        'UNSUPPORTED',
        `The bundle ${bundle.manifest.id} is itself a delta; Ferry makes deltas from full bundles only.`,
        {
          hint: 'Export the full bundle the delta was made from.',
        },
      );
    }
    const old = await readOldManifest(opts.since);
    const d = deltaFiles(bundle.manifest, old.manifest);
    files = d.kept;
    manifest = { ...bundle.manifest, base: { id: old.manifest.id, manifestSha256: old.sha256 }, files };
    delta = {
      baseId: old.manifest.id,
      omittedFiles: d.omitted.length,
      omittedBytes: d.omitted.reduce((s, f) => s + f.size, 0),
    };
    sourceKey = createHash('sha256').update(sourceKey).update(old.sha256).digest('hex');
    h.log(
      'info',
      `Delta against ${old.manifest.id}: ${d.omitted.length} file(s) the offline side already has are left out.`,
    );
  }
  if (opts.only?.length) {
    if (opts.since) throw new FerryError('USAGE', '--only and --since cannot be combined.');
    if (bundle.manifest.base) {
      throw new FerryError(
        'UNSUPPORTED',
        `The bundle ${bundle.manifest.id} is itself a delta; re-export from the full bundle.`,
      );
    }
    const byId = new Map(bundle.manifest.artifacts.map((a) => [a.id, a]));
    const unknown = opts.only.filter((id) => !byId.has(id));
    if (unknown.length) {
      throw new FerryError(
        'USAGE',
        `The bundle has no artifact ${unknown.map((u) => `'${u}'`).join(', ')}.`,
        {
          artifact: unknown[0],
          hint: 'Use the artifact ids `ferry import` printed for the damaged artifacts (or `ferry verify --json`).',
        },
      );
    }
    const wanted = new Set(opts.only.flatMap((id) => byId.get(id)!.paths));
    files = bundle.manifest.files.filter((f) => wanted.has(f.path));
    const omitted = bundle.manifest.files.filter((f) => !wanted.has(f.path));
    // A repair is a delta of the very bundle it repairs: same id, base = this exact manifest, so
    // the offline store combines it with the damaged copy it already has.
    const own = createHash('sha256').update(bundle.manifestBytes).digest('hex');
    manifest = { ...bundle.manifest, base: { id: bundle.manifest.id, manifestSha256: own }, files };
    delta = {
      baseId: bundle.manifest.id,
      omittedFiles: omitted.length,
      omittedBytes: omitted.reduce((s, f) => s + f.size, 0),
    };
    sourceKey = createHash('sha256')
      .update(sourceKey)
      .update('only\0' + [...opts.only].sort().join('\0'))
      .digest('hex');
    h.log('info', `Repair export: ${opts.only.length} artifact(s), ${files.length} file(s).`);
  }
  const split = files.find((f) => f.parts);
  if (split) {
    throw new FerryError(
      'UNSUPPORTED',
      `${split.path} is stored split in the source bundle (a FAT32 export); Ferry exports from the original bundle.`,
      {
        artifact: split.path,
        hint: 'Export the bundle folder on the connected machine, or import this one into a store first.',
      },
    );
  }
  // Re-signing vouches for the content: only for a source this machine trusts (or its own).
  let signer: ExportSource['signer'];
  let signerName: string | undefined;
  if (sourceSignature.status === 'trusted') {
    signer = await keyStore.signer();
    signerName = (await keyStore.ownKey())?.name;
  }
  return {
    bundle,
    files,
    manifest,
    sourceSignature,
    unchanged: !opts.since && !opts.only?.length,
    signer,
    signerName,
    delta,
    sourceKey,
  };
}

/**
 * The target folder must be new, empty, or an export of this same bundle (finished or not): an
 * export never mixes its files into an unrelated folder.
 */
/** Checks or creates the target folder; true when this call created it. */
export async function prepareTargetDir(to: string, bundleId: string): Promise<boolean> {
  try {
    const st = await fs.lstat(to);
    if (!st.isDirectory())
      throw new FerryError('USAGE', `${to} exists and is not a folder.`, { artifact: to });
  } catch (err) {
    if (err instanceof FerryError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw err;
    try {
      await fs.mkdir(to, { recursive: true });
    } catch (e) {
      throw new FerryError('IO', `Cannot create ${to}: ${(e as Error).message}`, {
        artifact: to,
        hint: 'Check that the drive is mounted writable.',
        cause: e,
      });
    }
    return true;
  }
  const names = await fs.readdir(to);
  if (names.length === 0) return false;
  const ours = async (): Promise<boolean> => {
    const hdr = await fs.readFile(path.join(to, PARTIAL_DIR, 'export.json'), 'utf8').catch(() => undefined);
    if (hdr) {
      try {
        return JSON.parse(hdr).bundleId === bundleId;
      } catch {
        return false;
      }
    }
    const m = await fs.readFile(path.join(to, MANIFEST_FILE), 'utf8').catch(() => undefined);
    if (m) {
      try {
        return JSON.parse(m).id === bundleId;
      } catch {
        return false;
      }
    }
    return false;
  };
  if (!(await ours())) {
    throw new FerryError('USAGE', `${to} is not empty and holds no export of bundle ${bundleId}.`, {
      artifact: to,
      hint: `Export into a new folder, e.g. ${path.join(to, `ferry-${bundleId.slice(0, 8)}`)}.`,
      details: { entries: names.slice(0, 10) },
    });
  }
  return false;
}

export { MANIFEST_FILE, SIGNATURE_FILE };

/**
 * Runs the checks that come before the first write (target probe, space preflight, write test).
 * When one refuses and the export created the target folder itself, the folder goes too: an
 * export that says "Nothing was written" leaves nothing behind, not even an empty folder.
 */
export async function beforeFirstWrite<T>(
  to: string,
  created: boolean,
  checks: () => Promise<T>,
): Promise<T> {
  try {
    return await checks();
  } catch (err) {
    if (created) await fs.rmdir(to).catch(() => undefined);
    throw err;
  }
}
