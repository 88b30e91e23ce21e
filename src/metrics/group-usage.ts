import { C, COUNTERS } from './catalog.js';

/**
 * The counters the cost model prices, kept per fleet group as well as fleet-wide (the groups of a
 * fleet may sit on different links and plans, so each is priced on what its own devices did), and
 * two time integrals per group: device time powered on and session time (keepalives).
 *
 * Layout: one Float64Array, GROUP_USAGE_WIDTH numbers per group, group g at g × width. A time
 * integral is kept as (count, −Σ start times + Σ end times): a device that powers on at t adds 1
 * and −t; a session that ends at t adds −1 and +t; closing at `endMs` adds count × endMs. So no
 * per-device time is stored and nothing is allocated per event.
 */
export const GROUP_COUNTERS = ['devices.powered_on', 'mqtt.connect.ok', 'telemetry.sent', 'poll.ok', 'update.offered', 'ota.bytes_downloaded', 'logs.generated', 'logs.sent', 'link.packets_lost'] as const;
export type GroupCounter = (typeof GROUP_COUNTERS)[number];
const POWERED_COUNT = GROUP_COUNTERS.length;
const POWERED_MS = POWERED_COUNT + 1;
const ONLINE_COUNT = POWERED_COUNT + 2;
const ONLINE_MS = POWERED_COUNT + 3;
export const GROUP_USAGE_WIDTH = POWERED_COUNT + 4;

/** Slot of each catalog counter in a group's row, −1 for the counters not kept per group. */
export const GROUP_SLOT: Int8Array = (() => {
  const slots = new Int8Array(COUNTERS.length).fill(-1);
  GROUP_COUNTERS.forEach((name, i) => (slots[C[name]] = i));
  return slots;
})();

export class GroupUsage {
  readonly data: Float64Array;

  constructor(
    private readonly groupOf: Uint16Array,
    readonly groups: number,
  ) {
    this.data = new Float64Array(groups * GROUP_USAGE_WIDTH);
  }

  /** Adds `n` to `counter` for `dev`'s group, when the counter is one kept per group. */
  add(counter: number, dev: number, n: number): void {
    const slot = GROUP_SLOT[counter];
    if (slot >= 0) this.data[this.groupOf[dev] * GROUP_USAGE_WIDTH + slot] += n;
  }

  poweredOn(dev: number, tMs: number): void {
    const at = this.groupOf[dev] * GROUP_USAGE_WIDTH;
    this.data[at + POWERED_COUNT]++;
    this.data[at + POWERED_MS] -= tMs;
  }

  /** `dev`'s session went up (+1) or down (−1) at tMs. */
  session(dev: number, sign: 1 | -1, tMs: number): void {
    const at = this.groupOf[dev] * GROUP_USAGE_WIDTH;
    this.data[at + ONLINE_COUNT] += sign;
    this.data[at + ONLINE_MS] -= sign * tMs;
  }

  /** The rows with the time integrals closed at `endMs` (a copy: the shard's final). */
  at(endMs: number): number[] {
    const out = Array.from(this.data);
    for (let g = 0; g < this.groups; g++) {
      const at = g * GROUP_USAGE_WIDTH;
      out[at + POWERED_MS] += out[at + POWERED_COUNT] * endMs;
      out[at + ONLINE_MS] += out[at + ONLINE_COUNT] * endMs;
    }
    return out;
  }
}

/** One group's totals from a closed row (summed over shards): counters by name, device-days and session-days. */
export interface GroupTotals {
  counters: Record<GroupCounter, number>;
  deviceDays: number;
  onlineDays: number;
}

export function groupTotals(rows: readonly number[], groups: number): GroupTotals[] {
  return Array.from({ length: groups }, (_, g) => {
    const at = g * GROUP_USAGE_WIDTH;
    return {
      counters: Object.fromEntries(GROUP_COUNTERS.map((n, i) => [n, rows[at + i] ?? 0])) as Record<GroupCounter, number>,
      deviceDays: (rows[at + POWERED_MS] ?? 0) / 86_400_000,
      onlineDays: (rows[at + ONLINE_MS] ?? 0) / 86_400_000,
    };
  });
}

/** Adds shards' rows (same layout) number by number. */
export function sumGroupRows(parts: ReadonlyArray<readonly number[] | undefined>): number[] | undefined {
  let out: number[] | undefined;
  for (const p of parts) {
    if (!p) continue;
    if (!out) out = Array.from(p);
    else for (let i = 0; i < p.length; i++) out[i] += p[i];
  }
  return out;
}
