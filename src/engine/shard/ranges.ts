import type { ResolvedScenario } from '../../scenario/resolved.js';
import { shardRanges, sliceOf } from '../../scenario/session-load.js';

export { sliceOf } from '../../scenario/session-load.js';

/**
 * Contiguous device ranges: first the slice of the global index space this process owns
 * (`--shard i/N`, balanced to within one device), then that slice split across its shards
 * (balanced by device count, or by sessions held at once when some groups are sleepy). The split
 * is scenario/session-load.ts's, so `fleetsim plan` shows exactly the ranges a run uses.
 */
export interface DeviceRange {
  firstDevice: number;
  count: number;
}

export function splitDevices(s: ResolvedScenario, slice: { index: number; count: number }, shards: number): DeviceRange[] {
  const mine = sliceOf(s, slice);
  return shardRanges(s, mine.firstDevice, mine.count, shards);
}
