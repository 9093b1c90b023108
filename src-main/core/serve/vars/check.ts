import { computePlan, evaluateTemplate, type KubesprayData } from '../../plan/catalog/index.js';

/**
 * The strongest check of generated variables: Kubespray's own download templates are rendered
 * with them (the catalog evaluator, same precedence as `-e`), and every file URL and image the
 * resulting plan needs must point at Ferry and be served there. `probeFile` and `probeImage`
 * ask the running servers (HTTP HEAD on files, manifest lookup on images).
 */

export interface VarsProblem {
  kind: 'file' | 'image' | 'containerd' | 'chart';
  key: string;
  /** The URL or reference Kubespray would use with these variables. */
  target: string;
  /** containerd-https: no hosts.toml sends this registry to http://, so a node speaks HTTPS to it. */
  problem: 'not-ferry' | 'not-served' | 'containerd-https';
}

export interface VarsCheck {
  ok: boolean;
  files: number;
  images: number;
  /** Helm charts (index.yaml and archive) the roles' own installers fetch, e.g. `cilium install`. */
  charts: number;
  problems: VarsProblem[];
}

export interface CheckInput {
  data: KubesprayData;
  arches: string[];
  /** The variables the bundle was planned with (plan.json vars), below the generated ones. */
  planVars?: Record<string, unknown> | undefined;
  generated: Record<string, unknown>;
  /** Prefix every file URL must have: files_repo. */
  filesPrefix: string;
  /** Decides whether an image reference (as Kubespray renders it) goes to Ferry. */
  imageGoesToFerry: (ref: string) => boolean;
  probeFile: (url: string) => Promise<boolean>;
  probeImage: (ref: string) => Promise<boolean>;
  /** Planned refs that the bundle deliberately left out (not fetched); default none. */
  concurrency?: number;
}

export async function checkVars(input: CheckInput): Promise<VarsCheck> {
  const plan = computePlan(input.data, {
    arches: input.arches,
    vars: { ...(input.planVars ?? {}), ...input.generated },
  });
  const problems: VarsProblem[] = [];
  const jobs: Array<() => Promise<void>> = [];
  const files = plan.files.filter((f) => f.enabled);
  const images = plan.images.filter((i) => i.enabled);
  const prefix = input.filesPrefix.replace(/\/+$/, '') + '/';
  for (const f of files) {
    if (!f.url.startsWith(prefix)) {
      problems.push({ kind: 'file', key: f.key, target: f.url, problem: 'not-ferry' });
      continue;
    }
    jobs.push(async () => {
      if (!(await input.probeFile(f.url)))
        problems.push({ kind: 'file', key: f.key, target: f.url, problem: 'not-served' });
    });
  }
  for (const i of images) {
    if (!input.imageGoesToFerry(i.ref)) {
      problems.push({ kind: 'image', key: i.key, target: i.ref, problem: 'not-ferry' });
      continue;
    }
    jobs.push(async () => {
      if (!(await input.probeImage(i.ref)))
        problems.push({ kind: 'image', key: i.key, target: i.ref, problem: 'not-served' });
    });
  }
  // `cilium install {{ cilium_install_extra_flags }}` reads <repository>/index.yaml, then the
  // archive the entry names (Ferry's index: relative, beside it).
  const vars = { ...(input.planVars ?? {}), ...input.generated };
  const charts = plan.charts ?? [];
  for (const c of charts) {
    const flags = vars.cilium_install_extra_flags;
    const rendered = typeof flags === 'string' ? String(evaluateTemplate(input.data, vars, flags)) : '';
    const repo = /(?:^|\s)--repository(?:=|\s+)(\S+)/.exec(rendered)?.[1];
    if (!repo || !repo.startsWith(prefix)) {
      problems.push({ kind: 'chart', key: c.key, target: repo ?? c.repo, problem: 'not-ferry' });
      continue;
    }
    const base = repo.endsWith('/') ? repo : repo + '/';
    for (const url of [base + 'index.yaml', base + c.url.slice(c.url.lastIndexOf('/') + 1)]) {
      jobs.push(async () => {
        if (!(await input.probeFile(url)))
          problems.push({ kind: 'chart', key: c.key, target: url, problem: 'not-served' });
      });
    }
  }
  const width = input.concurrency ?? 8;
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) await jobs[next++]();
    }),
  );
  problems.sort((a, b) => a.target.localeCompare(b.target));
  return {
    ok: problems.length === 0,
    files: files.length,
    images: images.length,
    charts: charts.length,
    problems,
  };
}
