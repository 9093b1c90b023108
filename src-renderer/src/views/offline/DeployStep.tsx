import { useEffect, useState } from 'react';
import {
  DEPLOY_PLAYBOOKS,
  type DeployItem,
  type DeployNode,
  type ErrorValueT,
  type Picked,
  type Res,
} from '../../../../src-main/ipc/contract.js';
import { call, errorOf } from '../../api.js';
import { ErrorBox, Section, StatusPill } from '../../components/common.js';
import { CancelJobButton, ChoiceField, StepNav } from '../../components/step-controls.js';
import { itemsOf, resultOf, type JobView } from '../../jobs.js';
import { useApp, useJob } from '../../store.js';

type Role = DeployNode['roles'][number];
const ROLES: Array<{ id: Role; label: string }> = [
  { id: 'control-plane', label: 'Control plane' },
  { id: 'etcd', label: 'etcd' },
  { id: 'worker', label: 'Worker' },
];

export interface DeployPicture {
  preflight: Array<Extract<DeployItem, { type: 'preflight' }>>;
  task?: Extract<DeployItem, { type: 'task' }>;
  hosts: Array<Extract<DeployItem, { type: 'host' }>>;
  failures: Array<Extract<DeployItem, { type: 'failure' }>>;
}

/** The deploy job's items as the step draws them (items are keyed: one per host, check, failure). */
export function deployPicture(job: Pick<JobView, 'items'> | undefined): DeployPicture {
  const p: DeployPicture = { preflight: [], hosts: [], failures: [] };
  for (const i of itemsOf('deploy', job?.items)) {
    if (i.type === 'preflight') p.preflight.push(i);
    else if (i.type === 'task') p.task = i;
    else if (i.type === 'host') p.hosts.push(i);
    else if (i.type === 'failure') p.failures.push(i);
  }
  return p;
}

function hostState(
  h: DeployPicture['hosts'][number],
  running: boolean,
): { text: string; tone: 'good' | 'bad' | 'accent' | 'muted' } {
  if (h.down) return { text: h.counts.unreachable ? 'Unreachable' : 'Failed', tone: 'bad' };
  if (h.task && running) return { text: h.task, tone: 'accent' };
  return running ? { text: 'Waiting', tone: 'muted' } : { text: 'Done', tone: 'good' };
}

/** Hosts × their current task, with counts: fills in task by task while Ansible runs. */
export function NodeGrid({ picture, running }: { picture: DeployPicture; running: boolean }) {
  if (!picture.hosts.length) return null;
  return (
    <table className="node-grid" aria-label="Nodes">
      <thead>
        <tr>
          <th scope="col">Node</th>
          <th scope="col">Now</th>
          <th scope="col">ok</th>
          <th scope="col">changed</th>
          <th scope="col">failed</th>
          <th scope="col">skipped</th>
        </tr>
      </thead>
      <tbody>
        {picture.hosts.map((h) => {
          const st = hostState(h, running);
          return (
            <tr key={h.id} aria-label={`Node ${h.id}`} className={h.down ? 'row-bad' : undefined}>
              <th scope="row">{h.id}</th>
              <td>
                <StatusPill tone={st.tone}>{st.text}</StatusPill>
              </td>
              <td aria-label="ok">{h.counts.ok}</td>
              <td aria-label="changed">{h.counts.changed}</td>
              <td aria-label="failed">{h.counts.failed + h.counts.unreachable}</td>
              <td aria-label="skipped">{h.counts.skipped}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function PreflightList({ checks }: { checks: DeployPicture['preflight'] }) {
  if (!checks.length) return null;
  return (
    <ul className="item-list compact" aria-label="Preflight checks">
      {checks.map((c) => (
        <li key={c.id}>
          <StatusPill tone={c.ok ? 'good' : 'bad'}>{c.ok ? 'ok' : 'failed'}</StatusPill>{' '}
          <strong>{c.node}</strong> · {c.check}: <span>{c.detail}</span>
          {!c.ok && c.fix ? <p className="hint">Fix: {c.fix}</p> : null}
        </li>
      ))}
    </ul>
  );
}

export function FailureList({ failures }: { failures: DeployPicture['failures'] }) {
  if (!failures.length) return null;
  return (
    <ul className="item-list" aria-label="Failures">
      {failures.map((f) => (
        <li key={f.id}>
          <details open>
            <summary>
              <StatusPill tone="bad">{f.status}</StatusPill> <strong>{f.host}</strong> · {f.task}
            </summary>
            <pre className="failure-message">{f.message}</pre>
          </details>
        </li>
      ))}
    </ul>
  );
}

/**
 * The deploy host's Ansible from the bundle's wheels (ferry venv): made where deploy looks for
 * it, so the next run uses it. Shown only when the served bundle carries wheels.
 */
export function VenvSection({ serveJobId, wheels }: { serveJobId: string; wheels: number }) {
  const job = useJob('venv');
  const track = useApp((s) => s.track);
  const [error, setError] = useState<ErrorValueT | null>(null);
  const running = job?.state === 'running';
  const result = resultOf('venv', job);
  const make = async () => {
    setError(null);
    try {
      const { jobId } = await call('venv.start', { serveJobId });
      track('venv', jobId);
    } catch (err) {
      setError(errorOf(err));
    }
  };
  return (
    <Section title="Ansible on this machine">
      <p className="muted">
        The bundle carries {wheels} Python wheels: Ferry makes a virtualenv from them with no network (python3
        -m venv, pip --no-index --require-hashes) and the deploy runs its ansible-playbook.
      </p>
      <div className="row">
        <button type="button" disabled={running} onClick={() => void make()}>
          {result ? 'Check the virtualenv again' : 'Make the offline virtualenv'}
        </button>
        {running && job ? (
          <CancelJobButton jobId={job.id} label="Cancel" onError={(e) => setError(errorOf(e))} />
        ) : null}
      </div>
      {running ? <p aria-label="Virtualenv progress">Installing the wheels…</p> : null}
      {result ? (
        <p aria-label="Virtualenv result">
          <StatusPill tone="good">{result.reused ? 'Ready' : 'Made'}</StatusPill> Python{' '}
          {result.python.version}, pip {result.pip}, {result.installed.length} wheels
          {result.ansibleCore
            ? `; ansible-playbook [core ${result.ansibleCore.reported}] as the bundle carries`
            : ''}
          . <code>{result.dir}</code>
        </p>
      ) : null}
      {job?.state === 'failed' && job.error ? <ErrorBox error={job.error} title="No virtualenv" /> : null}
      {error ? <ErrorBox error={error} /> : null}
    </Section>
  );
}

const emptyNode = (i: number): DeployNode => ({ name: `node${i}`, address: '', roles: [] });

export function DeployStep() {
  const job = useJob('deploy');
  const track = useApp((s) => s.track);
  const setStep = useApp((s) => s.setStep);
  const style = useApp((s) => s.namingStyle);
  const [status, setStatus] = useState<Res<'serve.status'> | null>(null);
  const [nodes, setNodes] = useState<DeployNode[]>([emptyNode(1)]);
  const [inventory, setInventory] = useState<Picked | null>(null);
  const [sshUser, setSshUser] = useState('');
  const [sshKey, setSshKey] = useState<Picked | null>(null);
  const [become, setBecome] = useState(true);
  const [playbook, setPlaybook] = useState<(typeof DEPLOY_PLAYBOOKS)[number]>('cluster.yml');
  const [error, setError] = useState<ErrorValueT | null>(null);
  const running = job?.state === 'running';

  useEffect(() => {
    call('serve.status', {}).then(setStatus, (e) => setError(errorOf(e)));
  }, []);

  const serveJobId = status?.running ? status.jobId : undefined;
  if (status && !serveJobId) {
    return (
      <Section title="Deploy">
        <p className="muted">Start the services first: the nodes install everything from them.</p>
        <StepNav onBack={() => setStep('offline', 2)} />
      </Section>
    );
  }

  const setNode = (i: number, patch: Partial<DeployNode>) =>
    setNodes((ns) => ns.map((n, j) => (j === i ? { ...n, ...patch } : n)));
  const start = async (preflightOnly: boolean) => {
    setError(null);
    if (!serveJobId) return;
    try {
      const { jobId } = await call('deploy.start', {
        serveJobId,
        style,
        nodes: inventory ? [] : nodes.map((n) => ({ ...n, name: n.name.trim(), address: n.address.trim() })),
        ...(inventory ? { inventory: inventory.token } : {}),
        ...(sshUser.trim() ? { sshUser: sshUser.trim() } : {}),
        ...(sshKey ? { sshKey: sshKey.token } : {}),
        become,
        playbook,
        preflightOnly,
        skipPreflight: false,
      });
      track('deploy', jobId);
    } catch (err) {
      setError(errorOf(err));
    }
  };
  const pick = async (fn: () => Promise<Picked | null>, set: (p: Picked | null) => void) => {
    try {
      const p = await fn();
      if (p) set(p);
    } catch (err) {
      setError(errorOf(err));
    }
  };
  const picture = deployPicture(job);
  const result = resultOf('deploy', job);

  return (
    <div className="stack">
      {serveJobId && status?.python?.wheels ? (
        <VenvSection serveJobId={serveJobId} wheels={status.python.wheels} />
      ) : null}
      <Section
        title="Nodes"
        actions={
          <button
            type="button"
            disabled={running}
            onClick={() => pick(() => call('dialog.pickFolder', { purpose: 'inventory' }), setInventory)}
          >
            Use an inventory folder…
          </button>
        }
      >
        {inventory ? (
          <p>
            Inventory <code>{inventory.label}</code>{' '}
            <button type="button" onClick={() => setInventory(null)} disabled={running}>
              Enter nodes instead
            </button>
          </p>
        ) : (
          <>
            <table className="node-form" aria-label="Node list">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Address</th>
                  {ROLES.map((r) => (
                    <th scope="col" key={r.id}>
                      {r.label}
                    </th>
                  ))}
                  <th />
                </tr>
              </thead>
              <tbody>
                {nodes.map((n, i) => (
                  <tr key={i}>
                    <td>
                      <input
                        aria-label={`Name of node ${i + 1}`}
                        value={n.name}
                        disabled={running}
                        onChange={(e) => setNode(i, { name: e.target.value })}
                      />
                    </td>
                    <td>
                      <input
                        aria-label={`Address of node ${i + 1}`}
                        placeholder="10.0.0.11"
                        value={n.address}
                        disabled={running}
                        onChange={(e) => setNode(i, { address: e.target.value })}
                      />
                    </td>
                    {ROLES.map((r) => (
                      <td key={r.id}>
                        <input
                          type="checkbox"
                          aria-label={`${r.label} on node ${i + 1}`}
                          checked={n.roles.includes(r.id)}
                          disabled={running}
                          onChange={(e) =>
                            setNode(i, {
                              roles: e.target.checked
                                ? [...n.roles, r.id]
                                : n.roles.filter((x) => x !== r.id),
                            })
                          }
                        />
                      </td>
                    ))}
                    <td>
                      <button
                        type="button"
                        aria-label={`Remove node ${i + 1}`}
                        disabled={running || nodes.length === 1}
                        onClick={() => setNodes((ns) => ns.filter((_, j) => j !== i))}
                      >
                        Remove
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p className="muted">
              No roles ticked anywhere: the first node runs the control plane, the first one or three run
              etcd, every node is a worker. Address <code>local</code> is this machine.
            </p>
            <button
              type="button"
              disabled={running}
              onClick={() => setNodes((ns) => [...ns, emptyNode(ns.length + 1)])}
            >
              Add a node
            </button>
          </>
        )}
      </Section>
      <Section title="Access and playbook">
        <div className="row">
          <label className="field">
            <span>SSH user</span>
            <input
              value={sshUser}
              placeholder="root"
              disabled={running}
              onChange={(e) => setSshUser(e.target.value)}
            />
          </label>
          <div className="field">
            <span>SSH key</span>
            <button
              type="button"
              disabled={running}
              onClick={() => pick(() => call('dialog.pickFile', { purpose: 'sshKey' }), setSshKey)}
            >
              {sshKey ? sshKey.label : 'Choose the SSH key…'}
            </button>
          </div>
          <label className="field">
            <input
              type="checkbox"
              checked={become}
              disabled={running}
              onChange={(e) => setBecome(e.target.checked)}
            />
            <span>Become root (sudo)</span>
          </label>
          <ChoiceField
            label="Playbook"
            value={playbook}
            options={DEPLOY_PLAYBOOKS}
            disabled={running}
            onChange={(p) => setPlaybook(p)}
          />
        </div>
        <div className="row">
          <button type="button" disabled={running || !serveJobId} onClick={() => start(true)}>
            Check the nodes
          </button>
          <button
            type="button"
            className="primary"
            disabled={running || !serveJobId}
            onClick={() => start(false)}
          >
            {job && job.state !== 'running' ? `Run ${playbook} again` : `Run ${playbook}`}
          </button>
          {running && job ? (
            <CancelJobButton jobId={job.id} label="Cancel" onError={(e) => setError(errorOf(e))} />
          ) : null}
        </div>
        {error ? <ErrorBox error={error} /> : null}
      </Section>
      {job ? (
        <Section title="Progress">
          <PreflightList checks={picture.preflight} />
          {picture.task ? (
            <p aria-label="Current task">
              Task {picture.task.n}: <strong>{picture.task.name}</strong>
            </p>
          ) : null}
          <NodeGrid picture={picture} running={running} />
          <FailureList failures={picture.failures} />
          {job.state === 'failed' && job.error ? (
            <ErrorBox error={job.error} title="The deploy stopped" />
          ) : null}
          {job.state === 'cancelled' ? <p>Cancelled: Ansible was stopped. Run it again to resume.</p> : null}
          {result ? (
            <p aria-label="Deploy result">
              {result.ok ? (
                <StatusPill tone="good">Deployed</StatusPill>
              ) : (
                <StatusPill tone="bad">Failed</StatusPill>
              )}{' '}
              {result.exitCode === 0 && !picture.hosts.length
                ? 'Every check passed.'
                : `${result.playbook} ${result.ok ? 'ran' : `stopped (exit ${result.exitCode})`} in ${Math.round(result.seconds)} s.`}{' '}
              Log: <code>{result.logFile}</code>
            </p>
          ) : null}
        </Section>
      ) : null}
      <StepNav onBack={() => setStep('offline', 2)} />
    </div>
  );
}
