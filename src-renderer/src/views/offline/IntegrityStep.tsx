import { useState } from 'react';
import type { ErrorValueT, VerifyItem, VerifySummary } from '../../../../src-main/ipc/contract.js';
import { call, errorOf } from '../../api.js';
import { ErrorBox, ProgressPanel, Section } from '../../components/common.js';
import { bytes, when } from '../../format.js';
import { useApp, useJob } from '../../store.js';
import type { JobView } from '../../jobs.js';
import { SignatureBadge } from './MediaStep.js';

export type TileState = 'waiting' | 'checking' | 'good' | 'damaged' | 'missing';
export interface Tile {
  id: string;
  kind: string;
  name: string;
  bytes: number;
  state: TileState;
  detail?: Extract<VerifyItem, { type: 'verify.artifact' }>;
}

const KIND_TITLES: Record<string, string> = {
  image: 'Container images',
  file: 'Files',
  kubespray: 'Kubespray',
  meta: 'Bundle bookkeeping',
};
const KIND_ORDER = ['kubespray', 'file', 'image', 'meta'];

/** The integrity map as a pure function of the verify job's items (so a reload redraws it). */
export function tilesFrom(job: Pick<JobView, 'items' | 'state'> | undefined): Tile[] {
  if (!job) return [];
  const tiles = new Map<string, Tile>();
  for (const raw of job.items) {
    const item = raw as VerifyItem;
    if (item.type === 'verify.plan') {
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

export function groupTiles(tiles: Tile[]): Array<{ kind: string; title: string; tiles: Tile[] }> {
  const kinds = [...new Set(tiles.map((t) => t.kind))].sort(
    (a, b) => KIND_ORDER.indexOf(a) - KIND_ORDER.indexOf(b),
  );
  return kinds.map((kind) => ({
    kind,
    title: KIND_TITLES[kind] ?? kind,
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
      {d?.hint ? <p className="hint">What to do: {d.hint}</p> : null}
    </section>
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
        <dt>Bundle</dt>
        <dd>{summary.bundleId}</dd>
        <dt>Location</dt>
        <dd>{label}</dd>
        <dt>Signature</dt>
        <dd>
          <SignatureBadge sig={summary.signature} />{' '}
          {summary.signature.fingerprint ? <code>{summary.signature.fingerprint}</code> : null}
        </dd>
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

export function IntegrityStep() {
  const bundle = useApp((s) => s.bundle);
  const job = useJob('verify');
  const track = useApp((s) => s.track);
  const setStep = useApp((s) => s.setStep);
  const selected = useApp((s) => s.selectedTile);
  const selectTile = useApp((s) => s.selectTile);
  const setTrust = useApp((s) => s.setTrust);
  const [error, setError] = useState<ErrorValueT | null>(null);
  const [allowUntrusted, setAllowUntrusted] = useState(false);
  const [allowUnsigned, setAllowUnsigned] = useState(false);

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
  const start = async () => {
    setError(null);
    selectTile(null);
    try {
      const { jobId } = await call('verify.start', {
        bundle: { token: bundle.token },
        allowUntrusted,
        allowUnsigned,
      });
      setTrust({ allowUntrusted, allowUnsigned });
      track('verify', jobId);
    } catch (err) {
      setError(errorOf(err));
    }
  };
  const tiles = tilesFrom(job);
  const sel = tiles.find((t) => t.id === selected);
  const running = job?.state === 'running';
  const summary = job?.state === 'done' ? (job.result as VerifySummary) : null;
  const sig = bundle.signature.status;

  return (
    <div className="stack">
      <Section
        title="Check every byte"
        actions={
          <div className="row">
            {running && job ? (
              <button
                type="button"
                className="danger"
                onClick={() => void call('jobs.cancel', { id: job.id })}
              >
                Stop
              </button>
            ) : (
              <button type="button" className="primary" onClick={() => void start()}>
                {job ? 'Check again' : 'Start check'}
              </button>
            )}
          </div>
        }
      >
        <p>
          <SignatureBadge sig={bundle.signature} /> <span className="muted">{bundle.label}</span>
        </p>
        {sig === 'unknown-key' ? (
          <label className="check">
            <input
              type="checkbox"
              checked={allowUntrusted}
              onChange={(e) => setAllowUntrusted(e.target.checked)}
            />
            Check it anyway: I compared fingerprint {bundle.signature.fingerprint} with the connected side
          </label>
        ) : null}
        {sig === 'unsigned' ? (
          <label className="check">
            <input
              type="checkbox"
              checked={allowUnsigned}
              onChange={(e) => setAllowUnsigned(e.target.checked)}
            />
            Check it anyway: I accept an unsigned bundle
          </label>
        ) : null}
        {job ? (
          <ProgressPanel
            progress={job.progress}
            label="Verification progress"
            state={job.state}
            bad={summary ? !summary.ok : false}
          />
        ) : null}
        {job?.state === 'failed' && job.error ? (
          <ErrorBox error={job.error} title="Verification stopped" />
        ) : null}
        {error ? <ErrorBox error={error} /> : null}
      </Section>
      {tiles.length ? (
        <Section title="Integrity map">
          <Legend tiles={tiles} />
          <IntegrityMap tiles={tiles} selected={selected} onSelect={selectTile} />
          {sel ? <TileDetails tile={sel} /> : null}
        </Section>
      ) : null}
      {summary ? <VerifySummaryCard summary={summary} label={bundle.label} /> : null}
      <div className="row end">
        <button type="button" onClick={() => setStep('offline', 0)}>
          Back
        </button>
        <button
          type="button"
          className="primary"
          disabled={!summary?.ok}
          onClick={() => setStep('offline', 2)}
        >
          Next: services
        </button>
      </div>
    </div>
  );
}
