import { z } from 'zod';

/**
 * The events Ferry's callback plugin writes (see callback-plugin.ts), checked at the boundary:
 * a line that is not one of these is logged and ignored, never trusted.
 */
export const HostStatus = z.enum(['ok', 'changed', 'failed', 'skipped', 'unreachable']);
export type HostStatus = z.infer<typeof HostStatus>;

export const AnsibleEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('playbook'), file: z.string(), t: z.number() }),
  z.object({ type: z.literal('play'), name: z.string(), t: z.number() }),
  z.object({
    type: z.literal('task'),
    id: z.string(),
    name: z.string(),
    action: z.string(),
    handler: z.boolean(),
    t: z.number(),
  }),
  z.object({
    type: z.literal('result'),
    host: z.string(),
    task: z.string(),
    name: z.string(),
    status: HostStatus,
    ignored: z.boolean(),
    msg: z.string().nullable(),
    seconds: z.number().nullable(),
    t: z.number(),
  }),
  z.object({
    type: z.literal('stats'),
    hosts: z.record(
      z.string(),
      z.object({
        ok: z.number(),
        changed: z.number(),
        failures: z.number(),
        unreachable: z.number(),
        skipped: z.number(),
        rescued: z.number().optional(),
        ignored: z.number().optional(),
      }),
    ),
    t: z.number(),
  }),
]);
export type AnsibleEvent = z.infer<typeof AnsibleEvent>;

export function parseEventLine(line: string): AnsibleEvent | undefined {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return undefined;
  }
  const r = AnsibleEvent.safeParse(json);
  return r.success ? r.data : undefined;
}

export interface HostProgress {
  name: string;
  /** The task this host is in (the last task started that it has no result for yet); cleared to
   * undefined when its result arrives. */
  task?: string | undefined;
  counts: Record<HostStatus, number>;
  /** Unreachable or failed without ignore_errors: Ansible stops running tasks on it. */
  down: boolean;
}

export interface DeployFailure {
  host: string;
  task: string;
  status: 'failed' | 'unreachable';
  message: string;
}

export interface DeployState {
  play?: string;
  task?: string;
  tasksStarted: number;
  hosts: Map<string, HostProgress>;
  failures: DeployFailure[];
  startedAt?: number;
  lastAt?: number;
  finished: boolean;
}

export function newDeployState(hosts: string[] = []): DeployState {
  const s: DeployState = { tasksStarted: 0, hosts: new Map(), failures: [], finished: false };
  for (const h of hosts) host(s, h);
  return s;
}

function host(s: DeployState, name: string): HostProgress {
  let h = s.hosts.get(name);
  if (!h) {
    h = { name, counts: { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 }, down: false };
    s.hosts.set(name, h);
  }
  return h;
}

/** Fold one event into the state (pure apart from mutating `s`; the order is Ansible's). */
export function applyEvent(s: DeployState, e: AnsibleEvent): void {
  s.startedAt ??= e.t;
  s.lastAt = e.t;
  switch (e.type) {
    case 'play':
      s.play = e.name;
      break;
    case 'task':
      s.task = e.name;
      s.tasksStarted++;
      for (const h of s.hosts.values()) if (!h.down) h.task = e.name;
      break;
    case 'result': {
      const h = host(s, e.host);
      h.counts[e.status]++;
      h.task = undefined;
      if ((e.status === 'failed' && !e.ignored) || e.status === 'unreachable') {
        h.down = true;
        s.failures.push({
          host: e.host,
          task: e.name,
          status: e.status,
          message: e.msg ?? (e.status === 'unreachable' ? 'host unreachable' : 'task failed'),
        });
      }
      break;
    }
    case 'stats':
      s.finished = true;
      for (const name of Object.keys(e.hosts)) host(s, name).task = undefined;
      break;
  }
}
