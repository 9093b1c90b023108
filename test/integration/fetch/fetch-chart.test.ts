import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import { openBundle } from '../../../src-main/core/bundle/index.js';
import { verifyBundle } from '../../../src-main/core/bundle/verify/index.js';
import { parsePlan, type Plan } from '../../../src-main/core/plan/plan.js';
import { ciliumChart, evaluateTemplate, loadKubespray } from '../../../src-main/core/plan/catalog/index.js';
import { bundleVars } from '../../../src-main/core/serve/vars/index.js';
import { kubesprayDataDir } from '../../helpers/tools.js';
import { OfflineServer } from '../../../src-main/core/serve/server.js';
import { openVerifiedBundle } from '../../../src-main/core/serve/verified-source.js';
import { FileHost, makePlan } from '../../helpers/world/index.js';
import { fetchJob, runFetch } from './helpers.js';

/**
 * cilium's chart end to end: a loopback host plays helm.cilium.io (a real chart archive made
 * with tar, an index.yaml shaped like upstream's with absolute URLs and several versions),
 * `--mirror https://helm.cilium.io/=<host>` sends Ferry there, and the served bundle must give
 * what Helm (and the cilium CLI, which uses Helm's library) fetches with
 * `--repository {{ files_repo }}/helm.cilium.io/`: index.yaml, the entry of the version, its
 * URL resolved against the repository URL, bytes whose sha256 is the entry's digest, and a chart
 * whose Chart.yaml names that version.
 */

const VERSION = '1.19.3';
const REPO = 'https://helm.cilium.io/';

function buildChart(dir: string, version: string): Buffer {
  const root = path.join(dir, `chart-${version}`);
  fs.mkdirSync(path.join(root, 'cilium', 'templates'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'cilium', 'Chart.yaml'),
    `apiVersion: v2\nname: cilium\nversion: ${version}\nappVersion: ${version}\ndescription: test chart\n`,
  );
  fs.writeFileSync(path.join(root, 'cilium', 'values.yaml'), 'image:\n  useDigest: true\n');
  fs.writeFileSync(
    path.join(root, 'cilium', 'templates', 'cm.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cilium\n',
  );
  const out = path.join(dir, `cilium-${version}.tgz`);
  execFileSync('tar', ['-czf', out, '-C', root, 'cilium']);
  return fs.readFileSync(out);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function upstreamIndex(entries: Array<{ version: string; digest: string }>): string {
  return [
    'apiVersion: v1',
    'entries:',
    '  cilium:',
    ...entries.flatMap((e) => [
      '  - apiVersion: v2',
      `    appVersion: ${e.version}`,
      '    created: "2026-04-20T10:00:00.5Z"',
      '    description: eBPF-based Networking, Security, and Observability',
      `    digest: ${e.digest}`,
      '    name: cilium',
      '    urls:',
      `    - ${REPO}cilium-${e.version}.tgz`,
      `    version: ${e.version}`,
    ]),
    'generated: "2026-04-20T10:00:00Z"',
    '',
  ].join('\n');
}

describe("fetching cilium's Helm chart and serving it as a Helm repository", () => {
  let tmp: string;
  let host: FileHost;
  let chart: Buffer;
  let n = 0;
  const out = () => path.join(tmp, `b${n++}`);

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-fetch-chart-'));
    chart = buildChart(tmp, VERSION);
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  afterEach(async () => host?.close());

  // Through plan.json's schema, as `ferry fetch` reads it.
  function plan(): Plan {
    return parsePlan({ ...makePlan({ kubespray: 'v2.31.0' }), charts: [ciliumChart(VERSION)] });
  }

  it('carries chart and a one-entry index, hashed in the manifest; the served pair is what Helm fetches', async () => {
    host = await FileHost.start();
    const other = buildChart(tmp, '1.18.4');
    host.add(
      '/index.yaml',
      Buffer.from(
        upstreamIndex([
          { version: VERSION, digest: sha256(chart) },
          { version: '1.18.4', digest: sha256(other) },
        ]),
      ),
      // Through the same download layer as every file: a 503 is retried.
      [{ kind: 'status', status: 503, times: 1 }],
    );
    host.add(`/cilium-${VERSION}.tgz`, chart);
    const dir = out();
    const mirrors = { [REPO]: host.origin + '/' };
    const job = fetchJob(plan(), { out: dir, mirrors });
    const r = await job.done;
    expect(r.counts).toMatchObject({ total: 1, fetched: 1, failed: 0 });
    expect(host.count('/index.yaml')).toBe(2);

    const { manifest } = await openBundle(dir);
    const c = manifest.artifacts.find((a) => a.id === `file:${REPO}cilium-${VERSION}.tgz`);
    expect(c).toEqual({
      id: `file:${REPO}cilium-${VERSION}.tgz`,
      kind: 'file',
      key: 'cilium_chart',
      url: `${REPO}cilium-${VERSION}.tgz`,
      checksum: `sha256:${sha256(chart)}`,
      paths: [`files/helm.cilium.io/cilium-${VERSION}.tgz`],
    });
    expect(manifest.artifacts.find((a) => a.id === `file:${REPO}index.yaml`)).toMatchObject({
      kind: 'file',
      key: 'cilium_chart_index',
      paths: ['files/helm.cilium.io/index.yaml'],
    });
    const files = new Map(manifest.files.map((f) => [f.path, f]));
    const indexBytes = fs.readFileSync(path.join(dir, 'files/helm.cilium.io/index.yaml'));
    expect(files.get('files/helm.cilium.io/index.yaml')?.sha256).toBe(sha256(indexBytes));
    expect(files.get(`files/helm.cilium.io/cilium-${VERSION}.tgz`)?.sha256).toBe(sha256(chart));
    expect((await verifyBundle(dir, { allowUnsigned: true })).ok).toBe(true);
    // Upstream's index (every version ever released) is not kept, nor any partial.
    expect(fs.readdirSync(path.join(dir, 'files/helm.cilium.io')).sort()).toEqual([
      `cilium-${VERSION}.tgz`,
      'index.yaml',
    ]);
    expect(fs.existsSync(path.join(dir, '.ferry-partial'))).toBe(false);

    const v = await openVerifiedBundle(dir, { allowUnsigned: true, trusted: [] });
    const server = await OfflineServer.start({
      sources: [v.source],
      listen: '127.0.0.1',
      filesPort: 0,
      registryPort: 0,
      advertise: '127.0.0.1',
    });
    try {
      // The repository is where `ferry vars`' cilium_install_extra_flags sends `cilium install`.
      const data = await loadKubespray({ dir: path.join(kubesprayDataDir, 'v2.31.0') });
      const { generated } = await bundleVars({
        source: v.source,
        data,
        filesUrl: server.filesUrl,
        registry: server.registryHost,
        registryTls: false,
        style: 'kubespray',
        madeBy: 'test',
      });
      expect(generated.variables.cilium_install_extra_flags).toBe(
        '--repository {{ files_repo }}/helm.cilium.io/',
      );
      const flags = String(evaluateTemplate(data, generated.variables, '{{ cilium_install_extra_flags }}'));
      const repoUrl = /--repository (\S+)/.exec(flags)![1];
      expect(repoUrl).toBe(`${server.filesUrl}/helm.cilium.io/`);
      const idx = await fetch(new URL('index.yaml', repoUrl));
      expect(idx.status).toBe(200);
      const doc = parseYaml(await idx.text()) as {
        apiVersion: string;
        entries: Record<
          string,
          Array<{ version: string; digest: string; urls: string[]; apiVersion: string }>
        >;
      };
      expect(doc.apiVersion).toBe('v1');
      expect(doc.entries.cilium.map((e) => e.version)).toEqual([VERSION]);
      const entry = doc.entries.cilium[0];
      expect(entry.apiVersion).toBe('v2');
      expect(entry.urls).toEqual([`cilium-${VERSION}.tgz`]);
      // Helm resolves a relative entry URL against the repository URL.
      const tgz = await fetch(new URL(entry.urls[0], repoUrl));
      expect(tgz.status).toBe(200);
      const body = Buffer.from(await tgz.arrayBuffer());
      expect(sha256(body)).toBe(entry.digest);
      expect(body.equals(chart)).toBe(true);
      const got = path.join(tmp, 'served.tgz');
      fs.writeFileSync(got, body);
      const chartYaml = parseYaml(
        execFileSync('tar', ['-xzOf', got, 'cilium/Chart.yaml'], { encoding: 'utf8' }),
      ) as { name: string; version: string };
      expect(chartYaml).toMatchObject({ name: 'cilium', version: VERSION });
    } finally {
      await server.stop();
    }

    // A second fetch finds the bundle up to date and downloads nothing.
    const before = host.count();
    const again = await runFetch(plan(), { out: dir, mirrors });
    expect(again.upToDate).toBe(true);
    expect(host.count()).toBe(before);
  });

  it('refuses a chart whose bytes do not match the digest upstream gives: names the chart and the fix, writes nothing', async () => {
    host = await FileHost.start();
    host.add('/index.yaml', Buffer.from(upstreamIndex([{ version: VERSION, digest: 'c'.repeat(64) }])));
    host.add(`/cilium-${VERSION}.tgz`, chart);
    const dir = out();
    const job = fetchJob(plan(), { out: dir, mirrors: { [REPO]: host.origin + '/' } });
    const err = (await job.done.catch((e) => e)) as FerryError;
    expect(err).toBeInstanceOf(FerryError);
    expect(err.code).toBe('CHECKSUM');
    const failure = (err.details!.failures as Array<{ error: { message: string; hint: string } }>)[0];
    expect(failure.error.message).toContain(`${REPO}cilium-${VERSION}.tgz`);
    expect(failure.error.message).toContain(`sha256:${'c'.repeat(64)}`);
    expect(failure.error.hint).toMatch(
      new RegExp(
        `cilium chart ${VERSION} does not match the digest ${REPO}index.yaml gives.*--mirror.*run the fetch again`,
      ),
    );
    // Neither the chart nor Ferry's index is anywhere in the bundle, not even as a partial.
    expect(fs.existsSync(path.join(dir, 'manifest.json'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'files/helm.cilium.io'))).toBe(false);
    const resume = path.join(dir, '.ferry-partial/resume');
    expect(fs.existsSync(resume) ? fs.readdirSync(resume) : []).toEqual([]);
  });

  it('says which versions the repository has when it lacks cilium_version', async () => {
    host = await FileHost.start();
    host.add('/index.yaml', Buffer.from(upstreamIndex([{ version: '1.18.4', digest: sha256(chart) }])));
    const dir = out();
    const err = (await fetchJob(plan(), { out: dir, mirrors: { [REPO]: host.origin + '/' } }).done.catch(
      (e) => e,
    )) as FerryError;
    expect(err).toBeInstanceOf(FerryError);
    const failure = (
      err.details!.failures as Array<{ error: { code: string; message: string; hint: string } }>
    )[0];
    expect(failure.error.code).toBe('NOT_FOUND');
    expect(failure.error.message).toBe(`${REPO}index.yaml lists no cilium chart ${VERSION}.`);
    expect(failure.error.hint).toMatch(/cilium_version.*1\.18\.4/);
    expect(host.count(`/cilium-${VERSION}.tgz`)).toBe(0);
  });
});
