import path from 'node:path';
import { FerryError, throwIfAborted } from '../../base/errors/index.js';
import {
  MANIFEST_FILE,
  SIGNATURE_FILE,
  storedPaths,
  type Artifact,
  type FileEntry,
  type Manifest,
} from '../manifest.js';
import { openBundle, walkBundleTree, type OpenedBundle } from '../reader.js';
import { checkSignature, KeyStore, type KeyInfo, type SignatureStatus } from '../keys/keystore.js';
import { ProgressTracker } from '../../base/jobs/progress.js';
import { HashPool } from './hash-pool.js';
import { printable } from '../paths.js';
import { artifactName, kindOf } from '../../kinds/index.js';

export type FileStatus = 'ok' | 'missing' | 'wrong-size' | 'wrong-digest' | 'unreadable';
export type ArtifactStatus = 'ok' | 'missing' | 'damaged';

export interface FileResult {
  path: string;
  status: FileStatus;
  expectedSize: number;
  expectedSha256: string;
  actualSize?: number;
  actualSha256?: string;
  error?: string;
}

export interface ArtifactResult {
  id: string;
  kind: Artifact['kind'];
  /** Human name: download key and URL, image reference, … */
  name: string;
  status: ArtifactStatus;
  bytes: number;
  /** Only the files that are not ok. */
  problems: FileResult[];
  /** What to do about it, when not ok. */
  hint?: string;
}

export interface VerifyReport {
  bundle: string;
  bundleId: string;
  kubespray?: Manifest['kubespray'];
  signature: SignatureStatus;
  /** Signature accepted (trusted, or allowed by the caller) and every file intact, no extras. */
  ok: boolean;
  verified: boolean;
  counts: {
    artifacts: number;
    files: number;
    ok: number;
    missing: number;
    wrongSize: number;
    wrongDigest: number;
    extra: number;
  };
  bytes: number;
  seconds: number;
  artifacts: ArtifactResult[];
  extras: string[];
}

export interface VerifyOptions {
  allowUntrusted?: boolean;
  allowUnsigned?: boolean;
  /** Trusted keys; default: the user's key store. */
  trusted?: KeyInfo[];
  keyStore?: KeyStore;
  signal?: AbortSignal;
  progress?: ProgressTracker;
  onProgress?: () => void;
  /** Per-artifact results as they complete (the app's integrity map draws them). */
  onArtifact?: (r: ArtifactResult) => void;
  /** Called once per artifact when the first of its files starts hashing (its tile turns 'checking'). */
  onChecking?: (artifactId: string) => void;
  /** Called before hashing with every artifact, so a UI can lay out 'waiting' tiles. */
  onPlan?: (artifacts: Array<{ id: string; kind: Artifact['kind']; name: string; bytes: number }>) => void;
  pool?: HashPool;
}

/** Why an artifact path the manifest's file list omits counts as missing. */
export const NOT_LISTED = 'not listed in the manifest';

/**
 * The paths an artifact needs from this bundle itself, split by whether the manifest's file list
 * has them. A delta leaves unlisted paths to its base (checked against the base); in a full bundle
 * an unlisted path is missing, whatever the signature says. verify and import both use this, so
 * they cannot disagree about completeness.
 */
export function artifactOwnPaths(
  a: Artifact,
  listed: { has(path: string): boolean },
  hasBase: boolean,
): { own: string[]; unlisted: string[] } {
  const own = a.paths.filter((p) => listed.has(p) || !hasBase);
  return { own, unlisted: own.filter((p) => !listed.has(p)) };
}

/** The human name of an artifact, as its kind (core/kinds) gives it. */
export { artifactName };

export function signatureAccepted(
  s: SignatureStatus,
  opts: { allowUntrusted?: boolean | undefined; allowUnsigned?: boolean | undefined },
): boolean {
  return (
    s.status === 'trusted' ||
    (s.status === 'unknown-key' && !!opts.allowUntrusted) ||
    (s.status === 'unsigned' && !!opts.allowUnsigned)
  );
}

export function describeSignature(s: SignatureStatus): string {
  switch (s.status) {
    case 'trusted':
      return `signed by ${s.signer}, key ${s.fingerprint} (trusted)`;
    case 'unknown-key':
      return `valid signature by an unknown key ${s.fingerprint} (not trusted on this machine)`;
    case 'unsigned':
      return 'not signed';
    case 'bad-signature':
      return `BAD SIGNATURE${s.fingerprint ? ` (key ${s.fingerprint})` : ''}: ${s.reason}`;
  }
}

/** The signature gate: throws a SIGNATURE error unless the status is acceptable under the options. */
export function enforceSignature(
  s: SignatureStatus,
  opts: { allowUntrusted?: boolean | undefined; allowUnsigned?: boolean | undefined },
): void {
  if (signatureAccepted(s, opts)) return;
  switch (s.status) {
    case 'bad-signature':
      throw new FerryError('SIGNATURE', `The bundle's signature is bad: ${s.reason}.`, {
        artifact: SIGNATURE_FILE,
        hint: 'Do not use this bundle. Get a fresh copy from the connected side and compare the key fingerprint.',
      });
    case 'unknown-key':
      throw new FerryError(
        'SIGNATURE',
        `The bundle is signed by key ${s.fingerprint}, which this machine does not trust.`,
        {
          artifact: SIGNATURE_FILE,
          hint: "Compare the fingerprint with the connected side's `ferry keys list`, then `ferry keys trust FILE` (or pass --allow-untrusted).",
        },
      );
    case 'unsigned':
      throw new FerryError('SIGNATURE', 'The bundle is not signed.', {
        artifact: SIGNATURE_FILE,
        hint: 'Run `ferry keys generate` on the connected side before fetching, or pass --allow-unsigned if you accept an unsigned bundle.',
      });
  }
}

/**
 * The one extra-file policy, for `ferry verify` and `ferry serve` alike: a file in the bundle
 * folder that the manifest does not list was never signed, so a folder holding one is not the
 * bundle that was signed and is not intact. Such a file is never served either way. Returns the
 * problem in words, or undefined when there are no extra files.
 */
export function extraFilesProblem(extras: readonly string[]): string | undefined {
  if (extras.length === 0) return undefined;
  const names = extras.slice(0, 3).map(printable).join(', ') + (extras.length > 3 ? ', …' : '');
  return `${extras.length} file(s) the manifest does not list (${names})`;
}

/**
 * Verify a bundle: signature first, then every file hashed on all cores, reported per artifact.
 * A hostile bundle (bad paths, links, devices, malformed manifest) is refused by throwing before
 * anything is hashed. Integrity problems do not throw: they are in the report (ok: false).
 */
export async function verifyBundle(dir: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  return verifyOpenedBundle(await openBundle(dir), opts);
}

/**
 * Verify a bundle already opened: the signature is checked on bundle.manifestBytes and the files
 * against bundle.manifest, the manifest parsed from those bytes, and nothing is read again. Serve
 * keeps the same object, so what it serves is what was verified, never a later re-read.
 */
export async function verifyOpenedBundle(
  bundle: OpenedBundle,
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  const started = Date.now();
  const trusted = opts.trusted ?? (await (opts.keyStore ?? KeyStore.fromEnv()).list());
  const signature = await checkSignature(bundle.manifestBytes, bundle.signatureBytes, trusted);
  enforceSignature(signature, opts);
  throwIfAborted(opts.signal);

  const tree = await walkBundleTree(bundle.dir, opts.signal);
  const onDisk = new Map(tree.map((t) => [t.path, t.size]));
  const listed = new Map(bundle.manifest.files.map((f) => [f.path, f]));
  const storedAt = new Set(bundle.manifest.files.flatMap((f) => storedPaths(f).map((p) => p.path)));
  const extras = tree
    .map((t) => t.path)
    .filter((p) => !storedAt.has(p) && p !== MANIFEST_FILE && p !== SIGNATURE_FILE)
    .sort();

  const progress = opts.progress ?? new ProgressTracker();
  progress.setPhase('verifying');
  progress.bytesTotal = bundle.manifest.files.reduce((s, f) => s + f.size, 0);
  progress.itemsTotal = bundle.manifest.artifacts.length;

  // Every file's result, shared by the artifacts that list it (a layer used by ten images is hashed once).
  const results = new Map<string, Promise<FileResult>>();
  const ownPool = !opts.pool;
  const pool = opts.pool ?? new HashPool();
  // Which artifacts own a stored path (a split file's parts belong to the file's owners), so the
  // first bytes hashed can announce them; only built when someone listens.
  const owners = new Map<string, string[]>();
  const announced = new Set<string>();
  if (opts.onChecking) {
    const byFile = new Map<string, string[]>();
    for (const a of bundle.manifest.artifacts)
      for (const p of a.paths) byFile.set(p, [...(byFile.get(p) ?? []), a.id]);
    for (const f of bundle.manifest.files)
      for (const part of storedPaths(f)) owners.set(part.path, byFile.get(f.path) ?? []);
  }
  const checking = (p: string) => {
    for (const id of owners.get(p) ?? []) {
      if (announced.has(id)) continue;
      announced.add(id);
      opts.onChecking!(id);
    }
  };
  const checkStored = (f: { path: string; size: number; sha256: string }): Promise<FileResult> => {
    const base = { path: f.path, expectedSize: f.size, expectedSha256: f.sha256 };
    const size = onDisk.get(f.path);
    if (size === undefined) {
      progress.addBytes(f.size);
      return Promise.resolve({ ...base, status: 'missing' });
    }
    if (size !== f.size) {
      progress.addBytes(f.size);
      return Promise.resolve({ ...base, status: 'wrong-size', actualSize: size });
    }
    const abs = path.join(bundle.dir, ...f.path.split('/'));
    return pool
      .hash(
        {
          file: abs,
          onBytes: (n) => {
            if (opts.onChecking) checking(f.path);
            progress.addBytes(n);
            opts.onProgress?.();
          },
        },
        opts.signal,
      )
      .then(
        (h): FileResult =>
          h.sha256 === f.sha256 && h.size === f.size
            ? { ...base, status: 'ok' }
            : h.size !== f.size
              ? { ...base, status: 'wrong-size', actualSize: h.size, actualSha256: h.sha256 }
              : { ...base, status: 'wrong-digest', actualSize: h.size, actualSha256: h.sha256 },
        (err): FileResult => {
          if ((err as FerryError).code === 'CANCELLED') throw err;
          return { ...base, status: 'unreadable', error: (err as Error).message };
        },
      );
  };
  // A split file is as good as its parts (each listed with its sha256 in the signed manifest);
  // the first bad part names the problem, so the technician can copy that part again alone.
  const check = (f: FileEntry): Promise<FileResult> => {
    if (!f.parts) return checkStored(f);
    return Promise.all(f.parts.map(checkStored)).then((parts): FileResult => {
      const bad = parts.find((r) => r.status !== 'ok');
      const base = { path: f.path, expectedSize: f.size, expectedSha256: f.sha256 };
      if (!bad) return { ...base, status: 'ok' };
      const status = parts.every((r) => r.status === 'missing') ? 'missing' : bad.status;
      return {
        ...base,
        status,
        error: parts
          .filter((r) => r.status !== 'ok')
          .map((r) => `part ${r.path}: ${r.status}`)
          .join('; '),
      };
    });
  };
  // Largest first keeps both cores busy to the end instead of one finishing a big file alone.
  for (const f of [...bundle.manifest.files].sort((a, b) => b.size - a.size)) results.set(f.path, check(f));

  const artifacts = bundle.manifest.artifacts;
  opts.onPlan?.(
    artifacts.map((a) => ({
      id: a.id,
      kind: a.kind,
      name: artifactName(a),
      bytes: a.paths.reduce((s, p) => s + (listed.get(p)?.size ?? 0), 0),
    })),
  );
  let artifactResults: ArtifactResult[];
  let inconsistent = 0;
  try {
    artifactResults = await Promise.all(
      artifacts.map(async (a) => {
        const { own } = artifactOwnPaths(a, listed, !!bundle.manifest.base);
        const files = await Promise.all(
          own.map(
            (p) =>
              results.get(p) ??
              Promise.resolve<FileResult>({
                path: p,
                status: 'missing',
                expectedSize: 0,
                expectedSha256: '',
                error: NOT_LISTED,
              }),
          ),
        );
        // The kind checks its own record against the signed file list (a package's declared
        // sha256 is its file's), on top of the file hashes.
        const recordProblems: FileResult[] = kindOf(a).verify.record(a, listed);
        if (recordProblems.length) inconsistent++;
        const problems = [...files.filter((r) => r.status !== 'ok'), ...recordProblems];
        const status: ArtifactStatus =
          problems.length === 0
            ? 'ok'
            : problems.every((p) => p.status === 'missing')
              ? 'missing'
              : 'damaged';
        const r: ArtifactResult = {
          id: a.id,
          kind: a.kind,
          name: artifactName(a),
          status,
          bytes: files.reduce((s, f) => s + f.expectedSize, 0),
          problems,
          ...(status !== 'ok' ? { hint: kindOf(a).verify.repairHint(a) } : {}),
        };
        progress.itemsDone++;
        if (status !== 'ok') progress.itemsFailed++;
        opts.onArtifact?.(r);
        opts.onProgress?.();
        return r;
      }),
    );
  } finally {
    if (ownPool) await pool.close();
  }
  const all = await Promise.all(results.values());
  // Paths artifacts need that the file list omits are missing files too: a re-signed manifest
  // that drops a file from its list must not verify.
  const unlisted = new Set(
    artifacts.flatMap((a) => artifactOwnPaths(a, listed, !!bundle.manifest.base).unlisted),
  );
  const counts = {
    artifacts: artifacts.length,
    files: all.length,
    ok: all.filter((r) => r.status === 'ok').length,
    missing: all.filter((r) => r.status === 'missing').length + unlisted.size,
    wrongSize: all.filter((r) => r.status === 'wrong-size').length,
    wrongDigest: all.filter((r) => r.status === 'wrong-digest' || r.status === 'unreadable').length,
    extra: extras.length,
  };
  // A file no artifact claims is still checked, and reported under a synthetic artifact.
  const claimed = new Set(artifacts.flatMap((a) => a.paths));
  const orphans = all.filter((r) => !claimed.has(r.path) && r.status !== 'ok');
  if (orphans.length) {
    artifactResults.push({
      id: 'meta:unclaimed',
      kind: 'meta',
      name: 'Files no artifact names',
      status: 'damaged',
      bytes: 0,
      problems: orphans,
    });
  }
  const intact =
    counts.ok === counts.files &&
    unlisted.size === 0 &&
    inconsistent === 0 &&
    extraFilesProblem(extras) === undefined;
  return {
    bundle: bundle.dir,
    bundleId: bundle.manifest.id,
    ...(bundle.manifest.kubespray ? { kubespray: bundle.manifest.kubespray } : {}),
    signature,
    ok: intact,
    verified: intact && signature.status === 'trusted',
    counts,
    bytes: progress.bytesTotal ?? 0,
    seconds: (Date.now() - started) / 1000,
    artifacts: artifactResults,
    extras,
  };
}
