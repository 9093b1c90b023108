/**
 * The dependency closure apt would install on a bare node, computed from verified Packages
 * records. It follows apt's own marking (apt-pkg/depcache.cc, MarkInstall): depth first, an
 * OR-group already satisfied by something marked is skipped, otherwise the alternatives are tried
 * in order and, within one, the real package before providers, then Essential, then Priority;
 * a candidate whose own critical dependencies fail is discarded and the next one is tried.
 */
import type { Alternatives, DebPackage, Relation } from './packages.js';
import { compareVersions, satisfiesVersion } from './version.js';

export interface ResolveOptions {
  /** The node's dpkg architecture (amd64, arm64). */
  arch: string;
  /** Other architectures dpkg is configured for on the node (usually none). */
  foreignArchs?: string[];
  /** apt's APT::Install-Recommends, true by default on Debian and Ubuntu. */
  recommends?: boolean;
  /**
   * Also install every Essential: yes and Priority: required package, with its closure. A bare
   * root lacks them, and a node that is behind on updates may need newer ones (libc6, libssl3)
   * than it has; apt itself assumes them present and only pulls those something depends on.
   */
  baseline?: boolean;
}

export interface ResolveError {
  code: 'NOT_FOUND' | 'UNSATISFIABLE';
  /** The package whose relation failed (or the root name that does not exist). */
  package: string;
  /** The relation as written, e.g. "libfoo (>= 2) | libbar". */
  relation?: string;
  /** Root first, down to `package`. */
  chain: string[];
  message: string;
}

export interface ResolveChoice {
  package: string;
  relation: string;
  chosen: string;
  /** Other candidates that would also have satisfied it (several providers). */
  others: string[];
}

export interface Resolution {
  packages: DebPackage[];
  /** Why each package is there: root, baseline, or "<depender> <field>". */
  reasons: Map<string, string>;
  choices: ResolveChoice[];
  errors: ResolveError[];
}

const PRIORITY: Record<string, number> = { required: 1, important: 2, standard: 3, optional: 4, extra: 5 };

export const formatRelation = (r: Relation): string =>
  `${r.name}${r.arch ? `:${r.arch}` : ''}${r.op ? ` (${r.op} ${r.version})` : ''}`;
const formatGroup = (g: Alternatives): string => g.map(formatRelation).join(' | ');

/** Candidate versions: per (name, arch) the highest version, as apt with default pins picks. */
export class Universe {
  readonly native: string;
  private readonly archs: Set<string>;
  /** name → candidates, one per architecture (arch: all counts as native). */
  readonly byName = new Map<string, DebPackage[]>();
  /** virtual name → candidates providing it. */
  readonly providers = new Map<string, { pkg: DebPackage; rel: Relation }[]>();
  /** First appearance, apt's last tie-breaker (its package IDs follow parse order). */
  private readonly order = new Map<DebPackage, number>();

  constructor(records: Iterable<DebPackage>, arch: string, foreignArchs: string[] = []) {
    this.native = arch;
    this.archs = new Set([arch, ...foreignArchs]);
    const best = new Map<string, DebPackage>();
    let i = 0;
    for (const p of records) {
      if (p.architecture !== 'all' && !this.archs.has(p.architecture)) continue;
      const key = `${p.package}:${this.archOf(p)}`;
      const cur = best.get(key);
      if (!cur || compareVersions(p.version, cur.version) > 0) best.set(key, p);
      if (!cur) this.order.set(p, i++);
      else this.order.set(p, this.order.get(cur) ?? i++);
    }
    for (const p of best.values()) {
      const list = this.byName.get(p.package) ?? [];
      list.push(p);
      this.byName.set(p.package, list);
      for (const rel of p.provides) {
        const l = this.providers.get(rel.name) ?? [];
        l.push({ pkg: p, rel });
        this.providers.set(rel.name, l);
      }
    }
  }

  archOf(p: DebPackage): string {
    return p.architecture === 'all' ? this.native : p.architecture;
  }

  rank(p: DebPackage): number {
    return this.order.get(p) ?? 0;
  }

  /**
   * dpkg's deparchsatisfied: an unqualified relation is met by the depender's architecture or by
   * a Multi-Arch: foreign package; `:any` only by Multi-Arch: allowed; `:native`/`:arch` by that
   * architecture. Multi-Arch: same gives no extra reach, so it is the plain same-arch rule.
   */
  archMatches(p: DebPackage, rel: Relation, dependerArch: string): boolean {
    const a = this.archOf(p);
    if (rel.arch === undefined) return p.multiArch === 'foreign' || a === dependerArch;
    if (rel.arch === 'any') return p.multiArch === 'allowed';
    return a === (rel.arch === 'native' ? this.native : rel.arch);
  }

  /** Candidates meeting one relation: the real package first, then providers (apt's order). */
  solutions(rel: Relation, dependerArch: string): DebPackage[] {
    const real = (this.byName.get(rel.name) ?? []).filter(
      (p) =>
        this.archMatches(p, rel, dependerArch) &&
        (!rel.op || satisfiesVersion(p.version, rel.op, rel.version!)),
    );
    const provided = (this.providers.get(rel.name) ?? [])
      .filter(
        ({ pkg, rel: pr }) =>
          this.archMatches(pkg, rel, dependerArch) &&
          // A versioned relation is met only by a versioned Provides (Policy §7.5).
          (!rel.op || (pr.version !== undefined && satisfiesVersion(pr.version, rel.op, rel.version!))),
      )
      .map((x) => x.pkg)
      .filter((p) => !real.includes(p));
    const byApt = (a: DebPackage, b: DebPackage): number =>
      Number(b.essential) - Number(a.essential) ||
      Number(this.archOf(b) === this.native) - Number(this.archOf(a) === this.native) ||
      (PRIORITY[a.priority ?? ''] ?? 9) - (PRIORITY[b.priority ?? ''] ?? 9) ||
      this.rank(b) - this.rank(a);
    return [...real.sort(byApt), ...provided.sort(byApt)];
  }
}

interface Ctx {
  u: Universe;
  recommends: boolean;
  marked: Map<string, DebPackage>; // key name:arch
  /** Provided names of marked packages, for the "already satisfied" check. */
  reasons: Map<string, string>;
  choices: ResolveChoice[];
  /** The deepest failure seen while trying, reported if the root fails; reset per root. */
  lastFailure?: { pkg: string; relation: string; chain: string[] } | undefined;
}

const keyOf = (u: Universe, p: DebPackage): string => `${p.package}:${u.archOf(p)}`;

function satisfiedByMarked(ctx: Ctx, group: Alternatives, dependerArch: string): boolean {
  return group.some((rel) =>
    ctx.u.solutions(rel, dependerArch).some((p) => ctx.marked.get(keyOf(ctx.u, p)) === p),
  );
}

/** Conflicts/Breaks between `p` and what is marked, either way (apt refuses such a candidate). */
function conflictsWithMarked(ctx: Ctx, p: DebPackage): boolean {
  const hits = (by: DebPackage, rels: Relation[], target: DebPackage): boolean =>
    rels.some(
      (r) =>
        target !== by &&
        (r.name === target.package
          ? !r.op || satisfiesVersion(target.version, r.op, r.version!)
          : !r.op && target.provides.some((pr) => pr.name === r.name)),
    );
  for (const m of ctx.marked.values()) {
    if (m.package === p.package) continue;
    if (hits(p, [...p.conflicts, ...p.breaks], m) || hits(m, [...m.conflicts, ...m.breaks], p)) return true;
  }
  return false;
}

/** Marks `p` alone; false when it conflicts with what is already marked. */
function mark(ctx: Ctx, p: DebPackage, reason: string, chain: string[]): boolean {
  const k = keyOf(ctx.u, p);
  if (ctx.marked.has(k)) return ctx.marked.get(k) === p;
  if (conflictsWithMarked(ctx, p)) {
    ctx.lastFailure = { pkg: p.package, relation: 'Conflicts/Breaks with a package already chosen', chain };
    return false;
  }
  ctx.marked.set(k, p);
  ctx.reasons.set(k, reason);
  return true;
}

/** MarkInstall: returns false when a critical dependency cannot be met (the package is unmarked). */
function markInstall(ctx: Ctx, p: DebPackage, reason: string, chain: string[]): boolean {
  const k = keyOf(ctx.u, p);
  if (ctx.marked.has(k)) return ctx.marked.get(k) === p;
  if (!mark(ctx, p, reason, chain)) return false;
  return installDependencies(ctx, p, chain);
}

function installDependencies(ctx: Ctx, p: DebPackage, chain: string[]): boolean {
  const k = keyOf(ctx.u, p);
  const arch = ctx.u.archOf(p);
  const groups: [Alternatives, string, boolean][] = [
    ...p.preDepends.map((g): [Alternatives, string, boolean] => [g, 'Pre-Depends', true]),
    ...p.depends.map((g): [Alternatives, string, boolean] => [g, 'Depends', true]),
    ...(ctx.recommends
      ? p.recommends.map((g): [Alternatives, string, boolean] => [g, 'Recommends', false])
      : []),
  ];
  // apt collects the groups not yet satisfied before installing any, then re-checks each.
  const todo = groups.filter(([g]) => !satisfiedByMarked(ctx, g, arch));
  const here = [...chain, p.package];
  for (const [g, field, critical] of todo) {
    if (satisfiedByMarked(ctx, g, arch)) continue;
    const options = g.flatMap((rel) => ctx.u.solutions(rel, arch));
    let done = false;
    for (const cand of options) {
      if (markInstall(ctx, cand, `${p.package} ${field}`, here)) {
        done = true;
        const others = [...new Set(options.filter((o) => o !== cand).map((o) => o.package))];
        if (others.length && g.length === 1 && cand.package !== g[0].name) {
          ctx.choices.push({ package: p.package, relation: formatGroup(g), chosen: cand.package, others });
        }
        break;
      }
    }
    if (!done && critical) {
      if (!options.length) ctx.lastFailure = { pkg: p.package, relation: formatGroup(g), chain: here };
      // apt discards the package itself; what its other dependencies marked stays marked.
      ctx.marked.delete(k);
      ctx.reasons.delete(k);
      return false;
    }
  }
  return true;
}

/** The closure for `roots` on one architecture, from the records of all the node's suites. */
export function resolve(
  records: Iterable<DebPackage> | Universe,
  roots: string[],
  opts: ResolveOptions,
): Resolution {
  const u = records instanceof Universe ? records : new Universe(records, opts.arch, opts.foreignArchs);
  const ctx: Ctx = {
    u,
    recommends: opts.recommends ?? true,
    marked: new Map(),
    reasons: new Map(),
    choices: [],
  };
  const errors: ResolveError[] = [];
  const wanted: [string, string][] = roots.map((r) => [r, 'root']);
  if (opts.baseline ?? true) {
    for (const [name, list] of u.byName) {
      if (list.some((p) => p.essential || p.priority === 'required')) wanted.push([name, 'baseline']);
    }
  }
  const seen = new Set<string>();
  // apt-get install marks every named package first and only then resolves their dependencies,
  // so a dependency one of them already satisfies (lsb-base, provided by the Essential
  // sysvinit-utils) is not installed a second way.
  const named: [string, DebPackage][] = [];
  for (const [name, why] of wanted) {
    if (seen.has(name)) continue;
    seen.add(name);
    // The native package if there is one, else the only other architecture's (apt says
    // "selecting 'c:arm64' instead of 'c'").
    const real = u.byName.get(name) ?? [];
    const cand = real.find((p) => u.archOf(p) === u.native) ?? (real.length === 1 ? real[0] : undefined);
    if (!cand) {
      const virt = u.solutions({ name }, u.native);
      if (virt.length === 1) {
        if (mark(ctx, virt[0], why, [])) named.push([name, virt[0]]);
        else errors.push(failure(ctx, name));
        continue;
      }
      errors.push({
        code: 'NOT_FOUND',
        package: name,
        chain: [],
        message: virt.length
          ? `${name} is a virtual package provided by ${virt.map((p) => p.package).join(', ')}: name one of them`
          : `${name} is in none of the suites for ${u.native}`,
      });
      continue;
    }
    if (mark(ctx, cand, why, [])) named.push([name, cand]);
    else errors.push(failure(ctx, name));
  }
  for (const [name, p] of named) {
    ctx.lastFailure = undefined;
    // A named package stays named even when it cannot be installed: the error says why.
    const k = keyOf(u, p);
    if (!installDependencies(ctx, p, [])) {
      errors.push(failure(ctx, name));
      ctx.marked.delete(k);
    }
  }
  const packages = [...ctx.marked.values()].sort((a, b) =>
    a.package < b.package ? -1 : a.package > b.package ? 1 : 0,
  );
  return { packages, reasons: ctx.reasons, choices: ctx.choices, errors };
}

function failure(ctx: Ctx, root: string): ResolveError {
  const f = ctx.lastFailure;
  if (!f)
    return { code: 'UNSATISFIABLE', package: root, chain: [root], message: `${root} cannot be installed` };
  return {
    code: 'UNSATISFIABLE',
    package: f.pkg,
    relation: f.relation,
    chain: f.chain,
    message: `${root} cannot be installed: ${f.pkg} needs ${f.relation}, which no candidate satisfies (via ${f.chain.join(' → ')})`,
  };
}
