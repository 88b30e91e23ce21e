/**
 * Axis and tooltip labels of the report's plots: short forms that fit under a tick (12.5k, 2.5ms,
 * 1m30s, 99.9%), unlike the console's full forms (report/format.ts).
 */
import type { PlotSpec, ValueUnit } from '../plot-spec.js';
import { decimalsFor } from '../tick-precision.js';

export function num(v: number, digits?: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(1) + 'G';
  if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 0 : 1) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(a >= 1e5 ? 0 : 1) + 'k';
  if (a >= 100 || v === Math.round(v)) return String(Math.round(v));
  return v.toFixed(digits === undefined ? (a >= 10 ? 1 : 2) : digits);
}

function micros(us: number): string {
  if (us === 0) return '0';
  if (us < 1000) return Math.round(us) + 'µs';
  if (us < 1e6) return (us / 1000).toFixed(us < 1e4 ? 2 : 1).replace(/\.0+$/, '') + 'ms';
  return (us / 1e6).toFixed(2).replace(/\.?0+$/, '') + 's';
}

function duration(ms: number): string {
  if (ms > 0 && ms < 1000) return (ms < 10 ? ms.toFixed(1) : String(Math.round(ms))) + 'ms';
  const s = ms / 1000;
  if (s < 120) return Math.round(s * 10) / 10 + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + (s % 60 >= 1 ? String(Math.round(s % 60)).padStart(2, '0') + 's' : '');
  if (s < 3 * 86400) return Math.round(s / 360) / 10 + 'h';
  return Math.round(s / 8640) / 10 + 'd';
}

function bytes(v: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return (i === 0 || Math.abs(v) >= 100 || v === Math.round(v) ? String(Math.round(v)) : v.toFixed(1)) + ' ' + units[i];
}

/** A percentile axis position in nines: 1 = 90%, 2 = 99%, 3 = 99.9%; fractional values in between. */
export function nines(x: number): string {
  const k = Math.round(x);
  if (Math.abs(x - k) > 1e-6) return (100 * (1 - Math.pow(10, -x))).toPrecision(6).replace(/0+$/, '') + '%';
  if (k <= 0) return '0%';
  if (k === 1) return '90%';
  return '99' + (k > 2 ? '.' + '9'.repeat(k - 2) : '') + '%';
}

export function fmt(unit: ValueUnit | 'percentile', v: number): string {
  switch (unit) {
    case 'bytes':
      return bytes(v);
    case 'joules':
      return Math.abs(v) >= 1e6 ? num(v / 1e6, 1) + ' MJ' : Math.abs(v) >= 1000 ? num(v / 1000, 1) + ' kJ' : num(v, 1) + ' J';
    case 'us':
      return micros(v);
    case 'ms':
      return num(v, 1) + 'ms';
    case 'rate':
      return num(v) + '/s';
    case 'share':
      return (v * 100).toFixed(v > 0 && v < 0.1 ? 1 : 0) + '%';
    case 'days':
      return v >= 730 ? (v / 365).toFixed(1) + 'y' : num(v, 0) + 'd';
    case 'percentile':
      return nines(v);
    default:
      return num(v);
  }
}


/** A y-axis tick in the axis's unit with the precision its step needs (never "0.00/s" on every tick). */
export function yTick(unit: ValueUnit, v: number, step: number): string {
  if (v === 0) return unit === 'share' ? '0%' : unit === 'rate' ? '0/s' : '0';
  const plain = (x: number) => (Math.abs(x) >= 1e4 ? num(x) : x.toFixed(decimalsFor(step)));
  switch (unit) {
    case 'rate':
      return plain(v) + '/s';
    case 'share':
      return (v * 100).toFixed(decimalsFor(step * 100)) + '%';
    case 'ms':
      return plain(v) + 'ms';
    case 'count':
      return plain(v);
    default:
      return fmt(unit, v);
  }
}

/** One unit for every tick of a time axis, picked from the step: "0d 2d 4d 6d", never "0s 48h 4d". */
const TIME_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

export function timeTick(v: number, step: number): string {
  const u = TIME_UNITS.find(([, ms]) => step >= ms) ?? TIME_UNITS[TIME_UNITS.length - 1];
  return (v === 0 ? '0' : (v / u[1]).toFixed(decimalsFor(step / u[1]))) + u[0];
}

/** An x label: with `step` (axis ticks) in the one unit of the axis, without (tooltips) in the shortest form. */
export function xLabel(spec: PlotSpec, v: number, step?: number): string {
  if (spec.x.kind === 'time') return step ? timeTick(v, step) : duration(v);
  // A days axis in one unit too: years when its ticks are a year or more apart ("0y 2y 4y", not "0d 2.0y").
  if (spec.x.unit === 'days' && step) return step >= 365 ? (v / 365).toFixed(decimalsFor(step / 365)) + 'y' : v.toFixed(decimalsFor(step)) + 'd';
  if (spec.x.kind === 'category') return (spec.x.categories || [])[v] || '';
  if (spec.x.kind === 'nines') return spec.x.maxAt !== undefined && Math.abs(v - spec.x.maxAt) < 1e-9 ? 'max' : nines(v);
  return fmt(spec.x.unit, v);
}
