import { formatBytes } from '../../src-main/core/base/format/bytes.js';

/** Byte counts as the CLI writes them (one formatter: core/base/format/bytes). */
export function bytes(n: number | null | undefined): string {
  return formatBytes(n);
}

export function speed(bps: number): string {
  return bps > 0 ? `${bytes(bps)}/s` : '—';
}

export function eta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${sec} s` : `${sec} s`;
}

export function percent(done: number, total: number | null): number {
  if (!total) return 0;
  return Math.max(0, Math.min(100, (100 * done) / total));
}

export function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}
