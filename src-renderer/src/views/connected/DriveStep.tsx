import { useCallback, useEffect, useState } from 'react';
import type { Drive, ErrorValueT, ExportSummary, Picked } from '../../../../src-main/ipc/contract.js';
import { call, errorOf } from '../../api.js';
import { ErrorBox, ProgressPanel, Section, StatusPill } from '../../components/common.js';
import { CancelJobButton } from '../../components/step-controls.js';
import { bytes } from '../../format.js';
import { resultOf } from '../../jobs.js';
import { useApp, useJob } from '../../store.js';

type Target = { kind: 'drive'; drive: Drive } | { kind: 'folder' | 'archive'; picked: Picked };

export function ExportResult({ result }: { result: ExportSummary }) {
  return (
    <div className="result" aria-label="Export result">
      <p>
        <StatusPill tone="good">Exported and read back</StatusPill> {result.files} files,{' '}
        {bytes(result.bytesWritten)} written
        {result.bytesReused ? `, ${bytes(result.bytesReused)} already there` : ''} to{' '}
        <code>{result.label}</code>
      </p>
      <p className="muted">Compare this fingerprint with the one the offline side shows:</p>
      <p className="fingerprint" aria-label="Bundle fingerprint">
        {result.fingerprint ?? 'unsigned'}
      </p>
      <p className="muted">Bundle {result.bundleId}</p>
    </div>
  );
}

/** FAT32 keeps no file of 4 GiB or more. */
const FAT32_MAX_FILE = 2 ** 32 - 1;

/** The planned bundle's size as the drive checks need it (the plan summary once sized). */
export interface RoomNeed {
  bytes: number | null;
  // Undefined as well as absent, as the plan summary's schema gives them.
  largestFile?: number | null | undefined;
  /** A lower bound while some artifact is not sized: a drive smaller than that cannot do. */
  knownBytes?: number | undefined;
}

/** Why a drive will not hold the planned bundle, judged from the sizes before downloading. */
export function roomWarnings(d: Drive, need?: RoomNeed): string[] {
  const out: string[] = [];
  if (!need) return out;
  if (need.bytes !== null && d.free !== null && need.bytes > d.free)
    out.push(`The bundle needs ${bytes(need.bytes)}; this drive has ${bytes(d.free)} free.`);
  else if (need.bytes === null && need.knownBytes && d.free !== null && need.knownBytes > d.free)
    out.push(`The bundle needs at least ${bytes(need.knownBytes)}; this drive has ${bytes(d.free)} free.`);
  if (/^(vfat|fat|fat32|msdos)$/i.test(d.fsType) && (need.largestFile ?? 0) > FAT32_MAX_FILE)
    out.push(
      `FAT32 cannot hold a file of ${bytes(need.largestFile ?? 0)}: use exFAT or ext4, or an archive in parts.`,
    );
  return out;
}

/** The removable drives that will not hold the bundle, each with why (the drive list's rule). */
export function drivesAtRisk(
  drives: readonly Drive[],
  need?: RoomNeed,
): Array<{ drive: Drive; why: string[] }> {
  return drives
    .filter((d) => d.removable)
    .map((drive) => ({ drive, why: roomWarnings(drive, need) }))
    .filter((r) => r.why.length > 0);
}

/**
 * Before a byte is downloaded: the inserted drives that will not take this bundle, so the
 * technician can fetch a bigger (or exFAT) drive, or plan an archive in parts, while it downloads.
 */
export function DrivesAtRisk({ drives, need }: { drives: readonly Drive[]; need?: RoomNeed | undefined }) {
  const risky = drivesAtRisk(drives, need);
  if (!risky.length) return null;
  return (
    <div className="notice notice-warn" role="note" aria-label="Drives that will not hold the bundle">
      <p>
        <strong>
          {risky.length === 1 ? 'This drive' : `These ${risky.length} drives`} will not hold the bundle:
        </strong>
      </p>
      <ul>
        {risky.map(({ drive, why }) => (
          <li key={drive.id}>
            <strong>{drive.label || drive.mount}</strong> ({drive.fsType}):{' '}
            {why.map((w) => (
              <span key={w} className="warn-text">
                ⚠ {w}{' '}
              </span>
            ))}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function DriveList({
  drives,
  selected,
  onSelect,
  need,
}: {
  drives: Drive[];
  selected?: string | undefined;
  onSelect(d: Drive): void;
  /** The planned bundle's size, to warn on drives that will not hold it (undefined: not known yet). */
  need?: RoomNeed | undefined;
}) {
  return (
    <ul className="choice-list" aria-label="Drives">
      {drives.map((d) => (
        <li key={d.id}>
          <button
            type="button"
            className={`choice ${selected === d.id ? 'chosen' : ''}`}
            aria-pressed={selected === d.id}
            onClick={() => onSelect(d)}
          >
            <strong>{d.label || d.mount}</strong>
            <span className="muted">
              {d.fsType} · {bytes(d.free)} free of {bytes(d.size)}
            </span>
            {[...d.warnings, ...roomWarnings(d, need)].map((w) => (
              <span key={w} className="warn-text">
                ⚠ {w}
              </span>
            ))}
          </button>
        </li>
      ))}
    </ul>
  );
}

export function DriveStep() {
  const job = useJob('export');
  const track = useApp((s) => s.track);
  const setStep = useApp((s) => s.setStep);
  const archiveOk = useApp((s) => s.info?.modules.archive !== false);
  const plan = useApp((s) => s.plan);
  const [drives, setDrives] = useState<Drive[] | null>(null);
  const [target, setTarget] = useState<Target | null>(null);
  const [error, setError] = useState<ErrorValueT | null>(null);
  const [drivesError, setDrivesError] = useState<ErrorValueT | null>(null);

  const refresh = useCallback(() => {
    call('drives.list', {}).then(
      (d) => {
        setDrives(d);
        setDrivesError(null);
      },
      (e) => setDrivesError(errorOf(e)),
    );
  }, []);
  useEffect(refresh, [refresh]);
  useEffect(
    () =>
      window.ferry?.onEvent((e) => {
        if (e.channel === 'drives') setDrives(e.drives);
      }),
    [],
  );

  const pick = async (kind: 'folder' | 'archive') => {
    try {
      // Both go into a folder: a bundle folder, or tar parts with their index.
      const picked = await call('dialog.pickFolder', { purpose: 'export' });
      if (picked) setTarget({ kind, picked });
    } catch (err) {
      setError(errorOf(err));
    }
  };

  const start = async () => {
    if (!target) return;
    setError(null);
    try {
      const t =
        target.kind === 'drive'
          ? { kind: 'drive' as const, driveId: target.drive.id }
          : { kind: target.kind, token: target.picked.token };
      const { jobId } = await call('export.start', { target: t });
      track('export', jobId);
    } catch (err) {
      setError(errorOf(err));
    }
  };
  const running = job?.state === 'running';
  const result = resultOf('export', job) ?? null;

  return (
    <div className="stack">
      <Section
        title="Where should the bundle go?"
        actions={
          <button type="button" onClick={refresh}>
            Refresh drives
          </button>
        }
      >
        {drives && drives.length ? (
          <DriveList
            drives={drives}
            selected={target?.kind === 'drive' ? target.drive.id : undefined}
            onSelect={(d) => setTarget({ kind: 'drive', drive: d })}
            need={plan.status === 'ready' ? plan.value : undefined}
          />
        ) : null}
        {drives && !drives.length ? (
          <p className="muted">No removable drive found. Insert one, or choose a folder or an archive.</p>
        ) : null}
        {drivesError ? <ErrorBox error={drivesError} title="Drives cannot be listed" /> : null}
        <div className="row">
          <button type="button" onClick={() => void pick('folder')}>
            Choose a folder…
          </button>
          {archiveOk ? (
            <button type="button" onClick={() => void pick('archive')}>
              Archive parts in a folder…
            </button>
          ) : null}
        </div>
        {target && target.kind !== 'drive' ? (
          <p>
            {target.kind === 'archive' ? 'Archive parts into' : 'Bundle folder'}:{' '}
            <code>{target.picked.label}</code>
          </p>
        ) : null}
        <p className="muted">
          Everything written is read back from the drive and checked before the export counts as done.
        </p>
        <div className="row end">
          <button type="button" onClick={() => setStep('connected', 1)}>
            Back
          </button>
          <button
            type="button"
            className="primary"
            disabled={!target || running}
            onClick={() => void start()}
          >
            Export
          </button>
          {running && job ? <CancelJobButton jobId={job.id} label="Cancel" /> : null}
        </div>
        {error ? <ErrorBox error={error} /> : null}
      </Section>
      {job ? (
        <Section title="Export">
          <ProgressPanel progress={job.progress} label="Export progress" state={job.state} />
          {job.state === 'failed' && job.error ? (
            <ErrorBox error={job.error} title="The export stopped" />
          ) : null}
          {result ? <ExportResult result={result} /> : null}
        </Section>
      ) : null}
    </div>
  );
}
