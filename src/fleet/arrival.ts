/**
 * Power-on times: devices arrive at `rate` per second, optionally ramping linearly to `toRate`
 * over `overMs` (a factory line speeding up, or a field powering up after an outage). The time
 * of device g (global index) is the inverse of the cumulative arrivals N(t) = g, so it does not
 * depend on how devices are split across shards: rates are split, never multiplied.
 */
export interface ArrivalSpec {
  ratePerSec: number;
  toRatePerSec?: number;
  overMs?: number;
}

export function powerOnTimeMs(g: number, a: ArrivalSpec): number {
  const r0 = a.ratePerSec;
  if (a.toRatePerSec === undefined || a.overMs === undefined || a.overMs <= 0 || a.toRatePerSec === r0) {
    return (g / r0) * 1000;
  }
  const T = a.overMs / 1000;
  const r1 = a.toRatePerSec;
  const k = (r1 - r0) / T; // acceleration, devices per second²
  const rampDevices = r0 * T + (k * T * T) / 2;
  if (g <= rampDevices) {
    // Solve r0 t + k t²/2 = g for the positive root.
    const t = k === 0 ? g / r0 : (-r0 + Math.sqrt(r0 * r0 + 2 * k * g)) / k;
    return t * 1000;
  }
  return (T + (g - rampDevices) / r1) * 1000;
}
