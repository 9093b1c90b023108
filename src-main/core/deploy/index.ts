import fsp from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../base/errors/index.js';
import type { JobContext } from '../base/jobs/job.js';
import type { BundleSource } from '../bundle/source.js';
import type { AnsibleEvent, DeployFailure, DeployState, HostProgress } from './events.js';
import type { NodeSpec } from './inventory.js';
import { preflight, type PreflightCheck } from './preflight.js';
import { runPlaybook } from './run.js';
import { prepareWorkspace } from './workspace.js';
import { createVenv } from '../kinds/index.js';

export { parseNodeSpec, planNodes, renderInventory, type NodeSpec } from './inventory.js';
export { preflight, type PreflightCheck } from './preflight.js';
export type { AnsibleEvent, DeployFailure, DeployState, HostProgress } from './events.js';

export interface DeployOptions {
  source: BundleSource;
  /** The deploy folder (inventory, Kubespray, log). */
  dir: string;
  nodes?: NodeSpec[] | undefined;
  inventoryFrom?: string | undefined;
  offlineYml: string;
  /** A playbook of the carried release: cluster.yml (default), scale.yml, upgrade-cluster.yml, reset.yml… */
  playbook?: string | undefined;
  sshUser?: string | undefined;
  sshKey?: string | undefined;
  /** ssh -o options for preflight and Ansible alike. */
  sshOptions?: string[];
  become?: boolean | undefined;
  /** More ansible-playbook arguments, passed as given (-e, --limit, --tags…). */
  ansibleArgs?: string[];
  /** ansible-playbook to use; default: the bundle's virtualenv in the deploy folder, else PATH. */
  ansiblePlaybook?: string | undefined;
  /** The Python that makes the offline virtualenv (default python3). */
  python?: string | undefined;
  pythonInterpreter?: string | undefined;
  skipPreflight?: boolean | undefined;
  /** Check, then stop without running Ansible. */
  preflightOnly?: boolean | undefined;
  caPem?: string | undefined;
  minFreeGiB?: number | undefined;
  maxSkewSeconds?: number | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Every event as it arrives (the CLI's live table, --json lines). */
  onEvent?: (e: AnsibleEvent, state: DeployState) => void;
}

export interface DeployResult {
  ok: boolean;
  /** Which ansible-playbook ran: the bundle's offline virtualenv, the deploy host's, or --ansible-playbook. */
  ansible: { path: string; source: 'venv' | 'system' | 'given'; note?: string };
  dir: string;
  playbook: string;
  kubespray: string;
  inventory: string;
  logFile: string;
  exitCode: number;
  preflight: PreflightCheck[];
  hosts: HostProgress[];
  failures: DeployFailure[];
  seconds: number;
}

/** The playbook must be one of the carried release: a path inside it, never an arbitrary file. */
async function resolvePlaybook(kubespray: string, playbook: string): Promise<string> {
  const full = path.resolve(kubespray, playbook);
  const rel = path.relative(kubespray, full);
  if (rel.startsWith('..') || path.isAbsolute(rel))
    throw new FerryError(
      'USAGE',
      `Playbook ${playbook} is not part of the Kubespray release in the bundle.`,
      {
        hint: 'Name a playbook of the release: cluster.yml, scale.yml, upgrade-cluster.yml, reset.yml, remove-node.yml…',
      },
    );
  if (!(await fsp.stat(full).catch(() => undefined))?.isFile()) {
    const here = (await fsp.readdir(kubespray).catch(() => [] as string[]))
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
    throw new FerryError('NOT_FOUND', `The Kubespray release has no playbook ${playbook}.`, {
      artifact: playbook,
      hint: `Playbooks at its top: ${here.join(', ') || 'none'}.`,
    });
  }
  return rel;
}

/**
 * The ansible-playbook to run: the offline virtualenv made from the bundle's wheels (in the
 * deploy folder, reused when it already holds them), else the deploy host's own with a note.
 */
async function defaultAnsiblePlaybook(
  o: DeployOptions,
  ctx: JobContext,
): Promise<{ path: string; source: 'venv' | 'system'; note?: string }> {
  const venvDir = path.join(o.dir, 'venv');
  const carries = o.source.manifest.artifacts.some((a) => a.kind === 'wheel');
  if (carries) {
    ctx.progress.setPhase('virtualenv');
    ctx.report();
    try {
      const v = await createVenv({
        sources: [o.source],
        dir: venvDir,
        ...(o.python ? { python: o.python } : {}),
        env: o.env,
        signal: ctx.signal,
        onLog: (l) => ctx.log('info', l),
      });
      if (v.ansiblePlaybook) return { path: v.ansiblePlaybook, source: 'venv' };
      const note = `The bundle's wheels carry no ansible-core; using the deploy host's ansible-playbook.`;
      return { path: 'ansible-playbook', source: 'system', note };
    } catch (err) {
      // Damaged or altered wheels stop the deploy; a deploy host that cannot make a venv
      // (no python3-venv, an old Python) can still use an Ansible it has, and is told why.
      if (!(err instanceof FerryError) || err.code === 'INTEGRITY' || err.code === 'CANCELLED') throw err;
      const note = `No offline virtualenv: ${err.message}${err.hint ? ` ${err.hint}` : ''} Using the deploy host's ansible-playbook.`;
      return { path: 'ansible-playbook', source: 'system', note };
    }
  }
  // A venv made earlier (ferry venv) is used even when this bundle carries no wheels.
  const made = path.join(venvDir, 'bin', 'ansible-playbook');
  if (await fsp.stat(made).catch(() => undefined)) return { path: made, source: 'venv' };
  return {
    path: 'ansible-playbook',
    source: 'system',
    note: "The bundle carries no Python wheels; using the deploy host's ansible-playbook (e.g. Debian's ansible-core).",
  };
}

export async function deploy(o: DeployOptions, ctx: JobContext): Promise<DeployResult> {
  const t0 = Date.now();
  ctx.progress.setPhase('preparing');
  ctx.report();
  const ws = await prepareWorkspace({
    source: o.source,
    dir: o.dir,
    nodes: o.nodes,
    inventoryFrom: o.inventoryFrom,
    offlineYml: o.offlineYml,
    pythonInterpreter: o.pythonInterpreter,
    env: o.env,
  });
  const playbook = await resolvePlaybook(ws.kubespray, o.playbook ?? 'cluster.yml');
  const chosen = o.ansiblePlaybook
    ? { path: o.ansiblePlaybook, source: 'given' as const }
    : await defaultAnsiblePlaybook(o, ctx);
  if ('note' in chosen && chosen.note) ctx.log('warn', chosen.note);
  const ansiblePlaybook = chosen.path;
  ctx.log(
    'info',
    `Deploy folder ${ws.dir}: inventory ${ws.inventory}, Kubespray ${ws.kubespray}, log ${ws.logFile}`,
  );

  // Kubespray's ansible.cfg turns host key checking off; the preflight's ssh must then do the
  // same, or it would refuse nodes Ansible reaches (and the reverse when the user turns it on).
  const cfg = await fsp.readFile(path.join(ws.kubespray, 'ansible.cfg'), 'utf8').catch(() => '');
  const hkc = o.env?.ANSIBLE_HOST_KEY_CHECKING ?? /^\s*host_key_checking\s*=\s*(\S+)/m.exec(cfg)?.[1];
  const noHostKeyCheck = hkc !== undefined && /^(false|no|0|off)$/i.test(hkc);
  let checks: PreflightCheck[] = [];
  if (!o.skipPreflight) {
    ctx.progress.setPhase('preflight');
    ctx.report();
    checks = await preflight({
      // Read once by prepareWorkspace: ansible-inventory costs a Python start-up per call.
      hosts: ws.hosts,
      offlineYml: o.offlineYml,
      sshUser: o.sshUser,
      sshKey: o.sshKey,
      sshOptions: [...(o.sshOptions ?? []), ...(noHostKeyCheck ? ['StrictHostKeyChecking=no'] : [])],
      caPem: o.caPem,
      minFreeGiB: o.minFreeGiB,
      maxSkewSeconds: o.maxSkewSeconds,
      env: o.env,
    });
    for (const c of checks) ctx.item({ type: 'preflight', id: `${c.node}\u0000${c.check}`, ...c });
    const bad = checks.filter((c) => !c.ok);
    if (bad.length)
      throw new FerryError(
        'PREFLIGHT',
        `Preflight failed on ${[...new Set(bad.map((c) => c.node))].join(', ')}:\n` +
          bad
            .map((c) => `  ${c.node}: ${c.check}: ${c.detail}${c.fix ? `\n    fix: ${c.fix}` : ''}`)
            .join('\n'),
        { details: { checks }, hint: 'Fix what is named and rerun; --skip-preflight runs Ansible anyway.' },
      );
  }

  // What ran and where, the same in a preflight-only result and a full one.
  const run = {
    ansible: chosen,
    dir: ws.dir,
    playbook,
    kubespray: ws.kubespray,
    inventory: ws.inventory,
    logFile: ws.logFile,
  };
  if (o.preflightOnly)
    return {
      ok: true,
      ...run,
      exitCode: 0,
      preflight: checks,
      hosts: [],
      failures: [],
      seconds: (Date.now() - t0) / 1000,
    };

  ctx.progress.setPhase('ansible');
  ctx.progress.itemsTotal = ws.hosts.length;
  ctx.report();
  const r = await runPlaybook({
    ansiblePlaybook,
    cwd: ws.kubespray,
    inventory: ws.inventory,
    playbook,
    args: [
      ...(o.sshUser ? ['-u', o.sshUser] : []),
      ...(o.sshKey ? ['--private-key', o.sshKey] : []),
      ...(o.sshOptions?.length ? ['--ssh-common-args', o.sshOptions.map((x) => `-o ${x}`).join(' ')] : []),
      ...(o.become ? ['--become'] : []),
      ...(o.ansibleArgs ?? []),
    ],
    pluginDir: ws.pluginDir,
    logFile: ws.logFile,
    hosts: ws.hosts.map((h) => h.name),
    env: o.env,
    signal: ctx.signal,
    onEvent: (e, state) => {
      // Items are keyed (one per host, one current task, one per failure), so the job's list
      // stays as long as the inventory however many tasks Kubespray runs.
      if (e.type === 'task') {
        ctx.progress.current = e.name;
        ctx.item({
          type: 'task',
          id: 'current',
          name: e.name,
          n: state.tasksStarted,
          ...(state.play ? { play: state.play } : {}),
        });
      }
      // A host's row follows the task it is in: every task start moves the hosts still running
      // to it, and a result or the recap clears it. `task` is always sent ('' for none): items
      // merge by id, so a row sent without it would keep the task of an earlier report.
      if (e.type === 'result' || e.type === 'stats' || e.type === 'task') {
        const hosts =
          e.type === 'result'
            ? [state.hosts.get(e.host)!]
            : [...state.hosts.values()].filter((h) => e.type === 'stats' || !h.down);
        for (const h of hosts)
          ctx.item({ type: 'host', id: h.name, task: h.task ?? '', counts: { ...h.counts }, down: h.down });
      }
      if (e.type === 'result' || e.type === 'stats') {
        if (e.type === 'result' && ((e.status === 'failed' && !e.ignored) || e.status === 'unreachable')) {
          const f = state.failures[state.failures.length - 1]!;
          ctx.item({ type: 'failure', id: `${f.host}\u0000${state.failures.length}`, ...f });
        }
        ctx.progress.itemsFailed = [...state.hosts.values()].filter((h) => h.down).length;
      }
      if (e.type === 'stats') ctx.progress.itemsDone = Object.keys(e.hosts).length;
      ctx.report();
      o.onEvent?.(e, state);
    },
  });
  const failures = r.state.failures;
  const result: DeployResult = {
    ok: r.exitCode === 0 && failures.length === 0,
    ...run,
    exitCode: r.exitCode,
    preflight: checks,
    hosts: [...r.state.hosts.values()],
    failures,
    seconds: (Date.now() - t0) / 1000,
  };
  if (!r.state.finished && r.exitCode !== 0) {
    // Ansible stopped before its recap: a syntax error, a missing role, a bad inventory.
    const tail = (await fsp.readFile(ws.logFile, 'utf8').catch(() => ''))
      .trim()
      .split('\n')
      .slice(-6)
      .join('\n');
    throw new FerryError(
      'DEPLOY',
      `ansible-playbook ${playbook} stopped with exit ${r.exitCode} before running:\n${tail}`,
      {
        artifact: ws.logFile,
        details: { result },
        hint: `The full log is ${ws.logFile}.`,
      },
    );
  }
  return result;
}
