import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { FerryError } from '../core/base/errors/index.js';

/**
 * Paths live only in main. When a native dialog or a drive scan yields a folder or file, main
 * files it here under a random token and the renderer gets the token plus a label to show.
 * A token is bound to its purpose, so a token picked for "trust this key" cannot be replayed as
 * an export target.
 */

export type PickPurpose =
  | 'kubespray'
  | 'inventory'
  | 'bundle'
  | 'export'
  | 'store'
  | 'key'
  | 'sshKey'
  | 'rpmClientCert'
  | 'rpmClientKey'
  | 'rpmCa'
  | 'rpmKey';

interface Entry {
  path: string;
  purpose: PickPurpose;
  kind: 'folder' | 'file';
}

export class PickRegistry {
  private readonly entries = new Map<string, Entry>();
  /** Same place, same purpose → same token, so rescans do not grow the map without end. */
  private readonly byKey = new Map<string, string>();

  add(
    p: string,
    purpose: PickPurpose,
    kind: 'folder' | 'file',
  ): { token: string; label: string; kind: 'folder' | 'file' } {
    const abs = path.resolve(p);
    const key = `${purpose}\0${kind}\0${abs}`;
    let token = this.byKey.get(key);
    if (!token) {
      token = randomBytes(18).toString('base64url');
      this.entries.set(token, { path: abs, purpose, kind });
      this.byKey.set(key, token);
    }
    return { token, label: abs, kind };
  }

  /** The path behind a token, if it was issued for one of the purposes. */
  resolve(token: string, ...purposes: PickPurpose[]): string {
    const e = this.entries.get(token);
    if (!e || (purposes.length && !purposes.includes(e.purpose))) {
      throw new FerryError(
        'USAGE',
        'That choice is no longer valid (the app was restarted or it was picked for something else).',
        {
          hint: 'Choose the folder or drive again.',
        },
      );
    }
    return e.path;
  }

  label(token: string): string {
    return this.entries.get(token)?.path ?? '';
  }
}
