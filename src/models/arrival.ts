/**
 * Power-on times: devices arrive at `rate` per second, optionally ramping linearly to `toRate`
 * over `overMs` (a factory line speeding up, or a field powering up after an outage). The n-th
 * arrival happens when the cumulative arrivals N(t) reach n.
 *
 * Which device is the n-th arrival is a fixed permutation of the global device index (a stride
 * coprime with the fleet size), so that each shard's contiguous device range powers on evenly
 * across the whole arrival window instead of shard 0 taking the first burst and the last shard
 * the last. It depends only on (device index, fleet size): rates are split across shards, never
 * multiplied, and a device powers on at the same time whatever the number of shards.
 */
export interface ArrivalSpec {
  ratePerSec: number;
  toRatePerSec?: number;
  overMs?: number;
}

/** Time (ms) of the n-th arrival (n from 0). */
export function arrivalTimeMs(n: number, a: ArrivalSpec): number {
  const r0 = a.ratePerSec;
  if (a.toRatePerSec === undefined || a.overMs === undefined || a.overMs <= 0 || a.toRatePerSec === r0) {
    return (n / r0) * 1000;
  }
  const T = a.overMs / 1000;
  const r1 = a.toRatePerSec;
  const k = (r1 - r0) / T; // acceleration, devices per second²
  const rampDevices = r0 * T + (k * T * T) / 2;
  if (n <= rampDevices) {
    // Solve r0 t + k t²/2 = n for the positive root.
    const t = k === 0 ? n / r0 : (-r0 + Math.sqrt(r0 * r0 + 2 * k * n)) / k;
    return t * 1000;
  }
  return (T + (n - rampDevices) / r1) * 1000;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The stride of the arrival permutation for a fleet of `total`: near total/φ and coprime with it. */
export function arrivalStride(total: number): number {
  if (total <= 2) return 1;
  let s = Math.max(1, Math.round(total * 0.6180339887));
  while (gcd(s, total) !== 1) s++;
  return s;
}

/** Arrival position of global device g in a fleet of `total` (a bijection on 0..total-1). */
export function arrivalPosition(g: number, total: number, stride = arrivalStride(total)): number {
  return (g * stride) % total;
}

/** Power-on time (ms) of global device g in a fleet of `total`. */
export function powerOnTimeMs(g: number, total: number, a: ArrivalSpec, stride = arrivalStride(total)): number {
  return arrivalTimeMs(arrivalPosition(g, total, stride), a);
}
