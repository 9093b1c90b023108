import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import { CredentialStore, parseChallenges } from '../../../src-main/core/fetch/oci/auth.js';

describe('WWW-Authenticate challenges', () => {
  it('parses Bearer with quoted parameters, including commas and spaces inside quotes', () => {
    const c = parseChallenges(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push"',
    );
    expect(c).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/nginx:pull,push',
        },
      },
    ]);
  });

  it('parses several challenges and unquoted values', () => {
    const c = parseChallenges(['Basic realm="Registry Realm"', 'Bearer realm=https://x/token, service=x']);
    expect(c.map((x) => x.scheme)).toEqual(['basic', 'bearer']);
    expect(c[1].params).toEqual({ realm: 'https://x/token', service: 'x' });
  });
});

describe('registry credentials', () => {
  it('prefers the profile, reads passwords from the environment, and says when one is missing', () => {
    const s = new CredentialStore(
      { 'quay.io': { username: 'u', passwordEnv: 'QUAY_PW' } },
      { QUAY_PW: 'secret' },
    );
    expect(s.get('quay.io')).toEqual({ username: 'u', password: 'secret' });
    const missing = new CredentialStore({ 'quay.io': { username: 'u', passwordEnv: 'NOPE' } }, {});
    expect(() => missing.get('quay.io')).toThrow(/NOPE/);
  });

  it('reads Docker and Podman auth files, normalising Docker Hub keys and honouring namespace entries', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-auth-'));
    const f = path.join(dir, 'auth.json');
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    fs.writeFileSync(
      f,
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: b64('hub:pw') },
          'ghcr.io': { auth: b64('gh:token:with:colons') },
          'ghcr.io/team': { auth: b64('team:pw') },
        },
      }),
    );
    const s = new CredentialStore({}, {});
    s.loadAuthFile(f, true);
    expect(s.get('docker.io', 'library/nginx')).toEqual({ username: 'hub', password: 'pw' });
    expect(s.get('ghcr.io', 'other/x')).toEqual({ username: 'gh', password: 'token:with:colons' });
    expect(s.get('ghcr.io', 'team/app')).toEqual({ username: 'team', password: 'pw' });
    expect(s.get('quay.io')).toBeUndefined();
    fs.writeFileSync(f, '{"auths": 5}');
    expect(() => new CredentialStore().loadAuthFile(f, true)).toThrow(FerryError);
    expect(() => new CredentialStore().loadAuthFile(path.join(dir, 'missing.json'), true)).toThrow(
      /Cannot read/,
    );
    expect(() => new CredentialStore().loadAuthFile(path.join(dir, 'missing.json'), false)).not.toThrow();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
