import { useState, type ReactNode } from 'react';
import type {
  BundleSummary,
  ErrorValueT,
  ImportItem,
  ImportSummary,
  VerifyItem,
  VerifySummary,
} from '../../../../src-main/ipc/contract.js';
import { call, errorOf } from '../../api.js';
import { ErrorBox, ProgressPanel, Section, StatusPill } from '../../components/common.js';
import { CancelJobButton, StepNav } from '../../components/step-controls.js';
import { bytes, when } from '../../format.js';
import { useApp, useJob } from '../../store.js';
import { KIND_ORDER, kindTitle } from '../../../../src-main/core/kinds/labels.js';
import { itemsOf, resultOf, type JobView } from '../../jobs.js';
import { SignatureBadge } from './MediaStep.js';

export type TileState = 'waiting' | 'checking' | 'good' | 'damaged' | 'missing';
export interface Tile {
  id: string;
  kind: string;
  name: string;
  bytes: number;
  state: TileState;
  detail?: Extract<VerifyItem, { type: 'verify.artifact' }>;
  /** From an import: what was wrong with its files, in one line. */
  message?: string;
}

/**
 * The integrity map as a pure function of a verify or import job's items (so a reload redraws
 * it). Both jobs announce every artifact as waiting, then mark it checking and then its outcome.
 */
export function tilesFrom(job: Pick<JobView, 'items' | 'state'> | undefined): Tile[] {
  if (!job) return [];
  const tiles = new Map<string, Tile>();
  for (const item of itemsOf(['verify', 'import'], job.items)) {
    if (item.type === 'artifact') {
      const t = tiles.get(item.id);
      if (item.state === 'waiting' || !t) {
        tiles.set(item.id, {
          id: item.id,
          kind: item.kind,
          name: item.name,
          bytes: item.bytes,
          state: item.state,
          ...(item.message ? { message: item.message } : {}),
        });
      } else if (item.state !== 'checking' || t.state === 'waiting') {
        t.state = item.state;
        if (item.message) t.message = item.message;
      }
    } else if (item.type === 'verify.plan') {
      for (const a of item.artifacts)
        tiles.set(a.id, { id: a.id, kind: a.kind, name: a.name, bytes: a.bytes, state: 'waiting' });
    } else if (item.type === 'verify.checking') {
      const t = tiles.get(item.id);
      if (t && t.state === 'waiting') t.state = 'checking';
    } else if (item.type === 'verify.artifact') {
      const state: TileState =
        item.status === 'ok' ? 'good' : item.status === 'missing' ? 'missing' : 'damaged';
      tiles.set(item.id, {
        id: item.id,
        kind: item.kind,
        name: item.name,
        bytes: item.bytes,
        state,
        detail: item,
      });
    }
  }
  return [...tiles.values()];
}

export type PartState = Extract<ImportItem, { type: 'part' }>['state'];

/** Archive parts and their last known state, in index order, from an import job's items. */
export function partsFrom(
  job: Pick<JobView, 'items'> | undefined,
): Array<{ name: string; state: PartState; message?: string }> {
  const parts = new Map<string, { name: string; state: PartState; message?: string }>();
  for (const item of itemsOf('import', job?.items)) {
    if (item.type === 'part')
      parts.set(item.name, {
        name: item.name,
        state: item.state,
        ...(item.message ? { message: item.message } : {}),
      });
  }
  return [...parts.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function PartsList({ parts }: { parts: ReturnType<typeof partsFrom> }) {
  return (
    <ul className="parts" aria-label="Archive parts">
      {parts.map((p) => (
        <li key={p.name} className={`part part-${p.state}`} data-state={p.state}>
          <code>{p.name}</code>{' '}
          <StatusPill tone={p.state === 'good' ? 'good' : p.state === 'checking' ? 'accent' : 'bad'}>
            {p.state}
            {p.message ? ` · ${p.message}` : ''}
          </StatusPill>
        </li>
      ))}
    </ul>
  );
}

export function groupTiles(tiles: Tile[]): Array<{ kind: string; title: string; tiles: Tile[] }> {
  // A kind this renderer does not know (a newer main's) goes after the known ones.
  const rank = (k: string) => {
    const i = (KIND_ORDER as readonly string[]).indexOf(k);
    return i < 0 ? KIND_ORDER.length : i;
  };
  const kinds = [...new Set(tiles.map((t) => t.kind))].sort((a, b) => rank(a) - rank(b));
  return kinds.map((kind) => ({
    kind,
    title: kindTitle(kind),
    tiles: tiles.filter((t) => t.kind === kind),
  }));
}

const STATE_LABEL: Record<TileState, string> = {
  waiting: 'waiting',
  checking: 'checking',
  good: 'good',
  damaged: 'damaged',
  missing: 'missing',
};

export function IntegrityMap({
  tiles,
  selected,
  onSelect,
}: {
  tiles: Tile[];
  selected: string | null;
  onSelect(id: string | null): void;
}) {
  return (
    <div className="map" aria-label="Integrity map">
      {groupTiles(tiles).map((g) => (
        <section key={g.kind} className="map-group" aria-label={g.title}>
          <h3>
            {g.title} <span className="muted">({g.tiles.length})</span>
          </h3>
          <ul className="tiles">
            {g.tiles.map((t) => {
              const bad = t.state === 'damaged' || t.state === 'missing';
              return (
                <li key={t.id}>
                  <button
                    type="button"
                    className={`tile tile-${t.state} ${selected === t.id ? 'tile-selected' : ''}`}
                    title={`${t.name}: ${STATE_LABEL[t.state]}`}
                    aria-label={`${t.name}: ${STATE_LABEL[t.state]}`}
                    data-state={t.state}
                    disabled={!bad}
                    onClick={() => onSelect(selected === t.id ? null : t.id)}
                  />
                </li>
              );
            })}
          </ul>
        </section>
      ))}
    </div>
  );
}

export function Legend({ tiles }: { tiles: Tile[] }) {
  const count = (s: TileState) => tiles.filter((t) => t.state === s).length;
  return (
    <ul className="legend" aria-label="Legend">
      {(['waiting', 'checking', 'good', 'damaged', 'missing'] as TileState[]).map((s) => (
        <li key={s}>
          <span className={`tile tile-${s} tile-mini`} aria-hidden="true" /> {STATE_LABEL[s]}{' '}
          <strong>{count(s)}</strong>
        </li>
      ))}
    </ul>
  );
}

export function TileDetails({ tile }: { tile: Tile }) {
  const d = tile.detail;
  return (
    <section className="details notice notice-bad" aria-label="Damaged artifact details">
      <strong>
        {tile.name} is {tile.state}
      </strong>
      {d?.problems.map((p) => (
        <dl key={p.path} className="kv">
          <dt>Path</dt>
          <dd>
            <code>{p.path}</code>
          </dd>
          <dt>Problem</dt>
          <dd>
            {p.status}
            {p.error ? ` (${p.error})` : ''}
          </dd>
          <dt>Expected</dt>
          <dd>
            <code>sha256:{p.expectedSha256}</code> · {bytes(p.expectedSize)}
          </dd>
          <dt>Actual</dt>
          <dd>
            {p.actualSha256 ? <code>sha256:{p.actualSha256}</code> : 'not there'}
            {p.actualSize !== undefined ? ` · ${bytes(p.actualSize)}` : ''}
          </dd>
        </dl>
      ))}
      {!d && tile.message ? <p>{tile.message}</p> : null}
      {d?.hint ? <p className="hint">What to do: {d.hint}</p> : null}
      {!d ? (
        <p className="hint">
          What to do: import a second copy of the media (only the damaged files are taken from it), or export
          this artifact again on the connected side.
        </p>
      ) : null}
    </section>
  );
}

/** The rows both summary cards open with: which bundle, where it was read, who signed it. */
function BundleRows({
  summary,
  where,
  label,
}: {
  summary: Pick<VerifySummary, 'bundleId' | 'signature'>;
  where: string;
  label: string;
}) {
  return (
    <>
      <dt>Bundle</dt>
      <dd>{summary.bundleId}</dd>
      <dt>{where}</dt>
      <dd>{label}</dd>
      <dt>Signature</dt>
      <dd>
        <SignatureBadge sig={summary.signature} />{' '}
        {summary.signature.fingerprint ? <code>{summary.signature.fingerprint}</code> : null}
      </dd>
    </>
  );
}

/** A card meant to be screenshotted and handed to a security officer. */
export function VerifySummaryCard({ summary, label }: { summary: VerifySummary; label: string }) {
  const c = summary.counts;
  const good = summary.ok;
  return (
    <section className={`summary ${good ? 'summary-good' : 'summary-bad'}`} aria-label="Verification summary">
      <h3>{good ? (summary.verified ? 'Bundle verified' : 'Bundle intact') : 'Bundle has problems'}</h3>
      <dl className="kv">
        <BundleRows summary={summary} where="Location" label={label} />
        <dt>Artifacts</dt>
        <dd>{c.artifacts}</dd>
        <dt>Files</dt>
        <dd>
          {c.ok} of {c.files} intact{c.missing ? ` · ${c.missing} missing` : ''}
          {c.wrongDigest + c.wrongSize ? ` · ${c.wrongDigest + c.wrongSize} damaged` : ''}
          {c.extra ? ` · ${c.extra} unexpected` : ''}
        </dd>
        <dt>Checked</dt>
        <dd>
          {bytes(summary.bytes)} in {summary.seconds.toFixed(1)} s (SHA-256), {when(new Date().toISOString())}
        </dd>
      </dl>
    </section>
  );
}

/** The same card for an archive, whose check is its import into the store. */
export function ImportSummaryCard({ summary, label }: { summary: ImportSummary; label: string }) {
  const count = (st: 'good' | 'damaged' | 'missing') =>
    summary.artifacts.filter((a) => a.state === st).length;
  const good = summary.status === 'complete';
  return (
    <section className={`summary ${good ? 'summary-good' : 'summary-bad'}`} aria-label="Import summary">
      <h3>{good ? 'Bundle imported and verified' : 'Bundle imported with problems'}</h3>
      <dl className="kv">
        <BundleRows summary={summary} where="Archive" label={label} />
        <dt>Artifacts</dt>
        <dd>
          {count('good')} of {summary.artifacts.length} intact
          {count('damaged') ? ` · ${count('damaged')} damaged` : ''}
          {count('missing') ? ` · ${count('missing')} missing` : ''}
        </dd>
        <dt>Store</dt>
        <dd>
          {summary.filesCopied} files copied ({bytes(summary.bytesCopied)})
          {summary.filesShared ? ` · ${summary.filesShared} already there` : ''}, in{' '}
          {summary.seconds.toFixed(1)} s (SHA-256), {when(new Date().toISOString())}
        </dd>
      </dl>
      {summary.hint ? <p className="hint">What to do: {summary.hint}</p> : null}
    </section>
  );
}

/** Whether the store holds this bundle whole, from the newest import job. */
export function importedWhole(job: JobView | undefined, b: BundleSummary | null): boolean {
  const r = resultOf('import', job);
  return !!b && r?.bundleId === b.id && r.status === 'complete';
}

export function IntegrityStep() {
  const bundle = useApp((s) => s.bundle);
  return bundle?.format === 'archive' ? <ArchiveIntegrity bundle={bundle} /> : <FolderIntegrity />;
}

/**
 * An archive cannot be read in place, so its check is its import: the signature first, every
 * part hashed (a bad one named), then every file into the store, the map filling in as it goes.
 */
function ArchiveIntegrity({ bundle }: { bundle: BundleSummary }) {
  const check = useCheckJob('import', 'import.start');
  const summary = resultOf('import', check.job) ?? null;
  const parts = partsFrom(check.job);
  return (
    <CheckPanel
      check={check}
      bundle={bundle}
      title="Import and check every byte"
      startLabel="Import and check"
      againLabel="Import again"
      progressLabel="Import progress"
      stoppedTitle="Import stopped"
      bad={summary ? summary.status !== 'complete' : false}
      intro={
        <>
          <p>
            <SignatureBadge sig={bundle.signature} />{' '}
            <span className="muted">
              Archive in {bundle.parts ?? '?'} part{bundle.parts === 1 ? '' : 's'} · {bundle.label}
            </span>
          </p>
          <p className="muted">
            The signature is checked first, then every part, then every file as it is copied into this
            machine&apos;s store. A damaged or missing part is named so that only it needs copying again.
          </p>
        </>
      }
      extra={parts.length ? <PartsList parts={parts} /> : null}
      summary={summary ? <ImportSummaryCard summary={summary} label={bundle.label} /> : null}
      canContinue={importedWhole(check.job, bundle)}
    />
  );
}

function FolderIntegrity() {
  const bundle = useApp((s) => s.bundle);
  const setStep = useApp((s) => s.setStep);
  const check = useCheckJob('verify', 'verify.start');

  if (!bundle) {
    return (
      <Section title="Integrity">
        <p className="muted">Choose a bundle first.</p>
        <button type="button" onClick={() => setStep('offline', 0)}>
          Back to media
        </button>
      </Section>
    );
  }
  const summary = resultOf('verify', check.job) ?? null;
  return (
    <CheckPanel
      check={check}
      bundle={bundle}
      title="Check every byte"
      startLabel="Start check"
      againLabel="Check again"
      progressLabel="Verification progress"
      stoppedTitle="Verification stopped"
      bad={summary ? !summary.ok : false}
      intro={
        <p>
          <SignatureBadge sig={bundle.signature} /> <span className="muted">{bundle.label}</span>
        </p>
      }
      summary={summary ? <VerifySummaryCard summary={summary} label={bundle.label} /> : null}
      canContinue={!!summary?.ok}
    />
  );
}

/**
 * A bundle check run as a job (a folder's verify, an archive's import): both take the same
 * trust choices, remember them for the services step, and feed the same integrity map.
 */
function useCheckJob(kind: 'import' | 'verify', channel: 'import.start' | 'verify.start') {
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
function CheckPanel(p: {
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
