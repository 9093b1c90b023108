/**
 * "What takes the room": a plan's downloads grouped by the component a user recognises
 * (calico_node and calicoctl → calico), one group per component and kind. The app draws these
 * as bars and `ferry plan` prints them, so both come from here. Pure (no Node imports): the
 * renderer imports the ordering rule too. The grouping rule itself (componentOf, roomGroup) is
 * the kinds' (kinds/labels), so a download and its bundle artifact land in the same group.
 */
import { componentOf, countLabel, roomGroup } from '../kinds/labels.js';

export { componentOf };

export type RoomKind = 'file' | 'image' | 'kubespray';

export interface RoomGroup {
  name: string;
  kind: RoomKind;
  count: number;
  /** Null while the size is not known (before downloading). */
  bytes: number | null;
}

/**
 * What room needs of a plan: its downloads' keys, whether they are used, whether extra. Its
 * optional fields take undefined too, as the zod-parsed plan gives every `.optional()`.
 */
export interface RoomPlan {
  files: ReadonlyArray<{ key: string; enabled?: boolean | undefined; extra?: boolean | undefined }>;
  images: ReadonlyArray<{ key: string; enabled?: boolean | undefined; extra?: boolean | undefined }>;
  kubesprayTarball?: unknown;
  /** The deploy host's wheel sets (kinds/python), one per target. */
  python?:
    | ReadonlyArray<{
        target: { python: string; arch: string };
        wheels: ReadonlyArray<{ size?: number | undefined }>;
      }>
    | undefined;
}

/** The plan's enabled downloads by component and kind, in the plan's order. */
export function roomGroups(plan: RoomPlan): RoomGroup[] {
  const groups = new Map<string, RoomGroup>();
  const add = (name: string, kind: RoomKind) => {
    const k = `${kind}:${name}`;
    const g = groups.get(k) ?? { name, kind, count: 0, bytes: null };
    g.count++;
    groups.set(k, g);
  };
  for (const f of plan.files)
    if (f.enabled !== false) add(f.extra ? 'extra files' : componentOf(f.key), 'file');
  for (const i of plan.images)
    if (i.enabled !== false) add(i.extra ? 'extra images' : componentOf(i.key), 'image');
  if (plan.kubesprayTarball) add('kubespray', 'kubespray');
  // The deploy host's wheels: one group per target, sized when the index gave every size.
  for (const set of plan.python ?? []) {
    const name = `python ${set.target.python} ${set.target.arch}`;
    const sizes = set.wheels.map((w) => w.size);
    const known = sizes.every((x) => x !== undefined);
    groups.set(`file:${name}`, {
      name,
      kind: 'file',
      count: set.wheels.length,
      bytes: known ? sizes.reduce<number>((a, b) => a + (b ?? 0), 0) : null,
    });
  }
  return [...groups.values()];
}

/** One artifact as sized before downloading (core/fetch/sizes): null bytes when it could not be. */
export interface SizedItem {
  kind: string;
  key: string;
  bytes: number | null;
  /** The group by name when the key is no Kubespray component (OS packages, wheels). */
  group?: string;
}

/**
 * The plan's groups with the sizes found before downloading, grouped as roomGroups groups the
 * plan. One unknown member makes its group unknown: a bar is never drawn from a guess.
 */
export function roomFromSizes(plan: RoomPlan, sized: ReadonlyArray<SizedItem>): RoomGroup[] {
  const extraFile = new Set(plan.files.filter((f) => f.extra).map((f) => f.key));
  const extraImage = new Set(plan.images.filter((i) => i.extra).map((i) => i.key));
  const groups = new Map<string, RoomGroup>();
  for (const a of sized) {
    const kind: RoomKind = a.kind === 'image' ? 'image' : a.kind === 'kubespray' ? 'kubespray' : 'file';
    const extra = kind === 'image' ? extraImage.has(a.key) : extraFile.has(a.key);
    const name =
      kind === 'kubespray' ? 'kubespray' : extra ? `extra ${kind}s` : (a.group ?? componentOf(a.key));
    const k = `${kind}:${name}`;
    const g = groups.get(k) ?? { name, kind, count: 0, bytes: 0 };
    g.count++;
    g.bytes = g.bytes === null || a.bytes === null ? null : g.bytes + a.bytes;
    groups.set(k, g);
  }
  return [...groups.values()];
}

/** One finished download as fetch reports it (its item events): what, and how many bytes. */
export interface DownloadedItem {
  kind: RoomKind;
  name: string;
  status: string;
  bytes?: number | undefined;
}

/**
 * What a finished download took, per component, with real sizes (the app's "What took the
 * room", the end of `ferry fetch`): files by the name's first word, images by repository.
 */
export function roomFromDownloads(items: ReadonlyArray<DownloadedItem>): RoomGroup[] {
  const groups = new Map<string, RoomGroup>();
  for (const i of items) {
    if (i.status !== 'done' || i.bytes === undefined) continue;
    const name = roomGroup(i.kind, i.name);
    const k = `${i.kind}:${name}`;
    const g = groups.get(k) ?? { name, kind: i.kind, count: 0, bytes: 0 };
    g.count++;
    g.bytes = (g.bytes ?? 0) + i.bytes;
    groups.set(k, g);
  }
  return [...groups.values()];
}

/** Whether every group's size is known, so the groups are weighed by bytes rather than count. */
export function roomSized(groups: readonly RoomGroup[]): boolean {
  return groups.length > 0 && groups.every((g) => g.bytes !== null);
}

/** What a group's bar is as long as: its bytes when every size is known, else its count. */
export function roomWeight(g: RoomGroup, sized: boolean): number {
  return sized ? (g.bytes ?? 0) : g.count;
}

/** Largest first (by bytes when all are known, else by number of downloads), then by name. */
export function roomOrder(groups: readonly RoomGroup[]): RoomGroup[] {
  const sized = roomSized(groups);
  return [...groups].sort(
    (a, b) => roomWeight(b, sized) - roomWeight(a, sized) || a.name.localeCompare(b.name),
  );
}

/** "6 images", "1 file": a group's count in its kind's words (kinds/labels). */
export function roomCount(g: RoomGroup): string {
  return countLabel(g.kind, g.count);
}
