import { call } from '../api.js';

/**
 * The Back / Next row under every step. Next stays disabled until the step's work is done, so a
 * technician cannot walk past a check that has not passed.
 */
export function StepNav({
  onBack,
  next,
}: {
  onBack?: () => void;
  next?: { label: string; disabled: boolean; onClick(): void };
}) {
  return (
    <div className="row end">
      {onBack ? (
        <button type="button" onClick={onBack}>
          Back
        </button>
      ) : null}
      {next ? (
        <button type="button" className="primary" disabled={next.disabled} onClick={next.onClick}>
          {next.label}
        </button>
      ) : null}
    </div>
  );
}

/** Stops a running job; where the step shows its own errors, a failed cancel goes there too. */
export function CancelJobButton({
  jobId,
  label,
  onError,
}: {
  jobId: string;
  label: string;
  onError?: (e: unknown) => void;
}) {
  const cancel = () => {
    const sent = call('jobs.cancel', { id: jobId });
    void (onError ? sent.catch(onError) : sent);
  };
  return (
    <button type="button" className="danger" onClick={cancel}>
      {label}
    </button>
  );
}

/** A TCP port input for a service, locked while the service runs. */
export function PortField({
  label,
  value,
  disabled,
  onChange,
}: {
  label: string;
  value: number;
  disabled: boolean;
  onChange(port: number): void;
}) {
  return (
    <label className="field narrow">
      <span>{label}</span>
      <input
        aria-label={label}
        type="number"
        min={1}
        max={65535}
        value={value}
        disabled={disabled}
        onChange={(e) => onChange(Number(e.target.value))}
      />
    </label>
  );
}

/**
 * A labelled select over a fixed list of values. The value handed back is the list's own, found
 * by equality, so a choice stays typed as the list is and no caller casts the event's string.
 */
export function ChoiceField<T extends string>({
  label,
  value,
  options,
  disabled,
  onChange,
}: {
  label: string;
  value: T;
  options: readonly T[];
  disabled?: boolean;
  onChange(value: T): void;
}) {
  return (
    <label className="field">
      <span>{label}</span>
      <select
        aria-label={label}
        value={value}
        disabled={disabled}
        onChange={(e) => onChange(options.find((o) => o === e.target.value) ?? value)}
      >
        {options.map((o) => (
          <option key={o}>{o}</option>
        ))}
      </select>
    </label>
  );
}
