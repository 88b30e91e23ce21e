import { balancedRanges } from '../scenario/plan.js';

/**
 * Contiguous device ranges: first the slice of the global index space this process owns
 * (`--shard i/N`), then that slice split across its worker shards. Balanced to within one device.
 * The split is scenario/plan.ts's, so `fleetsim plan` shows exactly the ranges a run uses.
 */
export interface DeviceRange {
  firstDevice: number;
  count: number;
}

export const splitRange: (first: number, total: number, parts: number) => DeviceRange[] = balancedRanges;

export function splitDevices(devices: number, slice: { index: number; count: number }, workers: number): DeviceRange[] {
  const mine = splitRange(0, devices, slice.count)[slice.index] ?? { firstDevice: 0, count: 0 };
  return splitRange(mine.firstDevice, mine.count, workers);
}
