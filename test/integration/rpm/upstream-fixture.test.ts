import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSigningKey } from '../../helpers/deb-sign.js';
import {
  DEFAULT_DNF_SET,
  dnfDownload,
  dnfRepoclosure,
  lacksRpmTools,
  realUnresolved,
  rpmUpstream,
  type RpmUpstream,
} from '../../helpers/rpm-upstream.js';
import { lacks } from '../../helpers/tools.js';

/**
 * The synthetic "Rocky 9" upstream is itself checked against dnf, so the tests built on it
 * (resolution, fetch, repodata) rest on a mirror dnf accepts: signed packages and repomd, the
 * relationships it claims to exercise, both architectures, and tampering that dnf refuses.
 */

describe.skipIf(lacksRpmTools())('the synthetic Rocky 9 upstream, checked by dnf', () => {
  let up: RpmUpstream;
  let tmp: string;

  beforeAll(async () => {
    up = await rpmUpstream();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-rpm-upstream-test-'));
    // rpmbuild on a cold cache takes tens of seconds on a loaded machine.
  }, 300_000);
  afterAll(async () => {
    await up?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('lays out BaseOS and AppStream for both arches, every repomd signed', () => {
    for (const arch of ['x86_64', 'aarch64'] as const)
      for (const repo of ['BaseOS', 'AppStream'] as const) {
        const rd = path.join(up.root, '9', repo, arch, 'os', 'repodata');
        expect(fs.existsSync(path.join(rd, 'repomd.xml.asc')), `${repo} ${arch}`).toBe(true);
        expect(fs.readFileSync(path.join(rd, 'repomd.xml.asc'), 'utf8')).toMatch(
          /^-----BEGIN PGP SIGNATURE-----/,
        );
        const repomd = fs.readFileSync(path.join(rd, 'repomd.xml'), 'utf8');
        expect(repomd).toMatch(/<data type="filelists">/);
        if (repo === 'AppStream') expect(repomd).toMatch(/<data type="modules">[\s\S]*?-modules\.yaml\.xz"/);
      }
    expect(up.keyFingerprint).toMatch(/^[0-9A-F]{40}$/);
    // The decoy: an i686 ferry-lib with the highest version sits in x86_64 BaseOS only.
    expect(up.rpmFiles('BaseOS', 'x86_64').some((f) => f.endsWith('ferry-lib-3.0-1.el9.i686.rpm'))).toBe(
      true,
    );
    expect(up.rpmFiles('BaseOS', 'aarch64').some((f) => f.includes('.i686.'))).toBe(false);
  });

  for (const arch of ['x86_64', 'aarch64'] as const)
    it(`dnf --downloadonly with gpgcheck=1 and repo_gpgcheck=1 resolves the expected set (${arch})`, async () => {
      const r = await dnfDownload({ repos: up.dnfRepos(arch), packages: up.roots, arch });
      // Caret beats the plain and tilde builds, epoch beats version, the obsoleter replaces the
      // root, the file require is found via filelists, the module's default stream wins, and
      // the i686 decoy is never chosen.
      expect(r.files).toEqual(DEFAULT_DNF_SET(arch));
    });

  it('without weak dependencies dnf leaves out what is only recommended', async () => {
    // ferry-core alone: ferry-docs is only its Recommends (ferry-tool's Requires(preun) on it is
    // a plain requirement in primary, so the full root set needs it either way).
    const on = await dnfDownload({ repos: up.dnfRepos('x86_64'), packages: ['ferry-core'], arch: 'x86_64' });
    const off = await dnfDownload({
      repos: up.dnfRepos('x86_64'),
      packages: ['ferry-core'],
      arch: 'x86_64',
      weakDeps: false,
    });
    expect(on.files).toContain('ferry-docs-1.0-1.el9.noarch.rpm');
    expect(off.files).toEqual(on.files.filter((f) => !f.startsWith('ferry-docs-')));
  });

  it('dnf installs into a bare root for real with both checks on (package signatures checked)', async () => {
    const r = await dnfDownload({
      repos: up.dnfRepos('x86_64'),
      packages: up.roots,
      arch: 'x86_64',
      install: true,
    });
    expect(r.files).toEqual(DEFAULT_DNF_SET('x86_64'));
  });

  it('dnf refuses packages signed by a key it was not given (gpgcheck=1 is real)', async () => {
    const other = await testSigningKey('Some other key');
    const keyFile = path.join(tmp, 'other.asc');
    fs.writeFileSync(keyFile, other.publicKey.armor());
    const repos = up
      .dnfRepos('x86_64', { repo_gpgcheck: false })
      .map((r) => ({ ...r, gpgkey: `file://${keyFile}` }));
    const r = await dnfDownload({
      repos,
      packages: ['ferry-setup'],
      arch: 'x86_64',
      install: true,
      allowFailure: true,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /Public key for ferry-setup-1.0-1.el9.noarch.rpm is not installed[\s\S]*GPG check FAILED/,
    );
  });

  it('dnf repoclosure is clean apart from the conditional rich dependency', async () => {
    for (const arch of ['x86_64', 'aarch64'] as const) {
      const c = await dnfRepoclosure({ repos: up.dnfRepos(arch), arch });
      expect([...c.unresolved.entries()]).toEqual([
        [`ferry-core-1.0-1.el9.${arch}`, ['(ferry-selinux if selinux-policy)']],
      ]);
      expect(realUnresolved(c.unresolved).size).toBe(0);
    }
  });

  it('dnf refuses a tampered repomd, primary, filelists, modules and package, and an unsigned repomd', async () => {
    try {
      up.tamper('repomd');
      let r = await dnfDownload({
        repos: up.dnfRepos('x86_64'),
        packages: ['ferry-setup'],
        arch: 'x86_64',
        allowFailure: true,
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/repomd\.xml GPG signature verification error/);
      up.untamper();

      const primary = up.tamper('primary');
      r = await dnfDownload({
        repos: up.dnfRepos('x86_64'),
        packages: ['ferry-setup'],
        arch: 'x86_64',
        allowFailure: true,
      });
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr).toContain(path.basename(primary));
      up.untamper();

      for (const kind of ['filelists', 'modules'] as const) {
        const f = up.tamper(kind);
        const repo = kind === 'modules' ? 'appstream' : 'baseos';
        r = await dnfDownload({
          repos: up.dnfRepos('x86_64'),
          packages: ['ferry-setup'],
          arch: 'x86_64',
          allowFailure: true,
        });
        expect(r.code, kind).not.toBe(0);
        expect(r.stdout + r.stderr, kind).toContain(path.basename(f));
        expect(r.stderr, kind).toContain(`Failed to download metadata for repo '${repo}'`);
        up.untamper();
      }

      // Unsigned: refused with repo_gpgcheck=1, accepted without (so the check is what refuses).
      up.tamper('unsigned');
      r = await dnfDownload({
        repos: up.dnfRepos('x86_64'),
        packages: ['ferry-setup'],
        arch: 'x86_64',
        allowFailure: true,
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/repomd\.xml\.asc/);
      r = await dnfDownload({
        repos: up.dnfRepos('x86_64', { repo_gpgcheck: false }),
        packages: ['ferry-setup'],
        arch: 'x86_64',
      });
      expect(r.files).toEqual(['ferry-setup-1.0-1.el9.noarch.rpm']);
      up.untamper();

      up.tamper('package');
      r = await dnfDownload({
        repos: up.dnfRepos('x86_64'),
        packages: ['ferry-core'],
        arch: 'x86_64',
        allowFailure: true,
      });
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(
        /ferry-core-1\.0-1\.el9\.x86_64\.rpm: Downloading successful, but checksum doesn't match/,
      );
    } finally {
      up.untamper();
    }
  });
});

describe.skipIf(lacksRpmTools() || lacks('zstd'))('the upstream with zstd metadata (newer mirrors)', () => {
  it(
    'dnf reads zst primary, filelists, other and modules and resolves the same set',
    { timeout: 300_000 },
    async () => {
      const up = await rpmUpstream({ compression: { BaseOS: 'zst', AppStream: 'zst' } });
      try {
        for (const repo of ['BaseOS', 'AppStream'] as const) {
          const repomd = fs.readFileSync(
            path.join(up.root, '9', repo, 'x86_64', 'os', 'repodata', 'repomd.xml'),
            'utf8',
          );
          const hrefs = [...repomd.matchAll(/<location href="([^"]+)"/g)].map((m) => m[1]);
          expect(hrefs.length).toBe(repo === 'AppStream' ? 4 : 3);
          for (const h of hrefs) expect(h).toMatch(/\.zst$/);
        }
        const r = await dnfDownload({ repos: up.dnfRepos('x86_64'), packages: up.roots, arch: 'x86_64' });
        expect(r.files).toEqual(DEFAULT_DNF_SET('x86_64'));
      } finally {
        await up.close();
      }
    },
  );
});
