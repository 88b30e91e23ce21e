/** Where an axis gets its ticks: round steps (1, 2, 2.5, 5 x 10^k), calendar-like steps on time axes, whole nines. */
import type { AxisKind, ValueUnit } from '../plot-spec.js';

export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const n = raw / mag;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10) * mag;
}

/** Time steps in seconds, from 1 ms to a year, as ms. */
const TIME_STEPS = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
  172800, 604800, 1209600, 2592000, 7776000, 15552000, 31536000,
].map((s) => s * 1000);

export function ticks(axis: AxisKind, lo: number, hi: number, count: number, unit?: ValueUnit | 'percentile'): number[] {
  const out: number[] = [];
  if (axis === 'nines') {
    for (let v = Math.ceil(lo); v <= hi + 1e-9; v++) out.push(v);
    return out;
  }
  let step: number;
  if (unit === 'days' && hi - lo > 730) step = niceStep((hi - lo) / 365, count) * 365;
  else if (axis === 'time') {
    step = TIME_STEPS[TIME_STEPS.length - 1];
    for (const s of TIME_STEPS) {
      if ((hi - lo) / s <= count) {
        step = s;
        break;
      }
    }
  } else step = niceStep(hi - lo, count);
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
  return out;
}
