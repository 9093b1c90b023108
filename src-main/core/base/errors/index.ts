/**
 * Errors are values: every failure Ferry reports carries a stable code, a message a technician
 * can act on, and where known the artifact it concerns and what to do about it. Core code throws
 * FerryError; the CLI and IPC boundaries turn it into a value ({code, message, ...}).
 */

export const ERROR_CODES = [
  'USAGE', // the caller asked for something malformed: bad flag, bad profile, bad argument
  'INVALID_CHOICE', // a setting with a fixed set of values (kube_network_plugin…) has none of them
  'CONFIG', // a profile, inventory or key file is wrong
  'INTEGRITY', // something missing, damaged or not what the manifest promised
  'CHECKSUM', // downloaded bytes do not match the published checksum
  'SIGNATURE', // unsigned, unknown key or bad signature where trust was required
  'HOSTILE', // input that tries to escape its folder or otherwise abuses the format
  'NOT_FOUND',
  'NETWORK', // connection, DNS, TLS, proxy, timeouts
  'HTTP', // an upstream answered with an error status
  'AUTH', // registry or proxy refused our credentials
  'IO', // local file system trouble (EIO, EACCES…)
  'NO_SPACE', // ENOSPC or a preflight that knows the target is too small
  'MEDIA_REMOVED', // the drive went away under us
  'PORT_IN_USE',
  'UNSUPPORTED', // a template construct, media type or platform Ferry does not handle
  'CANCELLED',
  'PREFLIGHT', // a deploy check on a node or service failed before Ansible ran
  'DEPLOY', // ansible-playbook could not run the playbook
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorValue {
  code: ErrorCode;
  message: string;
  /** What the user can do about it. */
  hint?: string;
  /** The artifact (download key, image reference, path or URL) the error is about. */
  artifact?: string;
  details?: Record<string, unknown>;
}

export class FerryError extends Error {
  readonly code: ErrorCode;
  // Always own properties (class fields), undefined when not known; toValue() drops the empties.
  readonly hint: string | undefined;
  readonly artifact: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  /** Callers forward what they may know, so each option also takes an explicit undefined. */
  constructor(
    code: ErrorCode,
    message: string,
    opts: {
      hint?: string | undefined;
      artifact?: string | undefined;
      details?: Record<string, unknown> | undefined;
      cause?: unknown;
    } = {},
  ) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'FerryError';
    this.code = code;
    this.hint = opts.hint;
    this.artifact = opts.artifact;
    this.details = opts.details;
  }

  toValue(): ErrorValue {
    const v: ErrorValue = { code: this.code, message: this.message };
    if (this.hint) v.hint = this.hint;
    if (this.artifact) v.artifact = this.artifact;
    if (this.details) v.details = this.details;
    return v;
  }
}

const NODE_CODES: Record<string, ErrorCode> = {
  ENOSPC: 'NO_SPACE',
  EDQUOT: 'NO_SPACE',
  ENOENT: 'NOT_FOUND',
  EIO: 'IO',
  EACCES: 'IO',
  EPERM: 'IO',
  EROFS: 'IO',
  ENXIO: 'MEDIA_REMOVED',
  ENODEV: 'MEDIA_REMOVED',
  EADDRINUSE: 'PORT_IN_USE',
  ECONNREFUSED: 'NETWORK',
  ECONNRESET: 'NETWORK',
  ETIMEDOUT: 'NETWORK',
  ENOTFOUND: 'NETWORK',
  EAI_AGAIN: 'NETWORK',
};

/** Turn anything thrown into an error value, keeping FerryError's fields and mapping Node's errno codes. */
export function toErrorValue(err: unknown): ErrorValue {
  if (err instanceof FerryError) return err.toValue();
  if (isAbort(err)) return { code: 'CANCELLED', message: 'Cancelled.' };
  const e = err as NodeJS.ErrnoException | undefined;
  if (e && typeof e === 'object' && typeof e.code === 'string' && NODE_CODES[e.code]) {
    const code = NODE_CODES[e.code];
    const where = e.path ? ` (${e.path})` : '';
    const hint =
      code === 'NO_SPACE'
        ? 'Free some space or choose a larger target, then run the same command again: finished work is kept.'
        : code === 'MEDIA_REMOVED'
          ? 'Reconnect the drive and run the same command again: it resumes.'
          : undefined;
    return {
      code,
      message: `${e.message}${e.message.includes(e.path ?? '\0') ? '' : where}`,
      ...(hint ? { hint } : {}),
    };
  }
  if (err instanceof Error) return { code: 'INTERNAL', message: err.message };
  return { code: 'INTERNAL', message: String(err) };
}

export function isAbort(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { name?: string; code?: string };
  return (
    e.name === 'AbortError' ||
    e.code === 'ABORT_ERR' ||
    (err instanceof FerryError && err.code === 'CANCELLED')
  );
}

/** Throw a CANCELLED FerryError if the signal fired. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new FerryError('CANCELLED', 'Cancelled.');
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorValue };

export async function toResult<T>(fn: () => Promise<T> | T): Promise<Result<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return { ok: false, error: toErrorValue(err) };
  }
}

/** One set of exit codes for every CLI command. */
export const EXIT = { OK: 0, INTEGRITY: 1, USAGE: 2, FAILURE: 3 } as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'USAGE':
    case 'INVALID_CHOICE':
      return EXIT.USAGE;
    case 'INTEGRITY':
    case 'CHECKSUM':
    case 'SIGNATURE':
    case 'HOSTILE':
      return EXIT.INTEGRITY;
    default:
      return EXIT.FAILURE;
  }
}
