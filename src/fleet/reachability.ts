import { pickCells } from '../models/correlated-outage.js';
import { renewalFromAvailability, RenewalStates, type AvailabilitySpec } from '../models/outage.js';
import { Stream, uniform } from '../models/rng.js';
import type { Schedule } from './schedule.js';
import { Ev } from './event-kinds.js';

const BACKUP_STREAM = Stream.offline + 100;

/** Why a device cannot reach the network; a device is reachable only when no bit is set. */
export const Down = { own: 1, outage: 2 } as const;

/** A scripted outage from a scenario phase. */
export interface OutagePhase {
  atMs: number;
  durationMs: number;
  /** cell: whole cells (picked exactly), device: each device independently, fleet: everyone. */
  scope: 'cell' | 'device' | 'fleet';
  fraction: number;
  /** Phase index, which keys the draws so two outages pick independently. */
  index: number;
}

export interface ReachabilityConfig {
  seed: number;
  /** Per-device on/off renewal (behaviour.offline); none = always up on its own. */
  offline?: AvailabilitySpec;
  /**
   * A backup link with its own on/off process: when the primary is down and the backup is up,
   * the device is reachable again once `switchoverMs` has passed (failover).
   */
  backup?: AvailabilitySpec & { switchoverMs: number };
  /** Global cell of each local device (-1 = no cell), and how many cells the fleet has. */
  cellOf?: Int32Array;
  cellCount?: number;
  outages: OutagePhase[];
}

/**
 * Whether each device of a shard can reach the network: its own on/off process (the renewal
 * model of models/outage.ts, keyed by the global device index so it is the same on any shard)
 * and scripted outages of cells, random devices or the whole fleet. Transitions are scheduled
 * events; `onChange` tells the lifecycle when a device becomes reachable or not.
 */
export class Reachability {
  readonly down: Uint8Array;
  private readonly renewal?: RenewalStates;
  /** Outage phase active per device while it is down for that phase (to end the right one). */
  private readonly outageDepth: Uint8Array;
  private readonly backup?: RenewalStates;
  /** When the pending switchover to the backup completes (NaN: none pending). */
  private readonly switchAt?: Float64Array;
  private readonly onBackup?: Uint8Array;

  constructor(
    readonly count: number,
    private readonly firstDevice: number,
    private readonly cfg: ReachabilityConfig,
  ) {
    this.down = new Uint8Array(count);
    this.outageDepth = new Uint8Array(count);
    if (cfg.offline) {
      const model = renewalFromAvailability(cfg.offline);
      this.renewal = new RenewalStates(count, cfg.seed, [model], { keyBase: firstDevice, stream: Stream.offline, start: 'stationary' });
      for (let dev = 0; dev < count; dev++) if (!this.renewal.up[dev]) this.down[dev] |= Down.own;
      if (cfg.backup) {
        // Its own stream: the backup's outages are independent of the primary's.
        this.backup = new RenewalStates(count, cfg.seed, [renewalFromAvailability(cfg.backup)], { keyBase: firstDevice, stream: BACKUP_STREAM, start: 'stationary' });
        this.switchAt = new Float64Array(count).fill(NaN);
        this.onBackup = new Uint8Array(count);
        // A device whose primary starts down may start on its backup (already switched over).
        for (let dev = 0; dev < count; dev++) {
          if (!this.renewal.up[dev] && this.backup.up[dev]) {
            this.onBackup[dev] = 1;
            this.down[dev] &= ~Down.own;
          }
        }
      }
    }
  }

  /** Re-derives the device's own reachability from primary, backup and switchover state. */
  private settleOwn(dev: number, now: number, schedule: Schedule): void {
    const primaryUp = this.renewal!.up[dev] === 1;
    const b = this.backup;
    if (primaryUp || !b) {
      if (this.onBackup) this.onBackup[dev] = 0;
      if (this.switchAt) this.switchAt[dev] = NaN;
      if (primaryUp) this.down[dev] &= ~Down.own;
      else this.down[dev] |= Down.own;
      return;
    }
    if (b.up[dev] !== 1) {
      this.onBackup![dev] = 0;
      this.switchAt![dev] = NaN;
      this.down[dev] |= Down.own;
      return;
    }
    if (this.onBackup![dev]) return; // already carried by the backup
    this.down[dev] |= Down.own;
    if (Number.isNaN(this.switchAt![dev])) {
      this.switchAt![dev] = now + this.cfg.backup!.switchoverMs;
      schedule.at(this.switchAt![dev], dev, Ev.switchover);
    }
  }

  reachable(dev: number): boolean {
    return this.down[dev] === 0;
  }

  /** Queues the first transition of every device and the scripted outages. */
  plan(schedule: Schedule): void {
    if (this.renewal) for (let dev = 0; dev < this.count; dev++) schedule.at(this.renewal.nextTransitionMs[dev], dev, Ev.linkFlip);
    if (this.backup) for (let dev = 0; dev < this.count; dev++) schedule.at(this.backup.nextTransitionMs[dev], dev, Ev.backupFlip);
    for (const o of this.cfg.outages) {
      const hit = this.affected(o);
      for (let dev = 0; dev < this.count; dev++) {
        if (!hit(dev)) continue;
        schedule.at(o.atMs, dev, Ev.outageStart);
        schedule.at(o.atMs + o.durationMs, dev, Ev.outageEnd);
      }
    }
  }

  private affected(o: OutagePhase): (dev: number) => boolean {
    if (o.scope === 'fleet') return () => true;
    if (o.scope === 'device') return (dev) => uniform(this.cfg.seed, this.firstDevice + dev, Stream.offline, 0x40000000 + o.index) < o.fraction;
    const cellOf = this.cfg.cellOf;
    const cells = this.cfg.cellCount ?? 0;
    if (!cellOf || cells === 0) return () => false;
    const picked = new Uint8Array(cells);
    for (const c of pickCells(cells, o.fraction, this.cfg.seed, Stream.offline * 1000 + o.index)) picked[c] = 1;
    return (dev) => cellOf[dev] >= 0 && picked[cellOf[dev]] === 1;
  }

  /**
   * Applies a reachability event. Returns +1 when the device just became reachable, -1 when it
   * just became unreachable, 0 when nothing changed for it.
   */
  apply(kind: number, dev: number, t: number, schedule: Schedule): number {
    const before = this.down[dev] === 0;
    if (kind === Ev.linkFlip && this.renewal) {
      const at = this.renewal.nextTransitionMs[dev];
      schedule.at(this.renewal.transition(dev), dev, Ev.linkFlip);
      this.settleOwn(dev, at, schedule);
    } else if (kind === Ev.backupFlip && this.backup) {
      const at = this.backup.nextTransitionMs[dev];
      schedule.at(this.backup.transition(dev), dev, Ev.backupFlip);
      this.settleOwn(dev, at, schedule);
    } else if (kind === Ev.switchover && this.switchAt) {
      // Only the switchover still pending counts (the primary may have come back meanwhile).
      if (this.switchAt[dev] === t && !this.renewal!.up[dev] && this.backup!.up[dev]) {
        this.switchAt[dev] = NaN;
        this.onBackup![dev] = 1;
        this.down[dev] &= ~Down.own;
        this.failovers++;
      }
    } else if (kind === Ev.outageStart) {
      this.outageDepth[dev]++;
      this.down[dev] |= Down.outage;
    } else if (kind === Ev.outageEnd) {
      if (this.outageDepth[dev] > 0 && --this.outageDepth[dev] === 0) this.down[dev] &= ~Down.outage;
    }
    const after = this.down[dev] === 0;
    return before === after ? 0 : after ? 1 : -1;
  }

  /** Switchovers to the backup link so far. */
  failovers = 0;

  unreachableCount(): number {
    let n = 0;
    for (let dev = 0; dev < this.count; dev++) if (this.down[dev] !== 0) n++;
    return n;
  }
}
