import { X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureCa, ensureServerCert, loadUserCert } from '../../../src-main/core/serve/tls/ca.js';
import { OfflineServer } from '../../../src-main/core/serve/server.js';
import { openVerifiedBundle } from '../../../src-main/core/serve/verified-source.js';
import { makeImage, writeTestBundle } from '../../helpers/oci-fixtures.js';
import { request } from '../../helpers/http-get.js';

describe('local CA and server certificates', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-tls-'));
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('creates a CA once and keeps it between runs, key private', async () => {
    const a = await ensureCa(tmp);
    const b = await ensureCa(tmp);
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.certPem).toBe(a.certPem);
    const c = new X509Certificate(a.certPem);
    expect(c.ca).toBe(true);
    expect((await fs.stat(path.join(tmp, 'ca.key'))).mode & 0o777).toBe(0o600);
  });

  it('issues a server certificate for the names and addresses asked, signed by the CA', async () => {
    const m = await ensureServerCert(tmp, ['ferry.lan', '10.0.0.5', '127.0.0.1']);
    const c = new X509Certificate(m.cert);
    const ca = new X509Certificate(m.ca!);
    expect(c.verify(ca.publicKey)).toBe(true);
    expect(c.checkIssued(ca)).toBe(true);
    expect(c.subjectAltName).toContain('DNS:ferry.lan');
    expect(c.subjectAltName).toContain('IP Address:10.0.0.5');
    expect(c.checkHost('ferry.lan')).toBe('ferry.lan');
    expect(c.checkIP('10.0.0.5')).toBe('10.0.0.5');
    expect(c.ca).toBe(false);
  });

  it('reuses the server certificate while it covers the names, re-issues from the same CA when they change', async () => {
    const a = await ensureServerCert(tmp, ['ferry.lan']);
    const b = await ensureServerCert(tmp, ['ferry.lan']);
    expect(b.issued).toBe(false);
    expect(b.cert).toBe(a.cert);
    const c = await ensureServerCert(tmp, ['ferry.lan', 'other.lan']);
    expect(c.issued).toBe(true);
    expect(c.ca).toBe(a.ca);
  });

  it('refuses names that are neither host names nor addresses', async () => {
    await expect(ensureServerCert(tmp, ['bad name!'])).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('checks a user certificate against its key', async () => {
    const one = await ensureServerCert(path.join(tmp, 'one'), ['a.lan']);
    const two = await ensureServerCert(path.join(tmp, 'two'), ['b.lan']);
    const ok = await loadUserCert(one.certFile, path.join(tmp, 'one', 'server.key'), one.caFile);
    expect(ok.names).toEqual(['a.lan']);
    await expect(loadUserCert(one.certFile, path.join(tmp, 'two', 'server.key'))).rejects.toMatchObject({
      code: 'CONFIG',
    });
    expect(two.names).toEqual(['b.lan']);
  });

  it('serves HTTPS that a client trusting only the CA accepts, and the CA at /ca.crt', async () => {
    await writeTestBundle(path.join(tmp, 'b'), {
      images: [{ ref: 'quay.io/a/b:1', image: makeImage({ single: true }) }],
    });
    const v = await openVerifiedBundle(path.join(tmp, 'b'), { allowUnsigned: true, trusted: [] });
    const tls = await ensureServerCert(path.join(tmp, 'tls'), ['localhost', '127.0.0.1']);
    const s = await OfflineServer.start({
      sources: [v.source],
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
      tls,
      advertise: '127.0.0.1',
    });
    try {
      expect(s.registryUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect((await request(s.registryUrl, '/v2/', { ca: tls.ca! })).status).toBe(200);
      const ca = await request(s.filesUrl, '/ca.crt', { ca: tls.ca! });
      expect(ca.body.toString()).toBe(tls.ca);
      await expect(request(s.registryUrl, '/v2/')).rejects.toThrow(
        /self.signed|unable to verify|certificate/i,
      );
    } finally {
      await s.stop();
    }
  });
});
