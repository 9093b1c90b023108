/**
 * The one way Ferry writes a byte count, in the CLI, the app and core's messages alike, so the
 * same bundle reads the same size everywhere. Binary units (KiB, MiB, GiB, as `df -h` and `du -h`
 * count): the limits Ferry talks about are binary (FAT32 holds 4 GiB - 1 byte per file), and a
 * decimal "4.3 GB" beside "files over 4 GiB" reads as a contradiction. Pure, with no Node
 * imports, so the renderer imports it too.
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 → '1.5 KiB', 3.4e9 → '3.2 GiB', 150e6 → '143 MiB'; unknown (null, NaN) → '—'. */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${sign}${Math.round(v)} B`;
  // Three significant figures at most: 143 MiB, 14.9 GiB. Rounding up to 1024 moves on a unit.
  let text = v >= 100 ? v.toFixed(0) : v.toFixed(1);
  if (Number(text) >= 1024 && i < UNITS.length - 1) {
    i++;
    text = (v / 1024).toFixed(1);
  }
  return `${sign}${text} ${UNITS[i]}`;
}
