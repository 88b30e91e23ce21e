import { FleetsimError } from '../errors/fleetsim-error.js';
import { deepFreeze } from './resolve.js';
import type { ResolvedFleetGroup, ResolvedScenario } from './resolved.js';

/**
 * Splits `total` units over `weights` in proportion, exactly: each part gets the floor of its
 * quota, and the units left over go to the largest remainders (ties to the earlier entry). When
 * `total` is at least the number of positive weights, every one of them gets at least one unit:
 * a part rounded down to zero takes one from the largest part (ties to the later entry), so a
 * small fleet still runs every profile of the mix.
 *
 * Integer arithmetic only (remainders are `total * w mod sum`), so the split is the same on
 * every machine.
 */
export function largestRemainder(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, w) => a + w, 0);
  if (sum <= 0) return weights.map(() => 0);
  const parts = weights.map((w) => Math.floor((total * w) / sum));
  const order = weights
    .map((w, i) => ({ i, rem: (total * w) % sum }))
    .sort((a, b) => b.rem - a.rem || a.i - b.i);
  let left = total - parts.reduce((a, p) => a + p, 0);
  for (const { i } of order) {
    if (left === 0) break;
    parts[i]++;
    left--;
  }
  const positive = weights.filter((w) => w > 0).length;
  if (total >= positive) {
    for (let i = 0; i < parts.length; i++) {
      if (weights[i] <= 0 || parts[i] > 0) continue;
      let donor = 0;
      for (let j = 1; j < parts.length; j++) if (parts[j] >= parts[donor]) donor = j;
      parts[donor]--;
      parts[i] = 1;
    }
  }
  return parts;
}

/**
 * The same scenario at another fleet size (`fleetsim sweep`): every `fleet[]` group's count is
 * scaled in proportion so that the total is exactly `devices` (the mix is kept; see
 * largestRemainder), and the arrival rates are scaled by the same factor, so the ramp-up takes
 * the same simulated time at every size. Everything else, thresholds included, is unchanged:
 * a threshold on an absolute count means the same number at every size.
 *
 * Pure: returns a new deep-frozen scenario with `firstDevice` and `devices` recomputed. A group
 * whose share rounds to zero (only when `devices` is smaller than the number of groups) is left
 * out; the remaining groups keep their `index`, which names their entry in the file.
 */
export function scaleScenario(s: ResolvedScenario, devices: number): ResolvedScenario {
  if (!Number.isSafeInteger(devices) || devices < 1) {
    throw new FleetsimError('FLEETSIM_E_USAGE', `cannot scale scenario "${s.name}" to ${devices} devices`, {
      hint: 'a fleet size is a whole number of at least 1, e.g. --sizes 5,500,50000',
    });
  }
  const counts = largestRemainder(devices, s.fleet.map((g) => g.count));
  const fleet: ResolvedFleetGroup[] = [];
  let next = 0;
  s.fleet.forEach((g, k) => {
    if (counts[k] === 0) return;
    fleet.push({ ...g, count: counts[k], firstDevice: next });
    next += counts[k];
  });
  const factor = devices / s.devices;
  const { ratePerSec, toRatePerSec, overMs } = s.arrival;
  return deepFreeze({
    ...s,
    fleet,
    devices: next,
    arrival: {
      ratePerSec: ratePerSec * factor,
      ...(toRatePerSec === undefined ? {} : { toRatePerSec: toRatePerSec * factor }),
      ...(overMs === undefined ? {} : { overMs }),
    },
  });
}
