import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as openpgp from 'openpgp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RPM_OS_IDS } from '../../../src-main/core/kinds/os.js';
import { RPM_NODE_OSES } from '../../../src-main/ipc/choices.js';
import { ClusterChoicesSchema } from '../../../src-main/ipc/contract.js';
import { testBackend } from '../../helpers/ipc-backend.js';
import { kubesprayDataDir, lacks, lacksCondition } from '../../helpers/tools.js';
import { mutualTlsServerOptions, writeMutualTlsCerts } from '../../helpers/mtls-certs.js';

/**
 * The cluster step's RPM files (client certificate, key, CA, a repository key per OS) cross the
 * IPC boundary as tokens of picked files: main resolves each for its own purpose and hands the
 * files to the same planOsPackages and client TLS as the CLI's --client-cert, --client-key,
 * --rpm-ca and --rpm-key OS=FILE.
 */

type T = ReturnType<typeof testBackend>;
let t: T | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

const TAG = 'v2.31.0';

/** A backend whose Kubespray release is cached (a tarball of the shared data), so no download. */
function backendWithRelease(): T {
  const b = testBackend();
  const cache = path.join(b.env.FERRY_DATA_DIR!, 'cache', 'kubespray');
  fs.mkdirSync(cache, { recursive: true });
  const tar = spawnSync('tar', [
    '-czf',
    path.join(cache, `kubespray-${TAG}.tar.gz`),
    '-C',
    kubesprayDataDir,
    TAG,
  ]);
  expect(tar.status).toBe(0);
  return b;
}

const base = {
  kubespray: { source: 'release', version: TAG },
  arches: ['amd64'],
  runtime: 'containerd',
  network: 'calico',
  addons: [],
  extraImages: [],
  extraFiles: [],
};

/** Picks `file` through the scripted file dialog for `purpose`; the token main hands back. */
async function pick(b: T, file: string, purpose: string): Promise<string> {
  b.answers.files.push(file);
  return (await b.ok('dialog.pickFile', { purpose })).token as string;
}

describe('the RPM files in the cluster choices', () => {
  it('are the RPM OSes core knows', () => {
    expect([...RPM_NODE_OSES].sort()).toEqual([...RPM_OS_IDS].sort());
  });

  it('the contract takes tokens only, and repository keys only for RPM OSes', () => {
    const token = 'AbCdEfGh12345678';
    const ok = { ...base, os: ['rocky-9'], rpmClientCert: token, rpmClientKey: token, rpmCa: token };
    expect(
      ClusterChoicesSchema.safeParse({ ...ok, rpmKeys: { 'rocky-9': token, 'rhel-10': token } }).success,
    ).toBe(true);
    for (const bad of [
      { rpmKeys: { 'debian-12': token } },
      { rpmKeys: { 'windows-11': token } },
      { rpmKeys: { 'rocky-9': '/etc/pki/rpm-gpg/RPM-GPG-KEY-rocky-9' } },
      { rpmClientCert: '../../etc/pki/entitlement/1.pem' },
      { rpmClientKey: 'short' },
      { rpmCa: 42 },
      { rpmClientCrt: token },
    ]) {
      expect(ClusterChoicesSchema.safeParse({ ...ok, ...bad }).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('a path instead of a token is refused at the boundary, naming the field', async () => {
    t = testBackend();
    const r = await t.call('fetch.start', {
      choices: { ...base, os: ['rocky-9'], rpmKeys: { 'rocky-9': '/tmp/key.asc' } },
    });
    expect(r).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    if (r.ok) throw new Error('unreachable');
    expect(r.error.message).toContain('rpmKeys.rocky-9');
    expect(r.error.message).toContain('token issued by main');
  });
});

describe.skipIf(
  lacksCondition(!fs.existsSync(kubesprayDataDir), `the shared Kubespray data at ${kubesprayDataDir}`),
)('the picked RPM files reach the OS package plan', () => {
  it('a repository key that is no key is refused naming the file, before anything downloads', async () => {
    t = backendWithRelease();
    const junk = path.join(t.tmp, 'RPM-GPG-KEY-mirror');
    fs.writeFileSync(junk, 'this is a web page, not a key\n');
    const token = await pick(t, junk, 'rpmKey');
    const r = await t.call('fetch.start', {
      choices: { ...base, os: ['rocky-9'], rpmKeys: { 'rocky-9': token } },
    });
    expect(r).toMatchObject({ ok: false, error: { code: 'SIGNATURE', artifact: junk } });
    if (r.ok) throw new Error('unreachable');
    expect(r.error.message).toContain(`The RPM key ${junk} (for rocky-9) is not an OpenPGP public key`);
    expect((await t.ok('jobs.list')).filter((j: { kind: string }) => j.kind === 'fetch')).toEqual([]);
  });

  it('a key for an OS that is not ticked is left out, as its base URL is', async () => {
    t = backendWithRelease();
    const junk = path.join(t.tmp, 'not-a-key');
    fs.writeFileSync(junk, 'junk');
    const token = await pick(t, junk, 'rpmKey');
    // Debian only: the stale alma-9 key is not read. (Sizing keeps an OS-package failure as the
    // reason they are unsized; offline that is the Debian archive, never this file.)
    const r = await t.ok('plan.sizes', { ...base, os: ['debian-12'], rpmKeys: { 'alma-9': token } });
    expect(JSON.stringify(r)).not.toContain(junk);
  });

  it('the client certificate is read from the picked file; one that is gone is named', async () => {
    t = backendWithRelease();
    const cert = path.join(t.tmp, '123.pem');
    const key = path.join(t.tmp, '123-key.pem');
    fs.writeFileSync(cert, 'x');
    fs.writeFileSync(key, 'x');
    const choices = {
      ...base,
      os: ['rhel-9'],
      rpmRepos: { 'rhel-9': 'https://127.0.0.1:1/content/rhel9' },
      rpmClientCert: await pick(t, cert, 'rpmClientCert'),
      rpmClientKey: await pick(t, key, 'rpmClientKey'),
    };
    fs.rmSync(cert);
    const r = await t.call('fetch.start', { choices });
    expect(r).toMatchObject({ ok: false, error: { code: 'CONFIG', artifact: cert } });
    if (r.ok) throw new Error('unreachable');
    expect(r.error.message).toContain(`Cannot read the client certificate ${cert}`);
  });

  it('a certificate without its key is a usage error; a token picked for another purpose is refused', async () => {
    t = backendWithRelease();
    const cert = path.join(t.tmp, '123.pem');
    fs.writeFileSync(cert, 'x');
    const certToken = await pick(t, cert, 'rpmClientCert');
    const r = await t.call('fetch.start', {
      choices: { ...base, os: ['rocky-9'], rpmClientCert: certToken },
    });
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'USAGE', message: expect.stringContaining('needs its key') },
    });
    // The certificate's token cannot stand for the CA (a token is bound to what it was picked for).
    const r2 = await t.call('fetch.start', {
      choices: { ...base, os: ['rocky-9'], rpmCa: certToken },
    });
    expect(r2).toMatchObject({
      ok: false,
      error: { code: 'USAGE', message: expect.stringContaining('no longer valid') },
    });
  });
});

/**
 * End to end through the app's plan: a RHEL mirror behind mutual TLS under its own CA, whose
 * repomd is signed by a mirror key of its own. With the four picked files the metadata is read
 * and verified and the plan gets as far as resolving (the synthetic mirror has no packages, so it
 * fails naming a Kubespray package); without the client certificate the host refuses the
 * handshake; with another key the signature is refused.
 */
describe.skipIf(
  lacks('openssl') ||
    lacksCondition(!fs.existsSync(kubesprayDataDir), `the shared Kubespray data at ${kubesprayDataDir}`),
)('a RHEL mirror behind mutual TLS, through the cluster choices', () => {
  let dir: string;
  let server: https.Server;
  let url: string;
  const seen: string[] = [];
  const f = (n: string) => path.join(dir, n);

  beforeAll(async () => {
    fs.mkdirSync('/tmp/rpm-app', { recursive: true });
    dir = fs.mkdtempSync('/tmp/rpm-app/mtls-');
    writeMutualTlsCerts(dir, 'Test CDN CA');
    const gen = () =>
      openpgp.generateKey({
        type: 'ecc',
        curve: 'ed25519Legacy',
        userIDs: [{ name: 'Mirror' }],
        format: 'object',
      });
    const mirror = await gen();
    fs.writeFileSync(f('RPM-GPG-KEY-mirror'), mirror.publicKey.armor());
    fs.writeFileSync(f('RPM-GPG-KEY-other'), (await gen()).publicKey.armor());
    // An empty repository: valid metadata, no packages.
    const primary = gzipSync(
      '<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="0">\n</metadata>\n',
    );
    const sum = createHash('sha256').update(primary).digest('hex');
    const repomd = Buffer.from(
      `<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>7</revision><data type="primary"><checksum type="sha256">${sum}</checksum><location href="repodata/primary.xml.gz"/><size>${primary.length}</size></data></repomd>\n`,
    );
    const asc = await openpgp.sign({
      message: await openpgp.createMessage({ binary: repomd }),
      signingKeys: mirror.privateKey,
      detached: true,
    });
    server = https.createServer(mutualTlsServerOptions(dir), (req, res) => {
      seen.push(req.url ?? '');
      const m =
        /^\/content\/rhel9\/[a-z]+\/x86_64\/os\/repodata\/(repomd\.xml(?:\.asc)?|primary\.xml\.gz)$/.exec(
          req.url ?? '',
        );
      if (!m) return res.writeHead(404).end();
      res.writeHead(200).end(m[1] === 'repomd.xml' ? repomd : m[1] === 'repomd.xml.asc' ? asc : primary);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const choicesFor = async (b: T, o: { cert: boolean; key: string }) => ({
    ...base,
    os: ['rhel-9'],
    rpmRepos: { 'rhel-9': `${url}/content/rhel9/$repoid/$basearch/os` },
    ...(o.cert
      ? {
          rpmClientCert: await pick(b, f('client.pem'), 'rpmClientCert'),
          rpmClientKey: await pick(b, f('client.key'), 'rpmClientKey'),
        }
      : {}),
    rpmCa: await pick(b, f('ca.pem'), 'rpmCa'),
    rpmKeys: { 'rhel-9': await pick(b, f(o.key), 'rpmKey') },
  });

  it('with the picked certificate, key, CA and mirror key the metadata is read and verified', async () => {
    t = backendWithRelease();
    seen.length = 0;
    const r = await t.call('fetch.start', {
      choices: await choicesFor(t, { cert: true, key: 'RPM-GPG-KEY-mirror' }),
    });
    expect(r.ok).toBe(false);
    if (r.ok) throw new Error('unreachable');
    // It got past TLS and the signature: the empty mirror lacks Kubespray's packages.
    expect(r.error.message).not.toMatch(/certificate|signature|OpenPGP/i);
    expect(seen).toContain('/content/rhel9/baseos/x86_64/os/repodata/repomd.xml.asc');
    expect(seen).toContain('/content/rhel9/baseos/x86_64/os/repodata/primary.xml.gz');
    expect(r.error.message).toMatch(/^Red Hat Enterprise Linux 9: \d+ requirement\(s\) cannot be met/);
    expect(r.error.message).toContain('no package provides curl');
  });

  it('without the client certificate the host refuses the handshake', async () => {
    t = backendWithRelease();
    seen.length = 0;
    const r = await t.call('fetch.start', {
      choices: await choicesFor(t, { cert: false, key: 'RPM-GPG-KEY-mirror' }),
    });
    expect(r.ok).toBe(false);
    if (r.ok) throw new Error('unreachable');
    expect(r.error.message).toMatch(/certificate required/i);
    expect(seen).toEqual([]);
  });

  it('with another key the repomd signature is refused', async () => {
    t = backendWithRelease();
    const r = await t.call('fetch.start', {
      choices: await choicesFor(t, { cert: true, key: 'RPM-GPG-KEY-other' }),
    });
    expect(r).toMatchObject({ ok: false, error: { code: 'SIGNATURE' } });
  });
});
