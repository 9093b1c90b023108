import { useState, type ReactNode } from 'react';
import type { BundleSummary, ErrorValueT } from '../../../../../src-main/ipc/contract.js';
import { call, errorOf } from '../../../api.js';
import { ErrorBox, ProgressPanel, Section } from '../../../components/common.js';
import { CancelJobButton, StepNav } from '../../../components/step-controls.js';
import { useApp, useJob } from '../../../store.js';
import { IntegrityMap, Legend, TileDetails } from './IntegrityMap.js';
import { tilesFrom } from './tiles.js';

/**
 * A bundle check run as a job (a folder's verify, an archive's import): both take the same
 * trust choices, remember them for the services step, and feed the same integrity map.
 */
export function useCheckJob(kind: 'import' | 'verify', channel: 'import.start' | 'verify.start') {
  const job = useJob(kind);
  const track = useApp((s) => s.track);
  const selected = useApp((s) => s.selectedTile);
  const selectTile = useApp((s) => s.selectTile);
  const setTrust = useApp((s) => s.setTrust);
  const [error, setError] = useState<ErrorValueT | null>(null);
  const [allowUntrusted, setAllowUntrusted] = useState(false);
  const [allowUnsigned, setAllowUnsigned] = useState(false);

  const start = async (bundle: BundleSummary) => {
    setError(null);
    selectTile(null);
    try {
      const { jobId } = await call(channel, {
        bundle: { token: bundle.token },
        allowUntrusted,
        allowUnsigned,
      });
      setTrust({ allowUntrusted, allowUnsigned });
      track(kind, jobId);
    } catch (err) {
      setError(errorOf(err));
    }
  };
  return {
    job,
    error,
    start,
    selected,
    selectTile,
    trust: { allowUntrusted, allowUnsigned, setAllowUntrusted, setAllowUnsigned },
  };
}

/** The frame both checks share: start/stop, trust choices, progress, the map, the summary. */
export function CheckPanel(p: {
  check: ReturnType<typeof useCheckJob>;
  bundle: BundleSummary;
  title: string;
  startLabel: string;
  againLabel: string;
  progressLabel: string;
  stoppedTitle: string;
  /** Finished, but with problems. */
  bad: boolean;
  intro: ReactNode;
  /** Shown under the progress, such as the archive's parts. */
  extra?: ReactNode;
  summary: ReactNode;
  canContinue: boolean;
}) {
  const { job, error, selected, selectTile } = p.check;
  const setStep = useApp((s) => s.setStep);
  const tiles = tilesFrom(job);
  const sel = tiles.find((t) => t.id === selected);
  const running = job?.state === 'running';

  return (
    <div className="stack">
      <Section
        title={p.title}
        actions={
          <div className="row">
            {running && job ? (
              <CancelJobButton jobId={job.id} label="Stop" />
            ) : (
              <button type="button" className="primary" onClick={() => void p.check.start(p.bundle)}>
                {job ? p.againLabel : p.startLabel}
              </button>
            )}
          </div>
        }
      >
        {p.intro}
        <TrustChecks bundle={p.bundle} {...p.check.trust} />
        {job ? (
          <ProgressPanel progress={job.progress} label={p.progressLabel} state={job.state} bad={p.bad} />
        ) : null}
        {p.extra}
        {job?.state === 'failed' && job.error ? <ErrorBox error={job.error} title={p.stoppedTitle} /> : null}
        {error ? <ErrorBox error={error} /> : null}
      </Section>
      {tiles.length ? (
        <Section title="Integrity map">
          <Legend tiles={tiles} />
          <IntegrityMap tiles={tiles} selected={selected} onSelect={selectTile} />
          {sel ? <TileDetails tile={sel} /> : null}
        </Section>
      ) : null}
      {p.summary}
      <StepNav
        onBack={() => setStep('offline', 0)}
        next={{ label: 'Next: services', disabled: !p.canContinue, onClick: () => setStep('offline', 2) }}
      />
    </div>
  );
}

function TrustChecks(p: {
  bundle: BundleSummary;
  allowUntrusted: boolean;
  allowUnsigned: boolean;
  setAllowUntrusted(v: boolean): void;
  setAllowUnsigned(v: boolean): void;
}) {
  const sig = p.bundle.signature.status;
  if (sig === 'unknown-key')
    return (
      <label className="check">
        <input
          type="checkbox"
          checked={p.allowUntrusted}
          onChange={(e) => p.setAllowUntrusted(e.target.checked)}
        />
        Check it anyway: I compared fingerprint {p.bundle.signature.fingerprint} with the connected side
      </label>
    );
  if (sig === 'unsigned')
    return (
      <label className="check">
        <input
          type="checkbox"
          checked={p.allowUnsigned}
          onChange={(e) => p.setAllowUnsigned(e.target.checked)}
        />
        Check it anyway: I accept an unsigned bundle
      </label>
    );
  return null;
}
