import type { BundleSummary, ImportItem, VerifyItem } from '../../../../../src-main/ipc/contract.js';
import { KIND_ORDER, kindTitle } from '../../../../../src-main/core/kinds/labels.js';
import { itemsOf, resultOf, type JobView } from '../../../jobs.js';

// The integrity step's data: pure functions of a verify or import job (no React), so a reload
// redraws the same map and the tests read them directly.

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

/** Whether the store holds this bundle whole, from the newest import job. */
export function importedWhole(job: JobView | undefined, b: BundleSummary | null): boolean {
  const r = resultOf('import', job);
  return !!b && r?.bundleId === b.id && r.status === 'complete';
}
