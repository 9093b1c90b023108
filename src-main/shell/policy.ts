import path from 'node:path';

/**
 * The shell's security policy as plain data and pure functions, so the unit test checks exactly
 * what main.ts applies. No electron import here.
 */

export const APP_SCHEME = 'app';
export const APP_HOST = 'ferry';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_URL = `${APP_ORIGIN}/index.html`;

/** Sent as a response header on every app:// response (index.html keeps a meta copy for tests). */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

export function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Map an app:// URL to a file under the renderer folder, or null when it is not ours or tries
 * to leave the folder (encoded dots, backslashes, another host).
 */
export function resolveAppFile(rendererDir: string, rawUrl: string): string | null {
  let u: URL;
  try {
    u = new URL(rawUrl);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return null;
  let rel: string;
  try {
    rel = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (rel.includes('\0') || rel.includes('\\')) return null;
  if (rel === '/' || rel === '') rel = '/index.html';
  const root = path.resolve(rendererDir);
  const file = path.resolve(root, '.' + path.posix.normalize(rel));
  if (file !== root && !file.startsWith(root + path.sep)) return null;
  return file;
}

/** Only the app's own top frame may talk to main. */
export function isTrustedSender(
  frame: { url: string; parent?: unknown } | null | undefined,
  mainFrame: unknown,
): boolean {
  if (!frame || frame !== mainFrame || frame.parent) return false;
  return typeof frame.url === 'string' && frame.url.startsWith(APP_ORIGIN + '/');
}
