import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  computePlan,
  loadKubespray,
  renderDownloads,
  type KubesprayData,
} from '../../../src-main/core/plan/catalog/index.js';
import { kubesprayDataDir, repoRoot } from '../../helpers/tools.js';

/**
 * Ferry's evaluator against Ansible's own rendering. test/fixtures/catalog/render.sh ran
 * ansible-core 2.14 (the version Kubespray's reference data was made with) over each tag with the
 * configurations below and recorded every field of every `downloads` entry; here the same
 * configurations go through Ferry and every field must come out identical — enabled or not —
 * and the plan must hold exactly what Kubespray's download role would fetch from that rendering.
 */

interface Row {
  key: string;
  errors: Record<string, string>;
  [field: string]: unknown;
}
interface Rendered {
  arch: string;
  config_vars: Record<string, unknown>;
  context: Record<string, unknown>;
  downloads: Row[];
}
interface Fixture {
  tag: string;
  configs: { name: string; rendered: Rendered }[];
}

const fixtureDir = path.join(repoRoot, 'test/fixtures/catalog');
const fixtures: Fixture[] = fs
  .readdirSync(fixtureDir)
  .filter((f) => /^v.*\.json$/.test(f))
  .map((f) => JSON.parse(fs.readFileSync(path.join(fixtureDir, f), 'utf8')) as Fixture);

const cache = new Map<string, Promise<KubesprayData>>();
function data(tag: string): Promise<KubesprayData> {
  if (!cache.has(tag)) cache.set(tag, loadKubespray({ dir: path.join(kubesprayDataDir, tag) }));
  return cache.get(tag)!;
}

function configVars(r: Rendered): Record<string, unknown> {
  const vars = { ...r.config_vars };
  if (vars.kube_version === '__oldest__') vars.kube_version = r.context.kube_version;
  return vars;
}

/** What Kubespray's download role fetches from a rendered downloads dict (its `when:` conditions). */
function expectedFromAnsible(r: Rendered): {
  files: Map<string, string>;
  images: Set<string>;
  unusable: string[];
} {
  const files = new Map<string, string>();
  const unusable: string[] = [];
  const images = new Set<string>();
  const downloadContainer = r.context.download_container === true;
  for (const d of r.downloads) {
    if (d.enabled !== true) continue;
    if (d.container === true) {
      if (downloadContainer) images.add(`${d.repo}:${d.tag}`);
    } else {
      const c = (d.checksum ?? d.sha256) as string;
      // Kubespray lists '0' where a release has no build for that architecture: its get_url would fail.
      if (!/^(sha256:|sha512:)?[0-9a-f]{64,128}$/.test(c)) unusable.push(d.key);
      files.set(d.url as string, /^sha(256|512):/.test(c) ? c : `sha256:${c}`);
    }
  }
  const kv = String(r.context.kube_version).replace(/^v/, '');
  const repo = (r.context.kubeadm_image_repo ?? r.context.kube_image_repo) as string;
  if (downloadContainer && r.context.skip_kubeadm_images !== true) {
    for (const n of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'])
      images.add(`${repo}/${n}:v${kv}`);
    if (r.context.kube_proxy_deployed === true) images.add(`${repo}/kube-proxy:v${kv}`);
  }
  return { files, images, unusable };
}

describe.each(fixtures.map((f) => [f.tag, f] as const))(
  'Kubespray %s against Ansible 2.14',
  (tag, fixture) => {
    it.each(fixture.configs.map((c) => [c.name, c.rendered] as const))(
      '%s: every downloads field renders as Ansible renders it',
      async (_name, r) => {
        const d = await data(tag);
        const ours = renderDownloads(d, r.arch, { vars: configVars(r) });
        expect(ours.map((o) => o.key)).toEqual(r.downloads.map((x) => x.key));
        const mismatches: string[] = [];
        for (const [i, row] of r.downloads.entries()) {
          for (const [field, got] of Object.entries(ours[i].fields)) {
            if (field in row.errors) {
              if (!('error' in got))
                mismatches.push(
                  `${row.key}.${field}: Ansible failed (${row.errors[field]}), Ferry gave ${JSON.stringify(got)}`,
                );
            } else if ('error' in got) {
              mismatches.push(
                `${row.key}.${field}: Ferry failed (${got.error}), Ansible gave ${JSON.stringify(row[field])}`,
              );
            } else if (JSON.stringify(got.value) !== JSON.stringify(row[field])) {
              mismatches.push(
                `${row.key}.${field}: Ferry ${JSON.stringify(got.value)} != Ansible ${JSON.stringify(row[field])}`,
              );
            }
          }
          const fieldsAnsible = Object.keys(row)
            .filter((k) => k !== 'key' && k !== 'errors')
            .sort();
          expect(Object.keys(ours[i].fields).sort(), row.key).toEqual(fieldsAnsible);
        }
        expect(mismatches).toEqual([]);
      },
    );

    it.each(fixture.configs.map((c) => [c.name, c.rendered] as const))(
      '%s: the plan holds exactly what the download role fetches',
      async (_name, r) => {
        const d = await data(tag);
        const exp = expectedFromAnsible(r);
        if (exp.unusable.length) {
          // Ferry refuses up front, naming the download, instead of a bundle Kubespray cannot use.
          expect(() => computePlan(d, { arches: [r.arch], vars: configVars(r) })).toThrow(
            new RegExp(`no usable checksum for (${exp.unusable.join('|')}) on ${r.arch}`),
          );
          return;
        }
        const plan = computePlan(d, { arches: [r.arch], vars: configVars(r) });
        expect(new Map(plan.files.map((f) => [f.url, f.checksum]))).toEqual(exp.files);
        // Beyond the download role: cilium's chart (v2.29+) pulls the operator as
        // '<operator repo>-generic:<tag>', which Kubespray's downloads do not list.
        const extra = plan.images.filter((i) => i.key === 'cilium_operator_generic');
        const operator = plan.images.find((i) => i.key === 'cilium_operator');
        expect(extra.map((i) => i.ref)).toEqual(
          plan.charts?.length && operator ? [`${operator.repo}-generic:${operator.tag}`] : [],
        );
        expect(new Set(plan.images.filter((i) => !extra.includes(i)).map((i) => i.ref))).toEqual(exp.images);
        expect(plan.files.every((f) => f.enabled && f.arch === r.arch)).toBe(true);
        expect(plan.images.every((i) => i.enabled && i.platforms.join() === `linux/${r.arch}`)).toBe(true);
      },
    );
  },
);

describe('fixture coverage', () => {
  it('has an Ansible rendering for every tag in the shared reference data (run render.sh after adding one)', () => {
    const tags = fs.readdirSync(kubesprayDataDir).filter((t) => /^v\d/.test(t));
    expect(fixtures.map((f) => f.tag).sort()).toEqual(tags.sort());
    for (const f of fixtures) expect(f.configs.length).toBeGreaterThanOrEqual(20);
  });
});

describe('several architectures in one plan', () => {
  it.each(fixtures.map((f) => [f.tag, f] as const))(
    '%s: amd64+arm64 is the union of both, images once with both platforms',
    async (tag, fixture) => {
      const d = await data(tag);
      const amd = fixture.configs.find((c) => c.name === 'defaults')!.rendered;
      const arm = fixture.configs.find((c) => c.name === 'defaults-arm64')!.rendered;
      const ea = expectedFromAnsible(amd);
      const eb = expectedFromAnsible(arm);
      const plan = computePlan(d, { arches: ['amd64', 'arm64'] });
      expect(new Map(plan.files.map((f) => [f.url, f.checksum]))).toEqual(
        new Map([...ea.files, ...eb.files]),
      );
      for (const f of plan.files) {
        const want = [ea.files.has(f.url) ? 'amd64' : null, eb.files.has(f.url) ? 'arm64' : null].filter(
          Boolean,
        );
        expect(f.arches, f.url).toEqual(want);
      }
      const refs = new Set([...ea.images, ...eb.images]);
      expect(new Set(plan.images.map((i) => i.ref))).toEqual(refs);
      expect(plan.images.length).toBe(refs.size);
      for (const img of plan.images) {
        const want = [
          ea.images.has(img.ref) ? 'linux/amd64' : null,
          eb.images.has(img.ref) ? 'linux/arm64' : null,
        ].filter(Boolean);
        expect(img.platforms, img.ref).toEqual(want);
      }
      // Arch-specific binaries differ per architecture; the arm64 kubelet is there with its own checksum.
      expect(plan.files.some((f) => f.key === 'kubelet' && f.url.includes('/arm64/'))).toBe(true);
    },
  );
});
