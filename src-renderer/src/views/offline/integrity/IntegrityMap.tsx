import { StatusPill } from '../../../components/common.js';
import { bytes } from '../../../format.js';
import { groupTiles, type partsFrom, type Tile, type TileState } from './tiles.js';

// The map's pieces: tiles grouped by kind, their legend, a damaged tile's details, an archive's parts.

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
