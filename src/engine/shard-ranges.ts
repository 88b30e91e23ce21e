/**
 * Contiguous device ranges: first the slice of the global index space this process owns
 * (`--shard i/N`), then that slice split across its worker shards. Balanced to within one device.
 */
export interface DeviceRange {
  firstDevice: number;
  count: number;
}

export function splitRange(first: number, total: number, parts: number): DeviceRange[] {
  const n = Math.max(1, Math.min(parts, Math.max(1, total)));
  const base = Math.floor(total / n);
  const extra = total % n;
  const out: DeviceRange[] = [];
  let next = first;
  for (let i = 0; i < n; i++) {
    const count = base + (i < extra ? 1 : 0);
    out.push({ firstDevice: next, count });
    next += count;
  }
  return out;
}

export function splitDevices(devices: number, slice: { index: number; count: number }, workers: number): DeviceRange[] {
  const mine = splitRange(0, devices, slice.count)[slice.index] ?? { firstDevice: 0, count: 0 };
  return splitRange(mine.firstDevice, mine.count, workers);
}
