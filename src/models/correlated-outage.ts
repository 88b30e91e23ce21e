/**
 * Correlated outages and failover.
 *
 * - Hierarchy region -> cell/gateway -> device, each level with its own on/off process (outage.ts):
 *   a device is reachable only when it and all of its parents are up.
 * - CellOutage: a scripted outage (a scenario phase such as `outage: { scope: cell, fraction: 30%,
 *   duration: 15s }`) that takes an exact set of devices down for [startMs, endMs).
 * - Failover: reachable when the primary link is up, or when the backup is up and the switchover
 *   since the later of "primary went down" and "backup came up" has elapsed (Baltrunas et al., IMC 2014:
 *   two operators together reached 99.999%).
 *
 * Concurrency: parents are shared by many devices, so queries must come in nondecreasing time across
 * all devices of a shard (a discrete-event or wall clock gives that for free).
 */
import type { RenewalStates } from './outage.js';
import { draw32 } from './rng.js';

/** Membership of `count` consecutive indices in groups of `groupSize`: [0,0,..,1,1,..]. */
export function contiguousGroups(count: number, groupSize: number): Int32Array {
  if (!(groupSize >= 1)) throw new RangeError('contiguousGroups: groupSize must be >= 1');
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.floor(i / groupSize);
  return out;
}

export class OutageHierarchy {
  constructor(
    readonly devices: RenewalStates,
    /** Per-cell process, or null when cells never fail on their own. */
    readonly cells: RenewalStates | null,
    /** Per-region process, or null. */
    readonly regions: RenewalStates | null,
    /** Cell index of each device. */
    readonly cellOfDevice: Int32Array,
    /** Region index of each cell. */
    readonly regionOfCell: Int32Array,
  ) {}

  reachableAt(dev: number, nowMs: number): boolean {
    // Evaluate every level, not only until the first "down", so each process keeps pace with time.
    const deviceUp = this.devices.isUpAt(dev, nowMs);
    const cell = this.cellOfDevice[dev];
    const cellUp = this.cells === null || this.cells.isUpAt(cell, nowMs);
    const regionUp = this.regions === null || this.regions.isUpAt(this.regionOfCell[cell], nowMs);
    return deviceUp && cellUp && regionUp;
  }
}

/** A scripted outage of an exact set of devices during [startMs, endMs). */
export class CellOutage {
  /** 1 for each device the outage takes down. */
  readonly affected: Uint8Array;
  readonly affectedCount: number;

  private constructor(
    affected: Uint8Array,
    readonly startMs: number,
    readonly endMs: number,
  ) {
    this.affected = affected;
    let n = 0;
    for (let i = 0; i < affected.length; i++) n += affected[i];
    this.affectedCount = n;
  }

  /** Devices in half-open index ranges [from, to). */
  static fromRanges(
    deviceCount: number,
    ranges: readonly (readonly [number, number])[],
    startMs: number,
    endMs: number,
  ): CellOutage {
    const affected = new Uint8Array(deviceCount);
    for (const [from, to] of ranges) {
      if (!(from >= 0 && to <= deviceCount && from <= to)) {
        throw new RangeError(`CellOutage: range [${from}, ${to}) outside 0..${deviceCount}`);
      }
      affected.fill(1, from, to);
    }
    return new CellOutage(affected, startMs, endMs);
  }

  /** Every device whose cell is in `cells`. */
  static fromCells(cellOfDevice: Int32Array, cells: ArrayLike<number>, startMs: number, endMs: number): CellOutage {
    let maxCell = -1;
    for (let i = 0; i < cellOfDevice.length; i++) if (cellOfDevice[i] > maxCell) maxCell = cellOfDevice[i];
    const down = new Uint8Array(maxCell + 1);
    for (let j = 0; j < cells.length; j++) if (cells[j] >= 0 && cells[j] <= maxCell) down[cells[j]] = 1;
    const affected = new Uint8Array(cellOfDevice.length);
    for (let i = 0; i < cellOfDevice.length; i++) affected[i] = down[cellOfDevice[i]];
    return new CellOutage(affected, startMs, endMs);
  }

  isActive(nowMs: number): boolean {
    return nowMs >= this.startMs && nowMs < this.endMs;
  }

  isDown(dev: number, nowMs: number): boolean {
    return this.affected[dev] === 1 && nowMs >= this.startMs && nowMs < this.endMs;
  }
}

/**
 * Picks exactly round(fraction * cellCount) distinct cells, deterministically from `seed` (a partial
 * Fisher–Yates shuffle with counter-based draws), returned in ascending order.
 */
export function pickCells(cellCount: number, fraction: number, seed: number, stream: number): Int32Array {
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError('pickCells: fraction must be in [0, 1]');
  const k = Math.round(fraction * cellCount);
  const order = new Int32Array(cellCount);
  for (let i = 0; i < cellCount; i++) order[i] = i;
  for (let i = 0; i < k; i++) {
    // Key 0x7fffffff marks a fleet-wide draw that no device index reaches.
    const j = i + (draw32(seed, 0x7fffffff, stream, i) % (cellCount - i));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order.slice(0, k).sort();
}

/**
 * Failover reachability from the two links' current states. `primaryDownSinceMs` is when the primary
 * went down and `backupUpSinceMs` when the backup came up (RenewalStates.periodStartMs of each).
 */
export function failoverReachable(
  primaryUp: boolean,
  primaryDownSinceMs: number,
  backupUp: boolean,
  backupUpSinceMs: number,
  switchoverMs: number,
  nowMs: number,
): boolean {
  if (primaryUp) return true;
  if (!backupUp) return false;
  return nowMs - Math.max(primaryDownSinceMs, backupUpSinceMs) >= switchoverMs;
}

/** A primary and a backup link per device, each with its own on/off process. */
export class FailoverLinks {
  constructor(
    readonly primary: RenewalStates,
    readonly backup: RenewalStates,
    readonly switchoverMs: number,
  ) {}

  reachableAt(dev: number, nowMs: number): boolean {
    const p = this.primary.isUpAt(dev, nowMs);
    const b = this.backup.isUpAt(dev, nowMs);
    return failoverReachable(
      p,
      this.primary.periodStartMs[dev],
      b,
      this.backup.periodStartMs[dev],
      this.switchoverMs,
      nowMs,
    );
  }
}
