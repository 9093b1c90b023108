import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { FerryError } from '../../base/errors/index.js';
import type { HttpClient, HttpResponse } from '../download/http-client.js';
import type { RegistryCredentialsSchema } from '../../plan/profile/schema.js';
import { DOCKER_HUB } from './reference.js';

/**
 * Registry credentials and the auth dance. Credentials come from the profile
 * (`registries.<host>`) first, then a Docker/Podman-style auth.json. A 401 carries a
 * `WWW-Authenticate` challenge: Basic means send the credentials; Bearer means ask the realm
 * for a token (with the credentials if any, anonymously otherwise) for the repository's pull scope.
 */

/**
 * One registry's credentials and TLS, as the profile's `registries` entry parses (passwordEnv
 * names an environment variable holding the password, which keeps secrets out of profiles).
 */
export type RegistrySettings = z.infer<typeof RegistryCredentialsSchema>;

export interface Credential {
  username: string;
  password: string;
}

const AuthFileSchema = z.object({
  auths: z
    .record(
      z.string(),
      z
        .object({
          auth: z.string().optional(),
          username: z.string().optional(),
          password: z.string().optional(),
        })
        .passthrough(),
    )
    .optional(),
});

/** Where Docker and Podman keep credentials, in the order they are consulted. */
export function defaultAuthFiles(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME ?? os.homedir();
  const out: string[] = [];
  if (env.REGISTRY_AUTH_FILE) out.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) out.push(path.join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  out.push(path.join(env.DOCKER_CONFIG ?? path.join(home, '.docker'), 'config.json'));
  return out;
}

/** Normalise an auth.json key: 'https://index.docker.io/v1/' → 'docker.io', 'https://host/' → 'host'. */
function normaliseKey(k: string): string {
  let s = k.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (s === 'index.docker.io/v1' || s === 'index.docker.io' || s === 'registry-1.docker.io') s = DOCKER_HUB;
  return s.replace(/\/v[12]$/, '');
}

export class CredentialStore {
  private readonly fromFile = new Map<string, Credential>();

  constructor(
    private readonly registries: Record<string, RegistrySettings> = {},
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /**
   * Load an auth.json. An explicit file that cannot be read is an error; default locations
   * that do not exist are skipped.
   */
  loadAuthFile(file: string, explicit: boolean): void {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if (!explicit) return;
      throw new FerryError('CONFIG', `Cannot read the auth file ${file}: ${(err as Error).message}`, {
        artifact: file,
        hint: 'Point authFile in the profile at a Docker or Podman auth.json (e.g. ~/.docker/config.json).',
      });
    }
    let parsed;
    try {
      parsed = AuthFileSchema.parse(JSON.parse(text));
    } catch (err) {
      throw new FerryError(
        'CONFIG',
        `${file} is not a Docker-style auth file: ${(err as Error).message.slice(0, 200)}`,
        {
          artifact: file,
          hint: 'It must be JSON with an "auths" object, as `docker login` or `podman login` write it.',
        },
      );
    }
    for (const [k, v] of Object.entries(parsed.auths ?? {})) {
      let cred: Credential | undefined;
      if (v.auth) {
        const dec = Buffer.from(v.auth, 'base64').toString('utf8');
        const i = dec.indexOf(':');
        if (i > 0) cred = { username: dec.slice(0, i), password: dec.slice(i + 1) };
      } else if (v.username && v.password) cred = { username: v.username, password: v.password };
      const key = normaliseKey(k);
      if (cred && !this.fromFile.has(key)) this.fromFile.set(key, cred);
    }
  }

  settings(host: string): RegistrySettings | undefined {
    return (
      this.registries[host] ?? (host === DOCKER_HUB ? this.registries['registry-1.docker.io'] : undefined)
    );
  }

  /** Credentials for a registry host (and repository, for auth.json entries scoped to a namespace). */
  get(host: string, repository?: string): Credential | undefined {
    const s = this.settings(host);
    if (s?.username) {
      const password = s.password ?? (s.passwordEnv ? this.env[s.passwordEnv] : undefined);
      if (password === undefined) {
        throw new FerryError(
          'CONFIG',
          s.passwordEnv
            ? `The profile names user '${s.username}' for ${host}, but the environment variable ${s.passwordEnv} that holds the password is not set.`
            : `The profile names user '${s.username}' for ${host} but no password.`,
          {
            artifact: host,
            hint: s.passwordEnv
              ? `Set the environment variable ${s.passwordEnv}.`
              : 'Add password or passwordEnv to registries.' + host,
          },
        );
      }
      return { username: s.username, password };
    }
    if (repository) {
      // Most specific namespace entry first, as Podman does.
      const parts = repository.split('/');
      for (let i = parts.length; i > 0; i--) {
        const c = this.fromFile.get(`${host}/${parts.slice(0, i).join('/')}`);
        if (c) return c;
      }
    }
    return this.fromFile.get(host);
  }
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parse `WWW-Authenticate: Bearer realm="…",service="…",scope="…"` (several challenges allowed). */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const s = Array.isArray(header) ? header.join(', ') : (header ?? '');
  const out: Challenge[] = [];
  const tokenRe = /[A-Za-z0-9!#$%&'*+.^_`|~-]+/y;
  let i = 0;
  const skip = () => {
    while (i < s.length && /[\s,]/.test(s[i])) i++;
  };
  while (i < s.length) {
    skip();
    tokenRe.lastIndex = i;
    const m = tokenRe.exec(s);
    if (!m) {
      i++;
      continue;
    }
    i += m[0].length;
    let j = i;
    while (j < s.length && s[j] === ' ') j++;
    const cur = out[out.length - 1];
    if (s[j] === '=' && cur) {
      i = j + 1;
      while (i < s.length && s[i] === ' ') i++;
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i++];
        }
        i++;
      } else {
        while (i < s.length && !/[\s,]/.test(s[i])) value += s[i++];
      }
      cur.params[m[0].toLowerCase()] = value;
    } else {
      out.push({ scheme: m[0].toLowerCase(), params: {} });
    }
  }
  return out;
}

const TokenSchema = z
  .object({ token: z.string().optional(), access_token: z.string().optional() })
  .passthrough();

/**
 * The Authorization header for one registry endpoint and repository, refreshed on 401. It is
 * only ever attached to the endpoint's own origin: a redirect to blob storage goes without it.
 */
export class RegistryAuth {
  private header?: string;

  constructor(
    private readonly http: HttpClient,
    readonly origin: string,
    private readonly credential: Credential | undefined,
    private readonly what: string,
  ) {}

  headersFor = (url: URL): Record<string, string> | undefined =>
    this.header && url.origin === this.origin ? { authorization: this.header } : undefined;

  /** Answer a 401: returns true when new credentials are in place and the request may be retried. */
  async onUnauthorized(res: Pick<HttpResponse, 'headers' | 'url'>, signal?: AbortSignal): Promise<boolean> {
    // Parallel requests that hit 401 together share one token request.
    if (this.refreshing) {
      await this.refreshing;
      return true;
    }
    const p = this.refresh(res, signal);
    this.refreshing = p.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await p;
    } finally {
      this.refreshing = undefined;
    }
  }

  private refreshing: Promise<void> | undefined;

  private async refresh(res: Pick<HttpResponse, 'headers' | 'url'>, signal?: AbortSignal): Promise<boolean> {
    const challenges = parseChallenges(res.headers['www-authenticate']);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const before = this.header;
    if (bearer?.params.realm) {
      this.header = `Bearer ${await this.token(bearer.params, signal)}`;
    } else if (challenges.some((c) => c.scheme === 'basic')) {
      if (!this.credential) throw this.needCredentials();
      this.header = basic(this.credential);
    } else {
      throw new FerryError(
        'AUTH',
        `${this.what}: the registry refused access without saying how to log in.`,
        {
          artifact: this.what,
          hint: 'Check the registry URL and credentials in the profile.',
        },
      );
    }
    return this.header !== before || bearer !== undefined;
  }

  private async token(params: Record<string, string>, signal?: AbortSignal): Promise<string> {
    let realm: URL;
    try {
      realm = new URL(params.realm);
    } catch {
      throw new FerryError(
        'AUTH',
        `${this.what}: the registry names an invalid token realm '${params.realm}'.`,
        { artifact: this.what },
      );
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
      throw new FerryError('AUTH', `${this.what}: the token realm ${realm.href} is not HTTP(S).`, {
        artifact: this.what,
      });
    }
    if (params.service) realm.searchParams.set('service', params.service);
    if (params.scope) for (const s of params.scope.split(' ')) realm.searchParams.append('scope', s);
    const cred = this.credential;
    // Credentials go to the realm the registry named, and only there.
    const res = await this.http.fetchBytes(realm, {
      headersFor: (u) => (cred && u.origin === realm.origin ? { authorization: basic(cred) } : undefined),
      signal,
      maxBytes: 1 << 20,
      pass: [401, 403],
    });
    if (res.status === 401 || res.status === 403) {
      throw cred
        ? new FerryError(
            'AUTH',
            `${this.what}: the registry's token service refused the credentials for user '${cred.username}'.`,
            {
              artifact: this.what,
              hint: 'Check the username and password for this registry in the profile or the auth file.',
            },
          )
        : this.needCredentials();
    }
    let tok: z.infer<typeof TokenSchema>;
    try {
      tok = TokenSchema.parse(JSON.parse(res.body.toString('utf8')));
    } catch {
      throw new FerryError(
        'AUTH',
        `${this.what}: the token service at ${realm.origin} answered with something that is not a token.`,
        {
          artifact: this.what,
        },
      );
    }
    const t = tok.token ?? tok.access_token;
    if (!t)
      throw new FerryError('AUTH', `${this.what}: the token service at ${realm.origin} returned no token.`, {
        artifact: this.what,
      });
    return t;
  }

  private needCredentials(): FerryError {
    return new FerryError(
      'AUTH',
      `${this.what}: the registry requires a login and Ferry has no credentials for it.`,
      {
        artifact: this.what,
        hint: 'Add registries.<host>.username and password (or passwordEnv) to the profile, or point authFile at a Docker-style auth.json.',
      },
    );
  }
}

function basic(c: Credential): string {
  return 'Basic ' + Buffer.from(`${c.username}:${c.password}`).toString('base64');
}
