import { FerryError, isAbort } from '../../base/errors/index.js';
import { onAbort } from './abort-fanout.js';

/**
 * When to try again: network trouble, 5xx, 408 and 429 are transient; other 4xx are not.
 * Backoff doubles from `baseMs` to `maxMs` with jitter; a server's Retry-After wins (capped,
 * so a hostile or confused server cannot park a fetch for hours).
 */
export interface RetryPolicy {
  /** Attempts that made no progress before giving up (a flaky link that moves bytes keeps going). */
  attempts: number;
  baseMs: number;
  maxMs: number;
  /** Upper bound for a Retry-After the server asks for. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 6,
  baseMs: 500,
  maxMs: 20_000,
  maxRetryAfterMs: 120_000,
};

export function backoffMs(policy: RetryPolicy, failures: number): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(exp / 2 + (Math.random() * exp) / 2);
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

export function isRetriableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

const NET_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** A failure on the wire (as opposed to the disk, a bad answer, or a cancel). */
export function isNetworkError(err: unknown): boolean {
  if (isAbort(err)) return false;
  // A TLS failure (wrapNetworkError) is configuration, not the wire: retrying cannot fix it.
  if (err instanceof FerryError) return err.code === 'NETWORK' && !err.details?.tls;
  const e = err as { code?: string; cause?: { code?: string } } | undefined;
  if (!e || typeof e !== 'object') return false;
  if (e.code && NET_CODES.has(e.code)) return true;
  if (e.cause?.code && NET_CODES.has(e.cause.code)) return true;
  return false;
}

/** Sleep that a cancel interrupts at once. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new FerryError('CANCELLED', 'Cancelled.'));
    // Through the fan-out: many downloads back off at once on one job signal.
    const release = signal
      ? onAbort(signal, () => {
          clearTimeout(t);
          reject(new FerryError('CANCELLED', 'Cancelled.'));
        })
      : () => undefined;
    const t = setTimeout(() => {
      release();
      resolve();
    }, ms);
  });
}
