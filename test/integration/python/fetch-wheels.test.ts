import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle } from '../../../src-main/core/bundle/verify/verify-bundle.js';
import { ManifestSchema } from '../../../src-main/core/bundle/manifest.js';
import type { Plan } from '../../../src-main/core/plan/plan.js';
import { metadataFromWheel } from '../../../src-main/core/kinds/python/metadata.js';
import { planPython } from '../../../src-main/core/kinds/python/plan.js';
import type { ResolvedWheelSet } from '../../../src-main/core/kinds/python/set.js';
import { kubesprayV231Projects, startPypi, type PypiServer } from '../../helpers/pypi-server.js';
import { kubesprayDataDir, lacksCondition } from '../../helpers/tools.js';
import { fetchJob, itemsSeen, runFetch } from '../fetch/helpers.js';
import { TestProxy } from '../../helpers/world/proxy.js';

/**
 * Fetch: the plan's wheels for two targets land in python/files/ with their core metadata,
 * verified against the index's sha256 while they stream, recorded as `wheel` artifacts that
 * `verify` checks like any other; the index's host is reached only through a mirror (the
 * bundle records the original URLs); a file whose bytes differ from the index is refused, named.
 */

const INDEX = 'https://pypi.invalid/simple/';

function basePlan(python: ResolvedWheelSet[]): Plan {
  return {
    kubespray: 'v2.31.0',
    kubeVersion: '1.33.0',
    arches: ['amd64'],
    files: [],
    images: [],
    vars: {},
    python,
  };
}

describe.skipIf(lacksCondition(!fs.existsSync(kubesprayDataDir), kubesprayDataDir))(
  'fetching the deploy host’s wheels into the bundle',
  () => {
    let s: PypiServer;
    let work: string;
    let sets: ResolvedWheelSet[];
    let mirrors: Record<string, string>;
    beforeAll(async () => {
      s = await startPypi(kubesprayV231Projects());
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-wheels-'));
      mirrors = { 'https://pypi.invalid/': `${s.url}/` };
      const requirements = fs.readFileSync(
        path.join(kubesprayDataDir, 'v2.31.0', 'requirements.txt'),
        'utf8',
      );
      sets = await planPython(
        { os: 'debian-12', arch: ['x86_64', 'aarch64'], indexes: [INDEX] },
        { tag: 'v2.31.0', requirements },
        { mirrors, env: {}, cacheDir: path.join(work, 'cache') },
      );
    });
    afterAll(async () => {
      await s.close();
      fs.rmSync(work, { recursive: true, force: true });
    });

    it('downloads every wheel once, with its metadata, and verify accepts the bundle', async () => {
      const out = path.join(work, 'bundle');
      expect(sets[0].wheels[0].url.startsWith('https://pypi.invalid/files/')).toBe(true);
      const r = await runFetch(basePlan(sets), { out, mirrors });
      const union = new Set(sets.flatMap((x) => x.wheels.map((w) => w.filename)));
      // Pure wheels are shared by the two targets: 12 + 12 minus the shared ones.
      expect(union.size).toBe(16);
      expect(r.counts).toMatchObject({ total: union.size, fetched: union.size, failed: 0 });
      const m = ManifestSchema.parse(JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')));
      expect(m.version).toBe(2);
      const wheels = m.artifacts.filter((a) => a.kind === 'wheel');
      expect(wheels.map((a) => a.id).sort()).toEqual([...union].map((f) => `wheel:${f}`).sort());
      for (const a of wheels) {
        if (a.kind !== 'wheel') continue;
        const file = path.join(out, 'python', 'files', a.filename);
        const bytes = fs.readFileSync(file);
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(a.sha256);
        expect(a.url?.startsWith('https://pypi.invalid/')).toBe(true);
        expect(a.paths).toEqual([`python/files/${a.filename}`, `python/files/${a.filename}.metadata`]);
        // The sidecar is the index's PEP 658 file, which is the wheel's own METADATA.
        expect(fs.readFileSync(file + '.metadata', 'utf8')).toBe(metadataFromWheel(bytes, a.filename));
      }
      const v = await verifyBundle(out, { allowUnsigned: true });
      expect(v.ok).toBe(true);
      expect(v.artifacts.filter((a) => a.kind === 'wheel' && a.status === 'ok')).toHaveLength(union.size);
      const plan = JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8')) as Plan;
      expect(plan.python).toEqual(sets);
      // The static PEP 503 copy: one page per project of both targets, each link a held file.
      const repo = m.artifacts.find((a) => a.id === 'repo:pypi');
      const projects = [...new Set(sets.flatMap((x) => x.wheels.map((w) => w.project)))].sort();
      expect(repo?.kind === 'repo' && repo.format).toBe('pypi');
      expect(repo?.paths).toEqual([
        'python/simple/index.html',
        ...projects.map((p) => `python/simple/${p}/index.html`),
      ]);
      let linked = 0;
      for (const p of projects) {
        const page = fs.readFileSync(path.join(out, 'python', 'simple', p, 'index.html'), 'utf8');
        for (const [, f, h] of page.matchAll(/href="\.\.\/\.\.\/files\/([^"#]+)#sha256=([0-9a-f]{64})"/g)) {
          const bytes = fs.readFileSync(path.join(out, 'python', 'files', decodeURIComponent(f)));
          expect(createHash('sha256').update(bytes).digest('hex')).toBe(h);
          linked++;
        }
      }
      expect(linked).toBe(union.size);

      const before = s.requests.length;
      const again = await runFetch(basePlan(sets), { out, mirrors });
      expect(again.upToDate).toBe(true);
      expect(s.requests.length).toBe(before);

      // A damaged wheel is named by verify.
      const hurt = wheels[1].kind === 'wheel' ? wheels[1].filename : '';
      const hurtPath = path.join(out, 'python', 'files', hurt);
      const good = fs.readFileSync(hurtPath);
      const bad = Buffer.from(good);
      bad[bad.length >> 1] ^= 1;
      fs.writeFileSync(hurtPath, bad);
      const damaged = await verifyBundle(out, { allowUnsigned: true });
      expect(damaged.ok).toBe(false);
      expect(damaged.artifacts.filter((a) => a.status !== 'ok').map((a) => a.name)).toEqual([hurt]);
      fs.writeFileSync(hurtPath, good);

      // A static page deleted from a finished bundle is written again, with nothing downloaded.
      fs.rmSync(path.join(out, 'python', 'simple', 'index.html'));
      const pages = await runFetch(basePlan(sets), { out, mirrors });
      expect(pages.upToDate).toBeFalsy();
      expect(pages.counts).toMatchObject({ fetched: 0, present: union.size });
      expect(fs.existsSync(path.join(out, 'python', 'simple', 'index.html'))).toBe(true);

      // A wheel deleted from a finished bundle is fetched again, alone.
      const gone = wheels[0].kind === 'wheel' ? wheels[0].filename : '';
      fs.rmSync(path.join(out, 'python', 'files', gone));
      const repaired = await runFetch(basePlan(sets), { out, mirrors });
      expect(repaired.counts).toMatchObject({ fetched: 1, present: union.size - 1 });

      // A plan without Python drops the wheels and their files.
      const dropped = await runFetch({ ...basePlan([]), python: undefined }, { out, mirrors });
      expect(dropped.counts.removed).toBe(union.size);
      expect(fs.readdirSync(path.join(out, 'python', 'files'))).toEqual([]);
      const left = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as typeof m;
      expect(left.artifacts.some((a) => a.id === 'repo:pypi')).toBe(false);
      const simple = path.join(out, 'python', 'simple');
      const pagesLeft = fs.existsSync(simple)
        ? (fs.readdirSync(simple, { recursive: true }) as string[]).filter((f) => f.endsWith('.html'))
        : [];
      expect(pagesLeft).toEqual([]);
      expect((await verifyBundle(out, { allowUnsigned: true })).ok).toBe(true);
    });

    it('resolves and fetches through the proxy', async () => {
      const proxy = await TestProxy.start({ username: 'u', password: 'p' });
      try {
        const auth = proxy.url.replace('http://', 'http://u:p@');
        const requirements = 'netaddr==1.3.0\njmespath==1.1.0\n';
        const viaProxy = await planPython(
          { os: 'debian-12', indexes: [s.index] },
          { tag: 'v2.31.0', requirements },
          { env: {}, proxy: { http: auth }, cacheDir: path.join(work, 'proxy-cache') },
        );
        expect(viaProxy[0].wheels.map((w) => w.project)).toEqual(['jmespath', 'netaddr']);
        const r = await runFetch(basePlan(viaProxy), {
          out: path.join(work, 'proxied'),
          proxy: { http: auth },
        });
        expect(r.counts).toMatchObject({ fetched: 2, failed: 0 });
        const seen = [...proxy.forwards, ...proxy.connects].join('\n');
        expect(seen).toMatch(/\/simple\/netaddr\//);
        expect(seen).toMatch(/netaddr-1\.3\.0-py3-none-any\.whl/);
      } finally {
        await proxy.close();
      }
    });

    it('refuses a wheel whose bytes differ from the index, naming it', async () => {
      const out = path.join(work, 'tampered');
      const victim = sets[0].wheels.find((w) => w.project === 'cryptography')!;
      s.tamper.add(victim.filename);
      try {
        const job = fetchJob(basePlan(sets), { out, mirrors });
        await expect(job.done).rejects.toThrow(
          new RegExp(`${victim.filename.replace(/\./g, '\\.')} .*does not match its published checksum`),
        );
        const failed = itemsSeen(job).filter((i) => i.status === 'failed');
        expect(failed.map((i) => i.name)).toEqual([victim.filename]);
        expect(fs.existsSync(path.join(out, 'python', 'files', victim.filename))).toBe(false);
        expect(fs.existsSync(path.join(out, 'manifest.json'))).toBe(false);
      } finally {
        s.tamper.delete(victim.filename);
      }
      // The same command, once the index serves the right bytes, finishes the bundle.
      const r = await runFetch(basePlan(sets), { out, mirrors });
      expect(r.counts.failed).toBe(0);
      expect(r.counts.fetched).toBe(1);
    });
  },
);
