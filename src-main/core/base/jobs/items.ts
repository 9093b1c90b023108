/**
 * A job's item list, bounded: an item with a string `id` is news about one thing (an artifact, a
 * part, a host), so a later item for the same type and id is merged into the earlier one in
 * place instead of appended. Fetch repeats per-artifact progress every second and a deploy
 * reports every task on every host; a UI re-attaching after hours then copies one entry per
 * thing, not every report. Fields of the first report (kind, name, size) survive later, shorter
 * ones. Items without an id are kept, the newest MAX_LOOSE of them.
 *
 * Pure, and shared by core's Job and the renderer's job view so both hold the same list.
 */
export type Item = Record<string, unknown>;

export const MAX_LOOSE = 2000;

export function itemKey(item: Item): string | undefined {
  return typeof item.id === 'string' ? `${String(item.type ?? '')}\u0000${item.id}` : undefined;
}

export class ItemList {
  private readonly keyed = new Map<string, Item>();
  private readonly order: Array<string | Item> = [];
  private loose = 0;

  add(item: Item): void {
    const k = itemKey(item);
    if (k === undefined) {
      this.order.push(item);
      if (++this.loose > MAX_LOOSE) {
        const i = this.order.findIndex((x) => typeof x !== 'string');
        this.order.splice(i, 1);
        this.loose--;
      }
      return;
    }
    const prev = this.keyed.get(k);
    if (prev) this.keyed.set(k, { ...prev, ...item });
    else {
      this.keyed.set(k, item);
      this.order.push(k);
    }
  }

  toArray(): Item[] {
    return this.order.map((x) => (typeof x === 'string' ? this.keyed.get(x)! : x));
  }

  get size(): number {
    return this.order.length;
  }
}

// Index of keyed items per array, so the renderer's fold is not a scan per event (an import
// announces 40k artifacts). Arrays are immutable state: each new array takes over the index;
// an entry is trusted only after checking it still points at its key.
const indexes = new WeakMap<readonly Item[], { keys: Map<string, number>; loose: number }>();

function indexOf(items: readonly Item[]): { keys: Map<string, number>; loose: number } {
  let ix = indexes.get(items);
  if (!ix) {
    ix = { keys: new Map(), loose: 0 };
    items.forEach((x, i) => {
      const k = itemKey(x);
      if (k === undefined) ix!.loose++;
      else ix!.keys.set(k, i);
    });
    indexes.set(items, ix);
  }
  return ix;
}

/** The same rule on a plain array (the renderer's immutable state): returns a new array. */
export function addItem(items: readonly Item[], item: Item): Item[] {
  const k = itemKey(item);
  const ix = indexOf(items);
  if (k !== undefined) {
    const i = ix.keys.get(k);
    if (i !== undefined && i < items.length && itemKey(items[i]!) === k) {
      const next = items.slice();
      next[i] = { ...items[i], ...item };
      indexes.set(next, ix);
      return next;
    }
    const next = [...items, item];
    ix.keys.set(k, next.length - 1);
    indexes.set(next, ix);
    return next;
  }
  const next = [...items, item];
  if (ix.loose + 1 > MAX_LOOSE) {
    // Positions shift: the next array builds its own index.
    next.splice(
      next.findIndex((x) => itemKey(x) === undefined),
      1,
    );
    return next;
  }
  indexes.set(next, { keys: ix.keys, loose: ix.loose + 1 });
  return next;
}
