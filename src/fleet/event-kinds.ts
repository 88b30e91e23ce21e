/**
 * The event kinds of a shard. A kind is one byte (the schedulers' queues keep kinds in a
 * Uint8Array), and the lifecycle, the behaviours and the device driver share that one space: this
 * module is where it is divided. The lifecycle's kinds are the constants `Ev`; behaviours take
 * consecutive ranges from the behaviour region (`KindAllocator`); the driver is handed the driver
 * region whole and routes its own kinds (`DeviceDriver.owns`). Nobody else picks kind numbers.
 */
export const EVENT_KIND_LIMIT = 256;

export interface KindRange {
  readonly first: number;
  readonly count: number;
}

/** The three regions of the space: [1, 32) lifecycle, [32, 100) behaviours, [100, 256) driver. */
export const KIND_REGIONS = {
  lifecycle: { first: 1, count: 31 },
  behaviours: { first: 32, count: 68 },
  driver: { first: 100, count: EVENT_KIND_LIMIT - 100 },
} as const satisfies Record<string, KindRange>;

export function inKindRange(r: KindRange, kind: number): boolean {
  return kind >= r.first && kind < r.first + r.count;
}

/** Event kinds of the lifecycle (fleet/lifecycle.ts and its parts). */
export const Ev = {
  powerOn: 1,
  provision: 2,
  connect: 3,
  telemetry: 4,
  poll: 5,
  /** The device's own on/off process flips. */
  linkFlip: 6,
  /** A scripted outage takes the device's link down / gives it back. */
  outageStart: 7,
  outageEnd: 8,
  /** Try again to send what the device holds (after a radio duty-cycle wait). */
  flush: 9,
  /** Messages on the wire for the device reach the backend. */
  linkDeliver: 10,
  /** The backup link's own on/off process flips. */
  backupFlip: 11,
  /** A switchover to the backup link completes. */
  switchover: 12,
  /** Requests and answers held on the modelled link come due (fleet/linked-driver.ts). */
  linkExchange: 13,
  /** A device's keepalive: a PINGREQ due, or its PINGRESP overdue (fleet/keepalive.ts). */
  keepalive: 14,
} as const;

/** Hands out consecutive, non-overlapping ranges of one region, in the order they are asked for. */
export class KindAllocator {
  private next: number;

  constructor(readonly region: KindRange) {
    this.next = region.first;
  }

  take(owner: string, count: number): KindRange {
    const end = this.region.first + this.region.count;
    if (this.next + count > end) throw new Error(`${owner}: ${count} event kinds do not fit in [${this.next}, ${end})`);
    const range = { first: this.next, count };
    this.next += count;
    return range;
  }
}
