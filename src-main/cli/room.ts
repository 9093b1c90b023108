import { formatBytes } from '../core/base/format/bytes.js';
import { roomCount, roomOrder, roomSized, roomWeight, type RoomGroup } from '../core/plan/room.js';

/**
 * The app's room bars as text: one line per component and kind, largest first, a bar of up to
 * 20 '#' scaled to the largest, then its size (or its count while sizes are unknown). `ferry plan`
 * prints what a plan will take, `ferry fetch` what the download took.
 */
export function roomLines(groups: RoomGroup[], title: string): string[] {
  const sorted = roomOrder(groups);
  if (!sorted.length) return [];
  const sized = roomSized(sorted);
  const weight = (g: RoomGroup) => roomWeight(g, sized);
  const top = Math.max(...sorted.map(weight));
  const w = Math.max(...sorted.map((g) => g.name.length));
  const BAR = 20;
  return [
    sized ? `${title}:` : `${title} (by number of downloads; sizes are known once downloaded):`,
    ...sorted.map((g) => {
      const n = top ? Math.max(1, Math.round((BAR * weight(g)) / top)) : 0;
      const bar = '#'.repeat(n).padEnd(BAR);
      return `  ${g.name.padEnd(w)}  ${bar}  ${sized ? formatBytes(g.bytes) : roomCount(g)}`;
    }),
  ];
}
