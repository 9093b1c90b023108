import type { DriveSource } from '../drives/index.js';
import type { KeyStore } from '../../bundle/keys/keystore.js';
import type { JobHookOptions, JobHooks } from '../../base/jobs/hooks.js';
import type { MediaIo } from './media-io.js';
import type { TargetInfo } from './target.js';
import type { ReadBackMode } from './readback.js';

/** Progress, items and logs go to `job` (the app) or the callbacks (the CLI): base/jobs/hooks. */
export interface ExportOptions extends JobHookOptions<ExportItem> {
  /** The folder the bundle is written to (created if absent; must be empty or an export of this bundle). */
  to: string;
  /** Archive mode: the bundle as tar parts of at most `split` bytes. */
  archive?: boolean;
  split?: number;
  /** Delta: only what the bundle with this manifest (file or folder) does not already hold. */
  since?: string | undefined;
  /**
   * Repair: only these artifacts (ids), as a delta of the bundle itself, so an offline store that
   * holds a damaged copy of the bundle is completed by importing it.
   */
  only?: string[];
  /** Split files the target cannot hold whole (default true); false refuses with a reformat hint. */
  splitLarge?: boolean;
  /** Part size for split files (default just under 4 GiB; tests use small ones). */
  partSize?: number;
  /** Write to a system drive anyway. */
  force?: boolean;
  /** Accept a source signed by a key this machine does not trust (it is then not re-signed). */
  allowUntrusted?: boolean;
  keyStore?: KeyStore;
  drives?: DriveSource;
  /** Inject the target's file system facts (tests); default: probed. */
  target?: TargetInfo;
  marginBytes?: number;
  io?: MediaIo;
  /** Bypass the page cache on read-back where the OS allows (default true). */
  direct?: boolean;
  retries?: number;
  retryDelayMs?: number;
}

/** Per-artifact news for the integrity map: waiting, copying, checking, good, damaged. */
export interface ExportItem {
  type: 'artifact' | 'part';
  id: string;
  name: string;
  state: 'waiting' | 'copying' | 'checking' | 'good' | 'damaged' | 'skipped';
  bytes: number;
  message?: string;
}

export interface ExportResult {
  to: string;
  bundleId: string;
  mode: 'folder' | 'archive';
  files: number;
  bytesWritten: number;
  /** Bytes already on the drive and verified (resume). */
  bytesReused: number;
  /** How the read-back bypassed the cache: files read with O_DIRECT vs through a fresh descriptor. */
  readBack: Record<ReadBackMode, number>;
  signature: 'kept' | 're-signed' | 'unsigned';
  signer?: string;
  split: Array<{ path: string; parts: number }>;
  archiveParts?: number;
  delta?: { baseId: string; omittedFiles: number; omittedBytes: number };
  seconds: number;
}

export type Hooks = JobHooks<ExportItem>;
