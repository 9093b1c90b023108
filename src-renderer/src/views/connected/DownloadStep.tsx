import { useEffect, useState } from 'react';
import type { Drive, ErrorValueT, FetchItem } from '../../../../src-main/ipc/contract.js';
import { call, errorOf } from '../../api.js';
import { ErrorBox, ProgressBar, ProgressPanel, Section, StatusPill } from '../../components/common.js';
import { CancelJobButton, StepNav } from '../../components/step-controls.js';
import { bytes } from '../../format.js';
import { itemsOf } from '../../jobs.js';
import { roomFromDownloads, type RoomGroup } from '../../../../src-main/core/plan/room.js';
import { useApp, useJob } from '../../store.js';
import { RoomChart } from './ClusterStep.js';
import { DrivesAtRisk } from './DriveStep.js';

export function fetchItems(items: Array<Record<string, unknown>>): FetchItem[] {
  // The latest news per artifact wins: a retried failure that then succeeds shows as done.
  const byId = new Map<string, FetchItem>();
  for (const i of itemsOf('fetch', items))
    if (typeof i.id === 'string' && typeof i.status === 'string') byId.set(i.id, i);
  return [...byId.values()].filter((i) => i.status !== 'removed');
}

/** What the finished download took, per component (core/plan/room, as `ferry fetch` prints it). */
export function roomFromItems(items: FetchItem[]): RoomGroup[] {
  return roomFromDownloads(items);
}

/**
 * One in-flight artifact with its own byte bar. Fetch repeats its 'started' item about once a
 * second with the bytes on disk (resumed ones included) and, once a response or the image's blob
 * list said it, the total; until then only the bytes so far are shown.
 */
export function InFlight({ items }: { items: FetchItem[] }) {
  return (
    <ul className="inflight" aria-label="Downloading now">
      {items.map((i) => {
        const have = i.bytes ?? 0;
        const pct = i.total ? Math.min(100, (have / i.total) * 100) : null;
        return (
          <li key={i.id}>
            <span className="inflight-name" title={i.name}>
              {i.name}
            </span>
            <span className="muted small">{i.kind}</span>
            {pct !== null ? (
              <ProgressBar value={pct} label={`${i.name} progress`} />
            ) : (
              <span className="bar bar-waiting" aria-hidden="true" />
            )}
            <span className="muted small inflight-bytes">
              {i.total ? `${bytes(have)} of ${bytes(i.total)}` : have ? bytes(have) : 'starting'}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

export function DownloadStep() {
  const job = useJob('fetch');
  const choices = useApp((s) => s.choices);
  const track = useApp((s) => s.track);
  const setStep = useApp((s) => s.setStep);
  const [error, setError] = useState<ErrorValueT | null>(null);
  const [paused, setPaused] = useState(false);
  const plan = useApp((s) => s.plan);
  // The drive is chosen after the download; its room is judged before it (sizes from plan.sizes).
  const [drives, setDrives] = useState<Drive[]>([]);
  useEffect(() => {
    call('drives.list', {}).then(setDrives, () => undefined); // the drive step reports list errors
    return window.ferry?.onEvent((e) => {
      if (e.channel === 'drives') setDrives(e.drives);
    });
  }, []);

  const run = async (fn: () => Promise<{ jobId: string }>) => {
    setError(null);
    try {
      const { jobId } = await fn();
      setPaused(false);
      track('fetch', jobId);
    } catch (err) {
      setError(errorOf(err));
    }
  };
  const items = job ? fetchItems(job.items) : [];
  // A resumed download only fetches what was left: the room picture sums every fetch of the session.
  const allJobs = useApp((s) => s.jobs);
  const downloaded = new Map<string, FetchItem>();
  for (const j of Object.values(allJobs)) {
    if (j.kind !== 'fetch') continue;
    for (const i of fetchItems(j.items))
      if (i.status === 'done' && i.bytes !== undefined) downloaded.set(i.id, i);
  }
  const room = roomFromItems([...downloaded.values()]);
  const failed = items.filter((i) => i.status === 'failed');
  const active = items.filter((i) => i.status === 'started');
  const done = items.filter((i) => i.status === 'done' || i.status === 'present');
  const running = job?.state === 'running';

  return (
    <div className="stack">
      <Section
        title="Download"
        actions={
          <div className="row">
            {!job || (!running && !paused) ? (
              <button
                type="button"
                className="primary"
                onClick={() => void run(() => call('fetch.start', { choices }))}
              >
                {job ? 'Download again' : 'Start download'}
              </button>
            ) : null}
            {running ? (
              <>
                <button
                  type="button"
                  onClick={() =>
                    call('fetch.pause', { jobId: job.id }).then(
                      () => setPaused(true),
                      (e) => setError(errorOf(e)),
                    )
                  }
                >
                  Pause
                </button>
                <CancelJobButton jobId={job.id} label="Cancel" onError={(e) => setError(errorOf(e))} />
              </>
            ) : null}
            {job && !running && (paused || job.state === 'cancelled') ? (
              <button
                type="button"
                className="primary"
                onClick={() => void run(() => call('fetch.resume', { jobId: job.id }))}
              >
                Resume
              </button>
            ) : null}
            {job && !running && failed.length ? (
              <button
                type="button"
                onClick={() => void run(() => call('fetch.retryFailed', { jobId: job.id }))}
              >
                Retry {failed.length} failed
              </button>
            ) : null}
          </div>
        }
      >
        {job ? (
          <>
            <p>
              {running ? <StatusPill tone="accent">Downloading</StatusPill> : null}
              {job.state === 'done' ? <StatusPill tone="good">Complete</StatusPill> : null}
              {job.state === 'cancelled' ? (
                <StatusPill tone="warn">{paused ? 'Paused' : 'Cancelled'}</StatusPill>
              ) : null}
              {job.state === 'failed' ? <StatusPill tone="bad">Failed</StatusPill> : null}
            </p>
            <ProgressPanel progress={job.progress} label="Download progress" state={job.state} />
            {job.state === 'failed' && job.error ? (
              <ErrorBox error={job.error} title="The download stopped" />
            ) : null}
          </>
        ) : (
          <p className="muted">
            Everything in the plan is downloaded, checked against its published checksum, and kept in a signed
            bundle.
          </p>
        )}
        <DrivesAtRisk drives={drives} need={plan.status === 'ready' ? plan.value : undefined} />
        {error ? <ErrorBox error={error} /> : null}
      </Section>
      {job?.state === 'done' && room.length ? (
        <Section title="What took the room">
          <RoomChart groups={room} label="Downloaded by component" />
        </Section>
      ) : null}
      {failed.length ? (
        <Section title={`Failed (${failed.length})`}>
          <ul className="item-list" aria-label="Failed downloads">
            {failed.map((i) => (
              <li key={i.id} className="item-bad">
                <strong>{i.name}</strong>
                <span>{i.error?.message}</span>
                {i.error?.hint ? <span className="hint">{i.error.hint}</span> : null}
              </li>
            ))}
          </ul>
        </Section>
      ) : null}
      {running && active.length ? (
        <Section title={`Downloading now (${active.length})`}>
          <InFlight items={active} />
        </Section>
      ) : null}
      {done.length ? (
        <Section title={`Finished (${done.length})`}>
          <ul className="item-list compact" aria-label="Finished downloads">
            {done.slice(-200).map((i) => (
              <li key={i.id}>
                <span>{i.name}</span>
                <span className="muted">
                  {i.status === 'present' ? 'already in the bundle' : bytes(i.bytes ?? null)}
                </span>
              </li>
            ))}
          </ul>
        </Section>
      ) : null}
      <StepNav
        onBack={() => setStep('connected', 0)}
        next={{
          label: 'Next: drive',
          disabled: job?.state !== 'done',
          onClick: () => setStep('connected', 2),
        }}
      />
    </div>
  );
}
