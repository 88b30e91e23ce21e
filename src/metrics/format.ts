/**
 * Durations and latencies for people, in one place: threshold displays (thresholds.ts), reports,
 * plans and the console all read the same.
 */

/** Formats milliseconds for people: 850ms, 12.5s, 3m20s, 2h05m, 4d06h (one carry rule: never "5h60m"). */
export function formatDuration(ms: number): string {
  // Each branch rounds first and then splits, so a carry moves up a unit ("6h00m", never "5h60m").
  if (Math.round(ms) < 1000) return `${Math.round(ms)}ms`;
  if (ms < 9_995) return `${(ms / 1000).toFixed(2)}s`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  const m = Math.round(ms / 60_000);
  if (m < 48 * 60) return `${Math.floor(m / 60)}h${pad(m % 60)}m`;
  const h = Math.round(ms / 3_600_000);
  return `${Math.floor(h / 24)}d${pad(h % 24)}h`;
}

/** Formats microseconds as a latency for tables: 850µs, 12.3ms, 1.20s; from a minute on as a duration (2m30s). */
export function formatMicros(us: number): string {
  if (Math.round(us) < 1000) return `${Math.round(us)}µs`;
  if (us < 999_500) return `${(us / 1000).toFixed(us < 9_995 ? 2 : 1)}ms`;
  if (us < 59_995_000) return `${(us / 1_000_000).toFixed(2)}s`;
  return formatDuration(us / 1000);
}
