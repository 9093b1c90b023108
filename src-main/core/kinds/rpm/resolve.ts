/**
 * The set of packages `dnf install --downloadonly <roots>` downloads into a bare installroot,
 * computed from repository metadata alone: candidates are the target architecture plus noarch,
 * dnf's modular filter applies, Requires (pre too, rich ones included) and file requires are
 * followed, and weak dependencies (Recommends, Supplements) are followed as dnf's default
 * install_weak_deps=True does. What decides the answer among alternatives is libsolv's order of
 * decisions, reproduced here: unit propagation, its sorted rule walk with postponed choices, its
 * candidate policy, its weak-deps pass and its auto-minimization (checked against dnf 4.14 with
 * libsolv 0.7.23: test/unit/rpm/resolve.test.ts records cases, test/integration/rpm/resolve-dnf.test.ts
 * compares with dnf itself).
 */
import type { RpmDep, RpmPackage } from './package.js';
import { compareEvr, formatDep, formatEvr, rangeOverlap, rpmvercmp } from './evr.js';
import { modularFilter, type ModuleIndex } from './modules.js';
import { isRich, parseRich, richAtoms, richHolds, richNeeds, type RichExpr, type RichWorld } from './rich.js';

export interface ResolveRpmsInput {
  packages: RpmPackage[];
  roots: Array<{ name: string; why: string }>;
  /** Target RPM architecture: x86_64, aarch64 (i686 packages only when this is i686). */
  arch: string;
  modules?: ModuleIndex;
  /** Module streams enabled beyond the defaults (module → stream), as `dnf module enable`. */
  enabledModules?: Record<string, string>;
  /** Follow Recommends and Supplements (dnf's install_weak_deps, default true). */
  weakDeps?: boolean;
}

export interface RpmProblem {
  /** The package whose requirement fails ('name-evr.arch'), or the root name asked for. */
  package: string;
  requirement: string;
  message: string;
}

export interface RpmResolution {
  packages: Array<RpmPackage & { why: string }>;
  problems: RpmProblem[];
}

export const nevraText = (p: RpmPackage): string => `${p.name}-${formatEvr(p)}.${p.arch}`;

interface ProvEntry {
  p: RpmPackage;
  dep: RpmDep;
}

/**
 * Provide EVR order for choosing among providers: two versioned provides compare by EVR
 * (dnf took g2 for virt6 = 9 over g1's virt6 = 1); an unversioned one ties with anything
 * (ahh's bare `Provides: hh` beat hh's own hh = 1-1 on name order).
 */
function compareProvide(a: RpmDep, b: RpmDep): number {
  // Across different names (the alternatives of an `(a or b)`) versions say nothing: dnf took
  // ferry-lib-p00343-2.14 over ferry-p00050-5.8 for `(ferry-p00050 or ferry-lib-p00343)`.
  if (a.name !== b.name) return 0;
  const av = a.flags !== undefined && a.ver !== undefined;
  const bv = b.flags !== undefined && b.ver !== undefined;
  if (!av || !bv) return 0;
  const e = (a.epoch ?? 0) - (b.epoch ?? 0);
  if (e !== 0) return e;
  return rpmvercmp(a.ver ?? '', b.ver ?? '') || rpmvercmp(a.rel ?? '', b.rel ?? '');
}

export function resolveRpms(input: ResolveRpmsInput): RpmResolution {
  const { arch } = input;
  const weak = input.weakDeps ?? true;
  const filter = input.modules ? modularFilter(input.modules, arch, input.enabledModules) : undefined;

  // Candidates: target arch + noarch, visible through the modular filter, one per NEVRA (the
  // first repository listing it wins, as repository order does in dnf at equal priority).
  const seen = new Set<string>();
  const cands: RpmPackage[] = [];
  for (const p of input.packages) {
    if (p.arch !== arch && p.arch !== 'noarch') continue;
    if (filter?.hidden(p)) continue;
    const key = nevraText(p);
    if (seen.has(key)) continue;
    seen.add(key);
    cands.push(p);
  }

  const byName = new Map<string, RpmPackage[]>();
  const provIndex = new Map<string, ProvEntry[]>();
  const fileIndex = new Map<string, RpmPackage[]>();
  const obsIndex = new Map<string, ProvEntry[]>();
  /** Conflicts by the name they name, to find who conflicts with a package being chosen. */
  const conflictIndex = new Map<string, ProvEntry[]>();
  const supplementers: RpmPackage[] = [];
  const push = <K, V>(m: Map<K, V[]>, k: K, v: V): void => {
    const l = m.get(k);
    if (l) l.push(v);
    else m.set(k, [v]);
  };
  const repoIndex = new Map<RpmPackage, number>();
  for (const p of cands) {
    repoIndex.set(p, repoIndex.size);
    push(byName, p.name, p);
    let self = false;
    for (const d of p.provides) {
      push(provIndex, d.name, { p, dep: d });
      if (d.name === p.name) self = true;
    }
    // rpm adds name = EVR to every header; primary lists it, a hand-made one might not.
    if (!self) {
      push(provIndex, p.name, {
        p,
        dep: { name: p.name, flags: 'EQ', epoch: p.epoch, ver: p.version, rel: p.release },
      });
    }
    for (const f of p.files) push(fileIndex, f, p);
    for (const d of p.obsoletes) push(obsIndex, d.name, { p, dep: d });
    for (const d of p.conflicts) push(conflictIndex, d.name, { p, dep: d });
    if (p.supplements.length) supplementers.push(p);
  }
  // Best first: highest EVR, then the target architecture before noarch.
  const better = (a: RpmPackage, b: RpmPackage): number =>
    compareEvr(b, a) || (a.arch === b.arch ? 0 : a.arch === arch ? -1 : b.arch === arch ? 1 : 0);
  for (const l of byName.values()) l.sort(better);

  const richCache = new Map<string, RichExpr | Error>();
  const N = cands.length;

  /**
   * One run of libsolv's solver_run_sat from an empty decision set. `plan` replays earlier
   * branch choices (by branch ordinal) so that the auto-minimization step below can revert to a
   * branch and take another alternative: the run is deterministic, so replaying the same picks
   * up to that branch reaches the state libsolv reverts to.
   */
  interface Branch {
    /** Decision level before the branch's decision. */
    level: number;
    cands: RpmPackage[];
    pick: RpmPackage;
    tried: Set<RpmPackage>;
  }
  interface Run {
    chosen: Set<RpmPackage>;
    why: Map<RpmPackage, string>;
    problems: RpmProblem[];
    branches: Branch[];
    installedAt: Map<RpmPackage, number>;
    favoured: (q: RpmPackage) => boolean;
  }
  const run = (plan: Map<number, { pick: RpmPackage; tried: Set<RpmPackage> }>, restartAt: number): Run => {
    const chosen = new Set<RpmPackage>();
    const chosenByName = new Map<string, RpmPackage>();
    const why = new Map<RpmPackage, string>();
    const order: RpmPackage[] = [];
    const problems: RpmProblem[] = [];
    const queue: RpmPackage[] = [];
    const branches: Branch[] = [];
    const installedAt = new Map<RpmPackage, number>();
    let level = 0;
    /** Set when the branch being re-taken was decided: libsolv then restarts its rule walk. */
    let restart = false;
    /** Conditional rich requires ((a if b), (a unless b)) to re-check when the selection grows. */
    const conditional: Array<{ p: RpmPackage; dep: RpmDep; expr: RichExpr; weak: boolean }> = [];
    const registered = new Set<RpmDep>();

    /**
     * Packages a chosen one conflicts with or obsoletes, or that conflict with or obsolete a
     * chosen one: libsolv's rule (-a | -b) decides them false by propagation as soon as either
     * side is in, so they are never among a later choice's candidates (a self-conflict is
     * ignored, as there).
     */
    const forbidden = new Set<RpmPackage>();
    const installable = (p: RpmPackage): boolean => {
      if (forbidden.has(p)) return false;
      const c = chosenByName.get(p.name);
      return c === undefined || c === p;
    };

    /**
     * Providers of a simple dependency in dnf's order of preference: already chosen first; per
     * name only its best matching version; then strcmp name order, except that a provider with a
     * strictly higher version of the same provide comes first. Observed with dnf 4.14: `Requires: virt` provided by zz-1.0
     * and aaaa-long-9.0 → aaaa-long; virt6 = 1 (g1) vs virt6 = 9 (g2) → g2; `Requires: hh` with
     * both hh and ahh (Provides: hh) → ahh: neither the shorter name nor the exact name wins.
     */
    const providersAny = (deps: RpmDep[]): RpmPackage[] => {
      const hits = new Map<RpmPackage, RpmDep>();
      for (const dep of deps) {
        const entries = provIndex.get(dep.name);
        if (entries) {
          for (const e of entries) {
            if (!rangeOverlap(dep, e.dep)) continue;
            const cur = hits.get(e.p);
            if (!cur || compareProvide(e.dep, cur) > 0) hits.set(e.p, e.dep);
          }
        }
        if (dep.name.charCodeAt(0) === 47) {
          for (const p of fileIndex.get(dep.name) ?? []) if (!hits.has(p)) hits.set(p, { name: dep.name });
        }
      }
      if (hits.size === 0) return [];
      const chosenOnes: RpmPackage[] = [];
      const bestPerName = new Map<string, [RpmPackage, RpmDep]>();
      for (const [p, d] of hits) {
        if (chosen.has(p)) {
          chosenOnes.push(p);
          continue;
        }
        if (!installable(p)) continue;
        const cur = bestPerName.get(p.name);
        if (!cur || better(p, cur[0]) < 0) bestPerName.set(p.name, [p, d]);
      }
      // Name order, then the first one that a later provider does not beat with a strictly
      // higher version of the same provide. Sorting by provide version directly would not fit
      // dnf: unversioned provides are incomparable, so for {g0: virt9, g1: virt9 = 1, g2: virt9 = 9}
      // dnf took g0, for {bb: virtD = 5, cc: virtD = 7, yy: virtD} cc, for {aa: virtC = 5, zz:
      // virtC} aa, for {g1: virt6 = 1, g2: virt6 = 9} g2.
      const rest = [...bestPerName.values()].sort((x, y) =>
        x[0].name < y[0].name ? -1 : x[0].name > y[0].name ? 1 : 0,
      );
      let win = 0;
      for (let i = 1; i < rest.length; i++) if (compareProvide(rest[i][1], rest[win][1]) > 0) win = i;
      if (win > 0) rest.unshift(...rest.splice(win, 1));
      return [...chosenOnes, ...rest.map((r) => r[0])];
    };
    const providers = (dep: RpmDep): RpmPackage[] => providersAny([dep]);
    /** Every candidate matching a simple dependency, all versions, in repository order. */
    const allProviders = (dep: RpmDep): RpmPackage[] => {
      const out = new Set<RpmPackage>();
      for (const e of provIndex.get(dep.name) ?? []) if (rangeOverlap(dep, e.dep)) out.add(e.p);
      if (dep.name.charCodeAt(0) === 47) for (const p of fileIndex.get(dep.name) ?? []) out.add(p);
      return [...out];
    };

    const world: RichWorld<RpmPackage> = { providers, providersAny, chosen: (p) => chosen.has(p) };

    const select = (p: RpmPackage, reason: string): void => {
      if (chosen.has(p)) return;
      chosen.add(p);
      chosenByName.set(p.name, p);
      why.set(p, reason);
      installedAt.set(p, level);
      for (const d of p.conflicts) {
        if (isRich(d.name)) continue;
        for (const q of allProviders(d)) if (q !== p) forbidden.add(q);
      }
      const against = (prov: RpmDep): void => {
        for (const e of conflictIndex.get(prov.name) ?? [])
          if (e.p !== p && rangeOverlap(e.dep, prov)) forbidden.add(e.p);
      };
      let self = false;
      for (const d of p.provides) {
        against(d);
        if (d.name === p.name) self = true;
      }
      if (!self) against({ name: p.name, flags: 'EQ', epoch: p.epoch, ver: p.version, rel: p.release });
      for (const f of p.files) if (conflictIndex.has(f)) against({ name: f });
      // Obsoletes among packages being installed make the same rule (-a | -b), matched against
      // the obsoleted package's own name and EVR, never its provides (obsoleteusesprovides off).
      const selfEvr = { name: p.name, flags: 'EQ' as const, epoch: p.epoch, ver: p.version, rel: p.release };
      for (const d of p.obsoletes) {
        for (const q of byName.get(d.name) ?? []) {
          if (q.name === p.name) continue;
          if (rangeOverlap(d, { name: q.name, flags: 'EQ', epoch: q.epoch, ver: q.version, rel: q.release }))
            forbidden.add(q);
        }
      }
      for (const e of obsIndex.get(p.name) ?? [])
        if (e.p.name !== p.name && rangeOverlap(e.dep, selfEvr)) forbidden.add(e.p);
      order.push(p);
      for (const d of p.recommends) {
        if (d.name.startsWith('rpmlib(')) continue;
        if (!isRich(d.name)) for (const q of allProviders(d)) recommended.add(q);
        else {
          // Only unconditional rich recommends: libsolv defers the conditional blocks until the
          // condition is installed (check_complex_dep).
          const e = rich(d.name);
          if (!(e instanceof Error) && !hasCondition(e))
            for (const a of richAtoms(e)) for (const q of allProviders(a)) recommended.add(q);
        }
      }
      queue.push(p);
    };

    /**
     * A decision among `cands` (already in policy order): a new level, and a branch when there is
     * more than one (createbranch), whose pick the plan may replace.
     */
    const decide_ = (cands: RpmPackage[], reason: string): void => {
      let pick = cands[0];
      if (cands.length > 1) {
        const ordinal = branches.length;
        const o = plan.get(ordinal);
        if (o && cands.includes(o.pick)) pick = o.pick;
        branches.push({ level, cands, pick, tried: o ? new Set(o.tried) : new Set([pick]) });
        if (ordinal === restartAt) restart = true;
      }
      level++;
      select(pick, reason);
    };

    const rich = (text: string): RichExpr | Error => {
      let e = richCache.get(text);
      if (!e) {
        try {
          e = parseRich(text);
        } catch (err) {
          e = err as Error;
        }
        richCache.set(text, e);
      }
      return e;
    };

    const needed = (p: RpmPackage, kind: string, d: RpmDep): string =>
      `${kind} of ${nevraText(p)}: ${formatDep(d)}`;

    /** Makes one requirement hold; false when it cannot (a problem is recorded only if strict). */
    /**
     * A requirement with several candidate providers, none chosen yet. libsolv propagates every
     * requirement that has a single provider before it makes any choice, so a provider that some
     * other package forces in wins over name order; deferring choices until the forced ones are
     * drained reproduces that (dnf chose ferry-p00116 for `(ferry-p00116 or ferry-lib-p00119)`
     * because another package required ferry-p00116 outright).
     */
    const choices: Array<{ p: RpmPackage; dep: RpmDep; strict: boolean; key: number }> = [];
    /**
     * libsolv's rule order. solver_unifyrules sorts the package rules before solving: a
     * requirement's rule is (-requirer | providers…), so rules sort by the requirer's solvable id
     * descending (repository order, last first), then by their provider lists (ids ascending, an
     * `(a if b)`'s negated condition before any provider). resolve_dependencies walks them
     * circularly from the rule after the last decision.
     */
    const firstId = (dep: RpmDep): number => {
      if (isRich(dep.name)) {
        const e = rich(dep.name);
        if (e instanceof Error) return 0;
        if ('then' in e) {
          const c = richAtoms(e.cond)[0];
          const q = c ? allProviders(c)[0] : undefined;
          return q ? -1 - (repoIndex.get(q) ?? 0) : 0;
        }
        for (const a of richAtoms(e)) {
          const q = allProviders(a)[0];
          if (q) return repoIndex.get(q) ?? 0;
        }
        return 0;
      }
      const q = allProviders(dep)[0];
      return q ? (repoIndex.get(q) ?? 0) : 0;
    };
    const ruleKey = (p: RpmPackage, dep: RpmDep): number =>
      ((N - (repoIndex.get(p) ?? 0)) * (2 * N + 4) + firstId(dep) + N + 2) * 256 +
      Math.min(255, Math.max(0, p.requires.indexOf(dep)));
    /**
     * Packages some chosen package recommends (libsolv's recommendsmap, policy_update_recommendsmap):
     * prune_to_recommended keeps only these among a rule's candidates when any is one.
     */
    const recommended = new Set<RpmPackage>();
    const preferRecommended = (list: RpmPackage[]): RpmPackage[] => {
      if (list.length < 2) return list;
      const r = list.filter((q) => recommended.has(q) || supplementing(q));
      return r.length ? r : list;
    };
    /** What a pending choice could still install, best per name, or undefined once it holds. */
    const options = (c: (typeof choices)[number]): RpmPackage[] | undefined => {
      if (isRich(c.dep.name)) {
        const e = rich(c.dep.name);
        if (e instanceof Error || richHolds(e, world)) return undefined;
        const need = richNeeds(e, world);
        if (!need || need.length !== 1) return need ? [] : undefined;
        return need[0].filter(installable);
      }
      const ps = providers(c.dep);
      return ps.length && chosen.has(ps[0]) ? undefined : ps;
    };
    // resolve_dependencies' state: the rule position and its postponing pass (a rule whose
    // candidates stay several after best-version and recommended pruning waits until a full
    // circle found nothing else to decide, then deciding restarts at the first one postponed).
    let lastKey = -1;
    let postponing = true;
    let firstPostponed: number | undefined;
    const circular = (): Array<(typeof choices)[number]> => {
      const sorted = choices.slice().sort((a, b) => a.key - b.key);
      const at = sorted.findIndex((c) => c.key >= lastKey);
      return at <= 0 ? sorted : [...sorted.slice(at), ...sorted.slice(0, at)];
    };
    const take = (c: (typeof choices)[number]): (typeof choices)[number] => {
      choices.splice(choices.indexOf(c), 1);
      lastKey = c.key + 1;
      return c;
    };
    const nextChoice = (): (typeof choices)[number] | undefined => {
      if (!choices.length) return undefined;
      if (postponing) {
        for (const c of circular()) {
          const o = options(c);
          if (o === undefined) continue;
          if (o.length <= 1 || preferRecommended(o).length === 1) return take(c);
          if (firstPostponed === undefined) firstPostponed = c.key;
        }
        postponing = false;
        lastKey = firstPostponed ?? -1;
      }
      return take(circular()[0]);
    };

    const satisfy = (p: RpmPackage, dep: RpmDep, strict: boolean, decide = false): boolean => {
      const kind = strict ? 'Requires' : 'Recommends';
      if (isRich(dep.name)) {
        const expr = rich(dep.name);
        if (expr instanceof Error) {
          if (strict) problems.push({ package: nevraText(p), requirement: dep.name, message: expr.message });
          return false;
        }
        if (hasCondition(expr) && !registered.has(dep)) {
          registered.add(dep);
          conditional.push({ p, dep, expr, weak: !strict });
        }
        const need = richNeeds(expr, world);
        // A condition still open is no reason to install anything yet: libsolv's clause for
        // (g if late else h) is not unit while `late` is undecided, so everything forced is
        // propagated first (dnf installed g, not h, when another package required late).
        if (need && need.length && !decide && hasCondition(expr)) {
          choices.push({ p, dep, strict, key: ruleKey(p, dep) });
          return true;
        }
        if (!need) {
          if (strict) {
            problems.push({
              package: nevraText(p),
              requirement: dep.name,
              message: `nothing provides ${dep.name} needed by ${nevraText(p)}`,
            });
          }
          return false;
        }
        let deferred = false;
        for (const group of need) {
          const pick = group.find((c) => chosen.has(c)) ?? preferRecommended(group.filter(installable))[0];
          if (!pick) continue;
          if (chosen.has(pick)) continue;
          if (!decide && group.filter(installable).length > 1) deferred = true;
          else if (decide) decide_(preferRecommended(group.filter(installable)), needed(p, kind, dep));
          else select(pick, needed(p, kind, dep));
        }
        if (deferred) choices.push({ p, dep, strict, key: ruleKey(p, dep) });
        return true;
      }
      const ps = providers(dep);
      if (ps.length === 0) {
        if (strict) {
          const found = (provIndex.get(dep.name) ?? []).length > 0;
          problems.push({
            package: nevraText(p),
            requirement: formatDep(dep),
            message: found
              ? `${formatDep(dep)} needed by ${nevraText(p)}: no candidate version matches (or it would replace one already chosen)`
              : `nothing provides ${formatDep(dep)} needed by ${nevraText(p)}`,
          });
        }
        return false;
      }
      if (chosen.has(ps[0])) return true;
      if (!decide && ps.length > 1) choices.push({ p, dep, strict, key: ruleKey(p, dep) });
      else if (decide) decide_(preferRecommended(ps), needed(p, kind, dep));
      else select(ps[0], needed(p, kind, dep));
      return true;
    };

    /** Unit propagation: the requirements of everything selected, deferring real choices. */
    const propagate = (): void => {
      while (queue.length) {
        const p = queue.shift() as RpmPackage;
        for (const dep of p.requires) {
          if (dep.name.startsWith('rpmlib(')) continue;
          satisfy(p, dep, true);
        }
      }
    };
    const fresh = (): void => {
      // Each of libsolv's resolve_dependencies passes starts at the first rule, postponing again.
      lastKey = -1;
      postponing = true;
      firstPostponed = undefined;
    };
    const drain = (): void => {
      fresh();
      for (;;) {
        propagate();
        const c = nextChoice();
        if (!c) return;
        satisfy(c.p, c.dep, c.strict, true);
        if (restart) {
          restart = false;
          fresh();
        }
      }
    };

    /**
     * libsolv's resolve_weak: the best version per name of everything that would satisfy an unmet
     * Recommends or whose Supplements hold; the supplementing ones are installed, then every
     * Recommends of the packages decided so far, in decision order, one decision (and
     * propagation) each, skipping those an earlier one already satisfied. True when it installed
     * something (libsolv then reruns its rule walk).
     */
    const weakRound = (): boolean => {
      const decided = order.slice();
      const pool = new Set<RpmPackage>();
      const undecided = (q: RpmPackage): boolean => !chosen.has(q) && installable(q);
      const recCands = (d: RpmDep): RpmPackage[] => {
        if (!isRich(d.name)) return allProviders(d).filter(undecided);
        const e = rich(d.name);
        if (e instanceof Error) return [];
        const need = richNeeds(e, world);
        return need && need.length === 1 ? need[0].filter(undecided) : [];
      };
      for (const p of decided) {
        for (const d of p.recommends) {
          if (d.name.startsWith('rpmlib(') || holds(d)) continue;
          for (const q of recCands(d)) pool.add(q);
        }
      }
      const supp: RpmPackage[] = [];
      for (const s of supplementers) {
        if (!undecided(s) || !supplementing(s)) continue;
        supp.push(s);
        pool.add(s);
      }
      if (!pool.size) return false;
      // POLICY_MODE_RECOMMEND: per name only its best version among those collected.
      const best = new Set<RpmPackage>();
      for (const q of pool) {
        const top = (byName.get(q.name) ?? []).find((x) => pool.has(x));
        if (top) best.add(top);
      }
      for (const s of supp.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        if (!best.has(s) || chosen.has(s) || !installable(s)) continue;
        decide_([s], `Supplements of ${nevraText(s)}: ${s.supplements.map(formatDep).join(', ')}`);
        propagate();
      }
      for (const p of decided) {
        for (const d of p.recommends) {
          if (d.name.startsWith('rpmlib(') || holds(d)) continue;
          const names = new Set<string>();
          const list = recCands(d)
            .filter((q) => best.has(q) && !names.has(q.name) && names.add(q.name))
            .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
          if (!list.length) continue;
          decide_(preferRecommended(list), `Recommends of ${nevraText(p)}: ${formatDep(d)}`);
          propagate();
          if (restart) {
            restart = false;
            return true;
          }
        }
      }
      return true;
    };

    // Roots: a package of that name (dnf's "Package X is obsoleted by Y, trying to install Y
    // instead" first), else what provides it, else name-version[-release] spelled as one string.
    for (const root of input.roots) {
      const pick = rootPackage(root.name);
      if (!pick) {
        problems.push({
          package: root.name,
          requirement: root.name,
          message: `no package provides ${root.name} (${root.why})`,
        });
        continue;
      }
      if (!chosen.has(pick)) select(pick, root.why);
    }
    drain();

    for (let round = 0; round < 100; round++) {
      const before = chosen.size;
      // Conditions that became true as the selection grew: (a if b) once b is in.
      for (const c of conditional.slice()) {
        const need = richNeeds(c.expr, world);
        if (!need) continue;
        for (const group of need) {
          const pick = group.find((x) => chosen.has(x)) ?? group.find(installable);
          if (pick) select(pick, needed(c.p, c.weak ? 'Recommends' : 'Requires', c.dep));
        }
      }
      drain();
      if (weak && weakRound()) continue;
      if (chosen.size === before) break;
    }
    return {
      chosen,
      why,
      problems,
      branches,
      installedAt,
      favoured: (q) => recommended.has(q) || supplementing(q),
    };

    /** solver_is_supplementing: a package whose Supplements hold counts as recommended. */
    function supplementing(q: RpmPackage): boolean {
      return q.supplements.length > 0 && q.supplements.some((d) => holds(d));
    }

    function holds(d: RpmDep): boolean {
      if (isRich(d.name)) {
        const e = rich(d.name);
        return !(e instanceof Error) && richHolds(e, world);
      }
      return providers(d).some((p) => chosen.has(p));
    }

    function rootPackage(name: string): RpmPackage | undefined {
      const named = byName.get(name)?.[0];
      if (named) {
        // An obsoleting package of another name replaces the one asked for.
        for (const o of obsIndex.get(name) ?? []) {
          if (o.p.name === name) continue;
          const self = {
            name,
            flags: 'EQ' as const,
            epoch: named.epoch,
            ver: named.version,
            rel: named.release,
          };
          if (rangeOverlap(o.dep, self) && byName.get(o.p.name)?.[0] === o.p) return o.p;
        }
        return named;
      }
      const prov = providers({ name });
      if (prov.length) return prov[0];
      // 'docker-ce-3:26.1.4' or 'foo-1.2-3.el9': the name is what precedes the version.
      for (let i = name.lastIndexOf('-'); i > 0; i = name.lastIndexOf('-', i - 1)) {
        const n = name.slice(0, i);
        const list = byName.get(n);
        if (!list) continue;
        const evr = name.slice(i + 1);
        const colon = evr.indexOf(':');
        const epoch = colon > 0 ? Number(evr.slice(0, colon)) : undefined;
        const rest = colon > 0 ? evr.slice(colon + 1) : evr;
        const hit = list.find(
          (p) =>
            (epoch === undefined || p.epoch === epoch) &&
            (rest === p.version ||
              rest === `${p.version}-${p.release}` ||
              rest.startsWith(`${p.version}-${p.release}.`)),
        );
        if (hit) return hit;
      }
      return undefined;
    }
  };

  /**
   * libsolv's auto-minimization (solver_run_sat, step 6): once the solution is complete, the
   * oldest branch with an alternative that got installed later anyway, or with a recommended
   * alternative where the pick is not recommended, is reverted and that alternative taken; then
   * solving resumes, until no branch qualifies. dnf showed it: `(ferry-p00148 or ferry-p00169)`
   * first took ferry-p00148, a later Recommends installed ferry-p00169, and the final
   * transaction has ferry-p00169 alone.
   */
  let plan = new Map<number, { pick: RpmPackage; tried: Set<RpmPackage> }>();
  let res = run(plan, -1);
  for (let step = 0; step < 200; step++) {
    let at = -1;
    let alt: RpmPackage | undefined;
    for (let b = res.branches.length - 1; b >= 0; b--) {
      const br = res.branches[b];
      let later: RpmPackage | undefined;
      let rec: RpmPackage | undefined;
      for (const c of br.cands) {
        if (br.tried.has(c)) continue;
        if ((res.installedAt.get(c) ?? -1) > br.level) {
          later = c;
          break;
        }
        if (!rec && res.favoured(c)) rec = c;
      }
      if (later) [at, alt] = [b, later];
      else if (rec && !res.favoured(br.pick)) [at, alt] = [b, rec];
    }
    if (at < 0 || !alt) break;
    const next = new Map<number, { pick: RpmPackage; tried: Set<RpmPackage> }>();
    for (const [k, v] of plan) if (k < at) next.set(k, v);
    next.set(at, { pick: alt, tried: new Set([...res.branches[at].tried, alt]) });
    plan = next;
    res = run(plan, at);
  }
  const { chosen, why, problems } = res;

  const packages = [...chosen]
    .map((p) => ({ ...p, why: why.get(p) ?? '' }))
    .sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0,
    );
  return { packages, problems };
}

function hasCondition(e: RichExpr): boolean {
  if ('then' in e) return true;
  if (e.op === 'atom') return false;
  return e.args.some(hasCondition);
}
