/**
 * Checks on the variables a user gives (--set, profile vars, inventory group_vars) before a plan is
 * computed. Kubespray's download conditions compare strings (`kube_network_plugin == 'cilium'`), so
 * a misspelt value or name is not an error there: the plan silently loses the component. Two
 * checks catch that early:
 *  - a value Kubespray's own preflight asserts would refuse for its main enumerated settings is
 *    refused here too (INVALID_CHOICE, exit 2), with the allowed values and the nearest one;
 *  - a name the tag defines nowhere Ferry can see is a warning (the plan still succeeds), with
 *    the nearest known name when one is close.
 */
import { FerryError } from '../../base/errors/index.js';
import { PyDict, pyStr, toPlain, truthy, Undefined, type PyValue } from './jinja/values.js';
import { storeFor } from './plan.js';
import { roleVariableNames, type KubesprayData } from './source.js';
import { parseYaml11 } from './yaml11.js';

/** The enumerated settings checked against Kubespray's preflight. */
export const CHOICE_VARIABLES = ['kube_network_plugin', 'container_manager', 'kube_proxy_mode'] as const;
export type ChoiceVariable = (typeof CHOICE_VARIABLES)[number];

export interface ChoiceRule {
  variable: ChoiceVariable;
  allowed: string[];
  /** Kubespray skips this assert when `ignore_assert_errors` is true. */
  ignorable: boolean;
  /** Kubespray's file that asserts it. */
  file: string;
  /** True when the source lacked that file and the rule is Ferry's transcription of it (below). */
  fallback: boolean;
}

/**
 * Ferry's transcription of each supported tag's asserts, used when the Kubespray source does not
 * carry the task files (the shared reference data and a bare role folder hold only role data).
 * Copied from roles/kubernetes/preinstall/tasks/0040-verify-settings.yml (v2.26, v2.27) and
 * roles/validate_inventory/tasks/main.yml (v2.28 on); test/unit/catalog/check.test.ts parses the
 * real files of every tag (test/fixtures/catalog/preflight/) and compares them with this table.
 */
const NETWORK_2_26 = [
  'calico',
  'flannel',
  'weave',
  'cloud',
  'cilium',
  'cni',
  'kube-ovn',
  'kube-router',
  'macvlan',
  'custom_cni',
];
const CONTAINER_MANAGERS = ['docker', 'crio', 'containerd'];
type Fallback = Record<ChoiceVariable, { allowed: string[]; ignorable: boolean }>;
const PREINSTALL = 'roles/kubernetes/preinstall/tasks/0040-verify-settings.yml';
const VALIDATE = 'roles/validate_inventory/tasks/main.yml';
const FALLBACK: { from: [number, number]; file: string; rules: Fallback }[] = [
  {
    from: [2, 26],
    file: PREINSTALL,
    rules: {
      kube_network_plugin: { allowed: NETWORK_2_26, ignorable: true },
      container_manager: { allowed: CONTAINER_MANAGERS, ignorable: false },
      kube_proxy_mode: { allowed: ['iptables', 'ipvs'], ignorable: false },
    },
  },
  {
    // v2.27 accepts 'none' (no network plugin, with a warning).
    from: [2, 27],
    file: PREINSTALL,
    rules: {
      kube_network_plugin: { allowed: [...NETWORK_2_26, 'none'], ignorable: true },
      container_manager: { allowed: CONTAINER_MANAGERS, ignorable: false },
      kube_proxy_mode: { allowed: ['iptables', 'ipvs'], ignorable: false },
    },
  },
  {
    // v2.28 moves the asserts to validate_inventory (not skippable) and adds nftables.
    from: [2, 28],
    file: VALIDATE,
    rules: {
      kube_network_plugin: { allowed: [...NETWORK_2_26, 'none'], ignorable: false },
      container_manager: { allowed: CONTAINER_MANAGERS, ignorable: false },
      kube_proxy_mode: { allowed: ['iptables', 'ipvs', 'nftables'], ignorable: false },
    },
  },
  {
    // v2.29 drops weave; unchanged through v2.31 (and assumed for later tags without the files).
    from: [2, 29],
    file: VALIDATE,
    rules: {
      kube_network_plugin: {
        allowed: [...NETWORK_2_26.filter((n) => n !== 'weave'), 'none'],
        ignorable: false,
      },
      container_manager: { allowed: CONTAINER_MANAGERS, ignorable: false },
      kube_proxy_mode: { allowed: ['iptables', 'ipvs', 'nftables'], ignorable: false },
    },
  },
];

/** The fallback rules for a tag; for a tag Ferry cannot place, everything any known tag accepts. */
export function fallbackChoiceRules(tag: string): ChoiceRule[] {
  const m = /^v?(\d+)\.(\d+)\./.exec(tag);
  const at = m ? ([Number(m[1]), Number(m[2])] as const) : undefined;
  const cmp = (a: readonly [number, number], b: readonly [number, number]) => a[0] - b[0] || a[1] - b[1];
  const hit = at ? [...FALLBACK].reverse().find((f) => cmp(at, f.from) >= 0) : undefined;
  return CHOICE_VARIABLES.map((variable) => {
    if (hit) return { variable, ...hit.rules[variable], file: hit.file, fallback: true };
    // Unknown or older than v2.26: refuse only what no supported tag accepts.
    const allowed = [...new Set(FALLBACK.flatMap((f) => f.rules[variable].allowed))];
    const ignorable = FALLBACK.some((f) => f.rules[variable].ignorable);
    return { variable, allowed, ignorable, file: `${PREINSTALL} or ${VALIDATE}`, fallback: true };
  });
}

const IN_LIST = new RegExp(`^\\s*(${CHOICE_VARIABLES.join('|')})\\s+in\\s+\\[([^\\]]*)\\]\\s*$`);
const QUOTED = /'([^']*)'|"([^"]*)"/g;

/**
 * Reads `<variable> in ['a', 'b']` asserts from one of Kubespray's preflight task files. Only
 * asserts that always apply are taken: their `when` may say no more than `<variable> is defined`
 * and `not ignore_assert_errors` (the latter makes the rule ignorable); a narrower conditional
 * assert (say, for one OS) is not a general rule.
 */
export function parsePreflight(file: string, text: string): ChoiceRule[] {
  let tasks: PyValue;
  try {
    tasks = parseYaml11(text, file);
  } catch {
    return [];
  }
  const out: ChoiceRule[] = [];
  const visit = (list: PyValue) => {
    if (!Array.isArray(list)) return;
    for (const t of list) {
      if (!(t instanceof PyDict)) continue;
      for (const k of ['block', 'rescue', 'always']) visit(t.get(k) ?? null);
      const a = t.get('assert') ?? t.get('ansible.builtin.assert');
      if (!(a instanceof PyDict)) continue;
      const whenRaw = t.get('when');
      const when = (Array.isArray(whenRaw) ? whenRaw : whenRaw === undefined ? [] : [whenRaw]).map((w) =>
        pyStr(w).trim(),
      );
      const thatRaw = a.get('that');
      const that = Array.isArray(thatRaw) ? thatRaw : thatRaw === undefined ? [] : [thatRaw];
      for (const cond of that) {
        const m = IN_LIST.exec(pyStr(cond));
        if (!m) continue;
        const variable = m[1] as ChoiceVariable;
        const rest = when.filter((w) => w !== `${variable} is defined` && w !== 'not ignore_assert_errors');
        if (rest.length) continue;
        const allowed = [...m[2].matchAll(QUOTED)].map((q) => q[1] ?? q[2]);
        if (!allowed.length) continue;
        out.push({
          variable,
          allowed,
          ignorable: when.includes('not ignore_assert_errors'),
          file,
          fallback: false,
        });
      }
    }
  };
  visit(tasks);
  return out;
}

/** The rules for a tag: from its own preflight files where the source has them, else the fallback. */
export function choiceRules(data: KubesprayData): ChoiceRule[] {
  const read = (data.preflight ?? []).flatMap((f) => parsePreflight(f.path, f.text));
  const fallback = fallbackChoiceRules(data.tag);
  return CHOICE_VARIABLES.map(
    (v) => read.find((r) => r.variable === v) ?? fallback.find((r) => r.variable === v)!,
  );
}

/**
 * Optimal string alignment distance (Levenshtein plus adjacent transpositions, the typo a hand
 * makes most: 'contianerd'), on lower-cased input.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) =>
    Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[s.length][t.length];
}

/**
 * The candidate closest to `word`, if it is close enough to be the word meant: at most one edit
 * per four characters (so 'cillium' → 'cilium', 'kube_netwrok_plugin' → 'kube_network_plugin',
 * but not 'ntp_servers' → 'dns_servers'), at most three, and never a guess for a word of three
 * characters or fewer. Ties go to the first candidate.
 */
export function nearestName(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.min(3, Math.floor(word.length / 4));
  if (limit < 1) return undefined;
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    if (c === word) continue;
    if (Math.abs(c.length - word.length) > limit) continue;
    const dist = editDistance(word, c);
    if (dist < bestD) {
      best = c;
      bestD = dist;
    }
  }
  return bestD <= limit ? best : undefined;
}

/**
 * Variables that are legitimately absent from Kubespray's defaults, so a warning about them would
 * be noise:
 *  - Ansible's own connection and magic variables (any `ansible_*`, and the magic names below):
 *    Ansible defines them, not Kubespray;
 *  - Kubespray's per-host inventory variables (ip, access_ip, …): set in hosts.yaml and read by
 *    tasks with `| default`, never given a default in a role;
 *  - the offline-install variables Kubespray documents only as commented examples
 *    (inventory/sample/group_vars/all/offline.yml) and that `ferry vars` writes, plus Ferry's own
 *    `ferry_ca_certificate`, so an inventory carrying Ferry's offline.yml plans without noise;
 *  - proxy settings, which Kubespray reads only with `| default`.
 */
export const KNOWN_UNDEFINED_VARIABLES: ReadonlySet<string> = new Set([
  // Ansible magic variables a user might (wrongly or not) set in an inventory.
  'inventory_hostname',
  'inventory_hostname_short',
  'group_names',
  'groups',
  'hostvars',
  'playbook_dir',
  'role_path',
  'omit',
  // Kubespray per-host inventory variables.
  'ip',
  'ip6',
  'access_ip',
  'access_ip6',
  'main_ip',
  'main_access_ip',
  'etcd_member_name',
  'node_labels',
  'node_taints',
  // Offline variables Kubespray documents commented out, and Ferry's own.
  'files_repo',
  'registry_host',
  'registry_addr',
  'yum_repo',
  'debian_repo',
  'ubuntu_repo',
  'ferry_ca_certificate',
  'containerd_registries_mirrors',
  // Proxies.
  'http_proxy',
  'https_proxy',
  'no_proxy',
]);

export function isAllowedUnknown(name: string): boolean {
  return name.startsWith('ansible_') || KNOWN_UNDEFINED_VARIABLES.has(name);
}

export interface PlanWarning {
  code: 'UNKNOWN_VARIABLE';
  message: string;
  variable: string;
  /** Where the user set it: '--set', 'profile', 'inventory'. */
  source: string;
  /** The nearest variable the tag does define, when one is close. */
  nearest?: string;
}

/** Every name the tag is known to define or use (role data, plus whatever else the source holds). */
export function knownVariableNames(data: KubesprayData): Set<string> {
  return new Set([...roleVariableNames(data), ...(data.otherNames ?? [])]);
}

/**
 * Warnings for user-set variables the tag defines nowhere Ferry can see. With a whole Kubespray
 * tree every unknown name is reported; with data holding only some roles (a bare role folder, the
 * shared reference data) a name missing from it may well belong to a role that is not there
 * (calico_*, ntp_*: 50 of the 111 variables in Kubespray's own sample inventory), so only a name
 * close to a known one, the likely typo, is reported.
 */
export function unknownVariableWarnings(
  data: KubesprayData,
  given: { name: string; source: string }[],
): PlanWarning[] {
  const known = knownVariableNames(data);
  // Suggest only names the role itself defines: those are the ones a user means to override.
  const role = roleVariableNames(data);
  const out: PlanWarning[] = [];
  const seen = new Set<string>();
  for (const { name, source } of given) {
    if (seen.has(name) || known.has(name) || isAllowedUnknown(name)) continue;
    seen.add(name);
    const nearest = nearestName(name, role) ?? nearestName(name, known);
    if (!nearest && !data.wholeTree) continue;
    out.push({
      code: 'UNKNOWN_VARIABLE',
      message:
        `'${name}' (${source}) is not a variable Kubespray ${data.tag} defines` +
        (nearest ? `; did you mean '${nearest}'?` : '; it may have no effect.'),
      variable: name,
      source,
      ...(nearest ? { nearest } : {}),
    });
  }
  return out;
}

function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : JSON.stringify(v);
}

/**
 * Refuses a value Kubespray's preflight would refuse, for the variables the user set (a default is
 * the tag's own and valid). The value is the one Ansible would see: templates are evaluated with
 * every layer, so `kube_network_plugin: "{{ my_cni }}"` is checked by what it becomes.
 */
export function checkChoices(
  data: KubesprayData,
  opts: { vars?: PyDict | undefined; inventoryVars?: PyDict | undefined },
  sourceOf: (name: string) => string = () => 'the inventory',
): void {
  const set = (n: string) => !!(opts.vars?.has(n) || opts.inventoryVars?.has(n));
  const rules = choiceRules(data).filter((r) => set(r.variable));
  if (!rules.length) return;
  const store = storeFor(data, 'amd64', { vars: opts.vars, inventoryVars: opts.inventoryVars });
  const evaluate = (n: string): PyValue | undefined => {
    try {
      return store.lookup(n);
    } catch {
      // A template that does not evaluate is reported by the plan itself, naming the expression.
      return undefined;
    }
  };
  const ignoring = (() => {
    const v = evaluate('ignore_assert_errors');
    return v !== undefined && !(v instanceof Undefined) && truthy(v);
  })();
  for (const rule of rules) {
    if (rule.ignorable && ignoring) continue;
    const v = evaluate(rule.variable);
    if (v === undefined || v instanceof Undefined) continue;
    if (typeof v === 'string' && rule.allowed.includes(v)) continue;
    const plain = toPlain(v);
    const nearest = typeof plain === 'string' ? nearestName(plain, rule.allowed) : undefined;
    throw new FerryError(
      'INVALID_CHOICE',
      `${rule.variable}: ${show(plain)} (${sourceOf(rule.variable)}) is not a value Kubespray ` +
        `${data.tag} accepts; allowed: ${rule.allowed.join(', ')}.` +
        (nearest ? ` Did you mean '${nearest}'?` : ''),
      {
        artifact: rule.variable,
        hint: `Kubespray's preflight (${rule.file}) would stop the playbook. Use one of: ${rule.allowed.join(', ')}${
          nearest ? ` (e.g. --set ${rule.variable}=${nearest})` : ''
        }.`,
        details: {
          variable: rule.variable,
          value: plain,
          allowed: rule.allowed,
          ...(nearest ? { nearest } : {}),
          file: rule.file,
          fallback: rule.fallback,
        },
      },
    );
  }
}
