import {
  computePlan,
  planFromRequest,
  parseArches,
  type ComputedPlan,
} from '../../core/plan/catalog/index.js';
import { EXIT } from '../../core/base/errors/index.js';
import { loadProfile } from '../../core/plan/profile/index.js';
import { kubesprayTarballFetcher } from '../kubespray-tarball.js';
import type { Command, CommandContext } from '../command.js';
import { printJson, println, str, strs } from '../output.js';

/** Groups download keys into the components a user recognises (calico_node → calico). */
function component(key: string): string {
  if (key.startsWith('kubeadm_')) return 'kubeadm images';
  if (key.startsWith('extra_')) return 'extras (profile)';
  const prefixes = [
    'calico',
    'cilium',
    'flannel',
    'cert_manager',
    'csi',
    'metallb',
    'gvisor',
    'kube_ovn',
    'local_',
  ];
  const p = prefixes.find((x) => key.startsWith(x));
  return p ? p.replace(/_$/, '') : key;
}

function summary(plan: ComputedPlan, full: ComputedPlan | undefined): string[] {
  const out: string[] = [];
  const files = plan.files.filter((f) => f.enabled);
  const images = plan.images.filter((i) => i.enabled);
  out.push(`Kubespray ${plan.kubespray} · Kubernetes ${plan.kubeVersion} · ${plan.arches.join(', ')}`);
  out.push(
    `${files.length} files, ${images.length} images${plan.kubesprayTarball ? ', plus the Kubespray tarball' : ''}`,
  );
  out.push('');
  const groups = new Map<string, { files: string[]; images: string[] }>();
  for (const f of files) {
    const g = groups.get(component(f.key)) ?? { files: [], images: [] };
    g.files.push(`${f.url.slice(f.url.lastIndexOf('/') + 1)} (${f.arches.join(', ')})`);
    groups.set(component(f.key), g);
  }
  for (const i of images) {
    const g = groups.get(component(i.key)) ?? { files: [], images: [] };
    g.images.push(
      i.ref +
        (plan.arches.length > 1 || i.platforms.length !== plan.arches.length
          ? ` [${i.platforms.join(', ')}]`
          : ''),
    );
    groups.set(component(i.key), g);
  }
  const w = Math.max(10, ...[...groups.keys()].map((k) => k.length));
  for (const [name, g] of groups) {
    const parts = [...g.files.map((f) => `file ${f}`), ...g.images.map((i) => `image ${i}`)];
    out.push(`  ${name.padEnd(w)}  ${parts[0]}`);
    for (const p of parts.slice(1)) out.push(`  ${''.padEnd(w)}  ${p}`);
  }
  for (const c of plan.charts ?? [])
    out.push(`  ${'chart'.padEnd(w)}  ${c.url} (served with an index.yaml Ferry writes)`);
  if (full) {
    const total = full.files.length + full.images.length;
    const mine = files.length + images.length;
    const pct = total ? Math.round((100 * (total - mine)) / total) : 0;
    out.push('');
    out.push(
      `The full list (--all, what generate_list.sh gives) has ${full.files.length} files and ${full.images.length} images: ` +
        `this plan carries ${mine} of ${total} artifacts (${pct}% fewer).`,
    );
  }
  return out;
}

export const plan: Command = {
  name: 'plan',
  summary: 'Compute exactly what Kubespray downloads for your cluster (files, checksums, images)',
  usage: '[--kubespray TAG|DIR|TARBALL] [--profile FILE]',
  description:
    "Evaluates Kubespray's own download data for the chosen tag, Kubernetes version, architectures and\n" +
    'inventory variables. Variable precedence: --kube-version > --set > profile vars > inventory > Kubespray.\n' +
    '--all lists every URL and image any download entry defines, enabled or not (like generate_list.sh).\n' +
    'A value Kubespray would refuse for kube_network_plugin, container_manager or kube_proxy_mode exits 2\n' +
    '(INVALID_CHOICE); a variable the tag defines nowhere is a warning (stderr; `warnings` with --json).',
  options: {
    kubespray: {
      type: 'string',
      valueName: 'TAG|DIR|TARBALL',
      description: 'Kubespray tag, source folder or release tarball (default: the profile’s).',
    },
    profile: { type: 'string', valueName: 'FILE', description: 'Profile file (ferry.yaml).' },
    inventory: {
      type: 'string',
      valueName: 'DIR',
      description: 'Kubespray inventory folder (group_vars/all, group_vars/k8s_cluster).',
    },
    set: {
      type: 'string',
      multiple: true,
      valueName: 'KEY=VALUE',
      description: 'Set an inventory variable (value parsed as YAML).',
    },
    'kube-version': {
      type: 'string',
      valueName: 'X.Y.Z',
      description: 'Kubernetes version (shorthand for --set kube_version=X.Y.Z).',
    },
    arch: {
      type: 'string',
      multiple: true,
      valueName: 'ARCHES',
      description: 'Target architectures: amd64, arm64 or amd64,arm64 (default amd64).',
    },
    all: { type: 'boolean', description: 'List every download any entry defines, enabled or not.' },
  },
  async run(ctx: CommandContext): Promise<number> {
    const v = ctx.values;
    const profileFile = str(v.profile);
    const profile = profileFile ? await loadProfile(profileFile) : undefined;
    const req = {
      kubespray: str(v.kubespray),
      profile,
      inventory: str(v.inventory),
      sets: strs(v.set),
      kubeVersion: str(v['kube-version']),
      arches: parseArches(strs(v.arch)),
      all: v.all === true,
    };
    // A tag's release tarball is downloaded (and cached) through the profile's proxy and mirrors.
    const tarballs = kubesprayTarballFetcher(ctx, {
      mirrors: profile?.mirrors,
      proxy: {
        ...(profile?.proxy?.http ? { http: profile.proxy.http } : {}),
        ...(profile?.proxy?.https ? { https: profile.proxy.https } : {}),
        ...(profile?.proxy?.noProxy ? { noProxy: profile.proxy.noProxy.join(',') } : {}),
      },
    });
    const {
      plan: result,
      data,
      options,
      warnings,
    } = await planFromRequest(req, {
      signal: ctx.signal,
      env: ctx.env,
      fetchTarball: tarballs.fetchTarball,
    }).finally(() => tarballs.close());
    if (ctx.json) {
      // `warnings` rides along at the top; `ferry fetch --plan` ignores it (the plan schema passes
      // unknown keys through, and fetch drops it before writing plan.json).
      printJson(ctx, { ...result, warnings });
      return EXIT.OK;
    }
    // On stderr, so the plan on stdout stays the same with or without them.
    for (const w of warnings) ctx.stderr.write(`warning: ${w.message}\n`);
    if (req.all) {
      for (const f of result.files)
        println(ctx, `${f.enabled ? '*' : ' '} file  ${f.key}  ${f.url}  ${f.checksum}`);
      for (const i of result.images)
        println(ctx, `${i.enabled ? '*' : ' '} image ${i.key}  ${i.ref}  ${i.platforms.join(',')}`);
      println(ctx, '');
      println(ctx, `${result.files.length} files, ${result.images.length} images (* = used by this cluster)`);
      return EXIT.OK;
    }
    const full = computePlan(data, { ...options, all: true });
    for (const line of summary(result, full)) println(ctx, line);
    for (const w of result.warnings ?? []) ctx.stderr.write(`warning: ${w}\n`);
    return EXIT.OK;
  },
};
