import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CSP, isTrustedSender, resolveAppFile } from '../../../src-main/shell/policy.js';

describe('shell policy', () => {
  const root = path.resolve('/opt/ferry/renderer');

  it('maps app://ferry URLs into the renderer folder only', () => {
    expect(resolveAppFile(root, 'app://ferry/')).toBe(path.join(root, 'index.html'));
    expect(resolveAppFile(root, 'app://ferry/assets/index-1.js')).toBe(
      path.join(root, 'assets', 'index-1.js'),
    );
    expect(resolveAppFile(root, 'app://ferry/../../etc/passwd')).toBe(path.join(root, 'etc', 'passwd'));
    expect(resolveAppFile(root, 'app://ferry/%2e%2e/%2e%2e/etc/passwd')).toBe(
      path.join(root, 'etc', 'passwd'),
    );
    expect(resolveAppFile(root, 'app://ferry/a%5c..%5c..%5cx')).toBeNull();
    expect(resolveAppFile(root, 'app://ferry/a%00b')).toBeNull();
    expect(resolveAppFile(root, 'app://other/index.html')).toBeNull();
    expect(resolveAppFile(root, 'https://ferry/index.html')).toBeNull();
    expect(resolveAppFile(root, 'not a url')).toBeNull();
  });

  it('sends a strict CSP: own scripts only, no objects, no framing, no base or form targets', () => {
    for (const d of [
      "default-src 'self'",
      "script-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
      "form-action 'none'",
    ]) {
      expect(CSP).toContain(d);
    }
    expect(CSP).not.toMatch(/unsafe-(inline|eval)/);
  });

  it('trusts only the main frame of the app', () => {
    const main = { url: 'app://ferry/index.html', parent: null };
    expect(isTrustedSender(main, main)).toBe(true);
    expect(isTrustedSender({ url: 'app://ferry/index.html', parent: null }, main)).toBe(false);
    expect(
      isTrustedSender({ url: 'app://ferry.evil/x', parent: null } as never, { url: 'app://ferry.evil/x' }),
    ).toBe(false);
    expect(isTrustedSender(null, main)).toBe(false);
  });
});
