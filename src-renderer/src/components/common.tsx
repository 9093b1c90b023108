import { useState, type ReactNode } from 'react';
import type { ErrorValueT, Progress } from '../../../src-main/ipc/contract.js';
import { call, errorOf } from '../api.js';
import { bytes, eta, percent, speed } from '../format.js';
import { useApp } from '../store.js';

export function ErrorBox({ error, title }: { error: ErrorValueT; title?: string }) {
  const unsupported = error.code === 'UNSUPPORTED';
  return (
    <div className={`notice ${unsupported ? 'notice-warn' : 'notice-bad'}`} role="alert">
      <strong>{title ?? (unsupported ? 'Not available yet' : 'Something went wrong')}</strong>
      <p>
        {error.artifact ? <code className="artifact">{error.artifact}</code> : null} {error.message}
      </p>
      {error.hint ? <p className="hint">What to do: {error.hint}</p> : null}
      <span className="code">{error.code}</span>
    </div>
  );
}

export function ProgressBar({
  value,
  label,
  tone = 'accent',
}: {
  value: number;
  label: string;
  tone?: 'accent' | 'good' | 'bad';
}) {
  return (
    <div
      className={`bar bar-${tone}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(value)}
    >
      <div className="bar-fill" style={{ width: `${value}%` }} />
    </div>
  );
}

/** One tile of a `<dl className="stats">` grid: the div keeps its term and value together. */
export function Stat({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

export function ProgressPanel({
  progress,
  label,
  state,
  bad = false,
}: {
  progress: Progress;
  label: string;
  state: string;
  /** Finished, but with problems (a verification that found damage). */
  bad?: boolean;
}) {
  const pct = percent(progress.bytesDone, progress.bytesTotal);
  const tone = state === 'failed' || bad ? 'bad' : state === 'done' ? 'good' : 'accent';
  return (
    <section className="progress-panel" aria-label={label}>
      <div className="progress-head">
        <span className="phase">{progress.phase}</span>
        <span className="pct">{progress.bytesTotal ? `${pct.toFixed(1)} %` : ''}</span>
      </div>
      <ProgressBar value={state === 'done' ? 100 : pct} label={label} tone={tone} />
      <dl className="stats">
        <Stat label="Done">
          {bytes(progress.bytesDone)}
          {progress.bytesTotal ? ` of ${bytes(progress.bytesTotal)}` : ''}
        </Stat>
        <Stat label="Speed">{state === 'running' ? speed(progress.speed) : '—'}</Stat>
        <Stat label="Time left">{state === 'running' ? eta(progress.eta) : '—'}</Stat>
        <Stat label="Items">
          {progress.itemsDone}
          {progress.itemsTotal !== null ? ` of ${progress.itemsTotal}` : ''}
          {progress.itemsFailed ? ` · ${progress.itemsFailed} failed` : ''}
        </Stat>
      </dl>
      {progress.current && state === 'running' ? <p className="current">{progress.current}</p> : null}
    </section>
  );
}

export function Section({
  title,
  children,
  actions,
}: {
  title: string;
  children: ReactNode;
  actions?: ReactNode;
}) {
  const id = `h-${title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <section className="card" aria-labelledby={id}>
      <header className="card-head">
        <h2 id={id}>{title}</h2>
        {actions ? <div className="card-actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

/** A block of generated text with Copy and Save buttons. */
export function CopyBlock({
  title,
  text,
  onSave,
}: {
  title: string;
  text: string;
  onSave?: () => Promise<string | null>;
}) {
  const [note, setNote] = useState('');
  return (
    <div className="copy-block">
      <div className="copy-head">
        <h3>{title}</h3>
        <div className="row">
          <button
            type="button"
            onClick={() =>
              call('app.copyText', { text }).then(
                () => setNote('Copied'),
                (e) => setNote(errorOf(e).message),
              )
            }
            aria-label={`Copy ${title}`}
          >
            Copy
          </button>
          {onSave ? (
            <button
              type="button"
              onClick={() =>
                onSave().then(
                  (p) => setNote(p ? `Saved to ${p}` : ''),
                  (e) => setNote(errorOf(e).message),
                )
              }
              aria-label={`Save ${title}`}
            >
              Save…
            </button>
          ) : null}
        </div>
      </div>
      <pre tabIndex={0} aria-label={title}>
        {text}
      </pre>
      <p className="note" aria-live="polite">
        {note}
      </p>
    </div>
  );
}

export function StatusPill({
  tone,
  children,
}: {
  tone: 'good' | 'bad' | 'warn' | 'muted' | 'accent';
  children: ReactNode;
}) {
  return <span className={`pill pill-${tone}`}>{children}</span>;
}

/** Shown in place of a step whose core module this build does not have. */
export function useModule(name: string): boolean {
  return useApp((s) => s.info?.modules[name] ?? true);
}

export function Missing({ what }: { what: string }) {
  return (
    <div className="notice notice-warn" role="status">
      <strong>Not in this build</strong>
      <p>
        {what} is not available in this build of Ferry yet. The step is shown so you can see what comes next.
      </p>
    </div>
  );
}
