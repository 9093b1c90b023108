import fs from 'node:fs/promises';
import path from 'node:path';
import { EXIT, FerryError, toErrorValue } from '../../core/base/errors/index.js';
import { dataDir } from '../../core/base/config/dirs.js';
import { Job } from '../../core/base/jobs/job.js';
import {
  deploy,
  parseNodeSpec,
  type AnsibleEvent,
  type DeployResult,
  type DeployState,
  type PreflightCheck,
} from '../../core/deploy/index.js';
import type { Command, CommandContext } from '../command.js';
import { printJsonLine, println, str, strs } from '../output.js';
import { openSources, bundleOptions } from './serve.js';
import { signatureOptions } from './verify.js';

function elapsed(s: DeployState): string {
  const sec = Math.max(0, Math.round((s.lastAt ?? 0) - (s.startedAt ?? s.lastAt ?? 0)));
  return `${String(Math.floor(sec / 60)).padStart(2, '0')}:${String(sec % 60).padStart(2, '0')}`;
}

/** hosts × current task, with counts: redrawn in place on a terminal. */
function table(s: DeployState, cols: number): string[] {
  const hosts = [...s.hosts.values()];
  const w = Math.max(4, ...hosts.map((h) => h.name.length));
  const lines = [
    `${elapsed(s)}  ${s.play ? `PLAY ${s.play} · ` : ''}task ${s.tasksStarted}: ${s.task ?? '…'}`,
  ];
  for (const h of hosts) {
    const c = h.counts;
    const state = h.down
      ? c.unreachable
        ? 'UNREACHABLE'
        : 'FAILED'
      : (h.task ?? (s.finished ? 'done' : 'waiting'));
    lines.push(
      `  ${h.name.padEnd(w)}  ok ${String(c.ok).padStart(4)}  changed ${String(c.changed).padStart(4)}  failed ${c.failed}  unreachable ${c.unreachable}  skipped ${String(c.skipped).padStart(4)}  ${state}`,
    );
  }
  return lines.map((l) => l.slice(0, cols - 1));
}

class DeployView {
  private drawn = 0;
  private last = 0;
  private readonly tty: boolean;
  constructor(private readonly ctx: CommandContext) {
    this.tty = !!ctx.stderr.isTTY;
  }
  event(e: AnsibleEvent, s: DeployState): void {
    if (this.ctx.json) return printJsonLine(this.ctx, { type: 'event', event: e });
    const err = this.ctx.stderr;
    if (!this.tty) {
      if (e.type === 'play') err.write(`PLAY ${e.name}\n`);
      if (e.type === 'task') err.write(`${elapsed(s)} TASK ${e.name}\n`);
      if (e.type === 'result' && (e.status === 'failed' || e.status === 'unreachable') && !e.ignored)
        err.write(`  ${e.status.toUpperCase()}: ${e.host}: ${e.msg ?? ''}\n`);
      return;
    }
    const now = Date.now();
    // At most one redraw per 150 ms, but the recap and every failure show at once.
    const urgent =
      e.type === 'stats' || (e.type === 'result' && (e.status === 'failed' || e.status === 'unreachable'));
    if (!urgent && now - this.last < 150) return;
    this.last = now;
    const lines = table(s, (err as { columns?: number }).columns ?? 120);
    err.write((this.drawn ? `\x1b[${this.drawn}F` : '') + lines.map((l) => `\x1b[2K${l}\n`).join(''));
    this.drawn = lines.length;
  }
}

function printPreflight(ctx: CommandContext, checks: PreflightCheck[]): void {
  if (ctx.json) return;
  for (const c of checks)
    ctx.stderr.write(
      `${c.ok ? 'ok  ' : 'FAIL'} ${c.node}: ${c.check}: ${c.detail}${c.fix && !c.ok ? `\n     fix: ${c.fix}` : ''}\n`,
    );
}

export const deployCommand: Command = {
  name: 'deploy',
  summary: 'Run Kubespray from the bundle: inventory, offline.yml, preflight, ansible-playbook',
  usage: '[-- ANSIBLE-PLAYBOOK-ARGS…]',
  description:
    'Unpacks the bundle’s Kubespray release into a deploy folder, writes the inventory (from --node, or copies\n' +
    '--inventory), puts offline.yml (from `ferry vars -o`) in its group_vars/all, checks every node (ssh, python3,\n' +
    'clock, free disk) and Ferry’s services from here, then runs ansible-playbook with Ferry’s callback plugin:\n' +
    'a live table of hosts and tasks on a terminal, a line per task otherwise, JSON events with --json. The full\n' +
    'Ansible log is kept in the deploy folder. Rerunning resumes: Kubespray’s playbooks are idempotent.\n' +
    'Arguments after -- go to ansible-playbook (e.g. -- --limit node3 --tags etcd).',
  options: {
    ...bundleOptions('The bundle to deploy from.'),
    vars: {
      type: 'string',
      valueName: 'FILE',
      description:
        'offline.yml written by `ferry vars -o FILE` for the addresses Ferry serves on (required).',
    },
    node: {
      type: 'string',
      multiple: true,
      valueName: 'NAME=ADDR[,ROLE…]',
      description:
        "A node (roles: control-plane, etcd, worker; none anywhere = first node control plane, first 1 or 3 etcd, all workers). ADDR 'local' = this machine.",
    },
    inventory: {
      type: 'string',
      valueName: 'DIR',
      description: 'An existing Kubespray inventory folder instead of --node (copied; yours is not changed).',
    },
    playbook: {
      type: 'string',
      valueName: 'FILE',
      description:
        'Playbook of the release: cluster.yml (default), scale.yml, upgrade-cluster.yml, reset.yml…',
    },
    'ssh-user': { type: 'string', valueName: 'USER', description: 'SSH user on the nodes.' },
    'ssh-key': { type: 'string', valueName: 'FILE', description: 'SSH private key for the nodes.' },
    'accept-new-host-keys': {
      type: 'boolean',
      description: 'Trust a node’s SSH host key on first contact (StrictHostKeyChecking=accept-new).',
    },
    'ssh-option': {
      type: 'string',
      multiple: true,
      valueName: 'OPT',
      description: 'An ssh -o option for the preflight and Ansible alike (e.g. ProxyJump=bastion).',
    },
    become: {
      type: 'boolean',
      description: 'Become root on the nodes (sudo), as Kubespray needs for a non-root user.',
    },
    dir: {
      type: 'string',
      valueName: 'DIR',
      description: 'Deploy folder (default: <data dir>/deploy/<bundle id>).',
    },
    'ansible-playbook': {
      type: 'string',
      valueName: 'PATH',
      description:
        'ansible-playbook to run (default: the offline virtualenv made from the bundle’s wheels in the deploy folder, else the one on PATH).',
    },
    python: {
      type: 'string',
      valueName: 'PATH',
      description: 'Python on the nodes (ansible_python_interpreter in the written inventory).',
    },
    'venv-python': {
      type: 'string',
      valueName: 'PATH',
      description:
        'Python that makes the offline virtualenv from the bundle’s wheels (default python3; see ferry venv).',
    },
    ca: {
      type: 'string',
      valueName: 'FILE',
      description: 'CA of Ferry’s TLS certificate, for the service check.',
    },
    'min-free-gib': {
      type: 'string',
      valueName: 'N',
      description: 'Free space a node needs on /var (default 10).',
    },
    'max-clock-skew': {
      type: 'string',
      valueName: 'SECONDS',
      description: 'Largest clock difference to this machine a node may have (default 30).',
    },
    'skip-preflight': { type: 'boolean', description: 'Run Ansible without checking the nodes first.' },
    'preflight-only': { type: 'boolean', description: 'Check the nodes and services, then stop.' },
    ...signatureOptions,
  },
  async run(ctx) {
    const varsFile = str(ctx.values.vars);
    if (!varsFile)
      throw new FerryError(
        'USAGE',
        'ferry deploy needs --vars FILE: the offline.yml `ferry vars -o FILE` wrote.',
        {
          hint: 'Run ferry serve, then ferry vars -o offline.yml with the address the nodes reach it at.',
        },
      );
    const nodes = strs(ctx.values.node).map(parseNodeSpec);
    const inventory = str(ctx.values.inventory);
    if (inventory && nodes.length) throw new FerryError('USAGE', 'Give --node or --inventory, not both.');
    if (!inventory && !nodes.length)
      throw new FerryError(
        'USAGE',
        'ferry deploy needs the nodes: --node NAME=ADDRESS[,ROLE…] … or --inventory DIR.',
      );
    const num = (k: string) => {
      const v = str(ctx.values[k]);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new FerryError('USAGE', `--${k} takes a number, not '${v}'.`);
      return n;
    };
    const offlineYml = await fs.readFile(varsFile, 'utf8').catch((err) => {
      throw new FerryError('CONFIG', `Cannot read ${varsFile}: ${(err as Error).message}`, {
        artifact: varsFile,
      });
    });
    const caFile = str(ctx.values.ca);
    const caPem = caFile ? await fs.readFile(caFile, 'utf8') : undefined;
    const [source] = await openSources(ctx, (line) => (ctx.json ? undefined : ctx.stderr.write(line + '\n')));
    const dir = path.resolve(str(ctx.values.dir) ?? path.join(dataDir(ctx.env), 'deploy', source.id));
    const view = new DeployView(ctx);
    const job = new Job<DeployResult>('deploy', (jc) =>
      deploy(
        {
          source,
          dir,
          nodes,
          inventoryFrom: inventory,
          offlineYml,
          playbook: str(ctx.values.playbook),
          sshUser: str(ctx.values['ssh-user']),
          sshKey: str(ctx.values['ssh-key']),
          sshOptions: [
            ...strs(ctx.values['ssh-option']),
            ...(ctx.values['accept-new-host-keys'] === true ? ['StrictHostKeyChecking=accept-new'] : []),
          ],
          become: ctx.values.become === true,
          ansibleArgs: ctx.positionals,
          ansiblePlaybook: str(ctx.values['ansible-playbook']),
          pythonInterpreter: str(ctx.values.python),
          python: str(ctx.values['venv-python']),
          skipPreflight: ctx.values['skip-preflight'] === true,
          caPem,
          minFreeGiB: num('min-free-gib'),
          maxSkewSeconds: num('max-clock-skew'),
          env: ctx.env,
          onEvent: (e, s) => view.event(e, s),
          preflightOnly: ctx.values['preflight-only'] === true,
        },
        jc,
      ),
    );
    const onAbort = () => job.cancel();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    job.subscribe((ev) => {
      if (ev.type === 'log' && !ctx.json) ctx.stderr.write(ev.message + '\n');
      if (ev.type === 'item' && ev.item.type === 'preflight') {
        if (ctx.json) printJsonLine(ctx, ev.item);
        else printPreflight(ctx, [ev.item as unknown as PreflightCheck]);
      }
    });
    let result: DeployResult;
    try {
      result = await job.done;
    } catch (err) {
      const v = toErrorValue(err);
      if (v.code === 'PREFLIGHT' && !ctx.json) {
        ctx.stderr.write(`Preflight failed; nothing was run. ${v.hint ?? ''}\n`);
        return EXIT.FAILURE;
      }
      throw err;
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
    if (ctx.json) printJsonLine(ctx, { type: 'result', ...result });
    else {
      for (const f of result.failures)
        println(ctx, `${f.status.toUpperCase()}: ${f.host}: task "${f.task}": ${f.message}`);
      println(
        ctx,
        `Ansible: ${result.ansible.path} (${result.ansible.source === 'venv' ? "the bundle's offline virtualenv" : result.ansible.source === 'given' ? '--ansible-playbook' : "the deploy host's"})`,
      );
      println(
        ctx,
        result.ok
          ? `Deployed: ${result.playbook} ran on ${result.hosts.length} host(s) in ${Math.round(result.seconds)} s. Log: ${result.logFile}`
          : `${result.playbook} failed (ansible-playbook exit ${result.exitCode}) on ${[...new Set(result.failures.map((f) => f.host))].join(', ') || 'some hosts'}. Log: ${result.logFile}\nFix the cause and run the same command again: the rerun resumes.`,
      );
    }
    return result.ok ? EXIT.OK : EXIT.FAILURE;
  },
};
