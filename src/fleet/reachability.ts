import { pickCells } from '../models/correlated-outage.js';
import { renewalFromAvailability, RenewalStates, type AvailabilitySpec } from '../models/outage.js';
import { Stream, uniform } from '../models/rng.js';
import { Ev, type Schedule } from './schedule.js';

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
    }
  }

  reachable(dev: number): boolean {
    return this.down[dev] === 0;
  }

  /** Queues the first transition of every device and the scripted outages. */
  plan(schedule: Schedule): void {
    if (this.renewal) for (let dev = 0; dev < this.count; dev++) schedule.at(this.renewal.nextTransitionMs[dev], dev, Ev.linkFlip);
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
  apply(kind: number, dev: number, schedule: Schedule): number {
    const before = this.down[dev] === 0;
    if (kind === Ev.linkFlip && this.renewal) {
      const next = this.renewal.transition(dev);
      if (this.renewal.up[dev]) this.down[dev] &= ~Down.own;
      else this.down[dev] |= Down.own;
      schedule.at(next, dev, Ev.linkFlip);
    } else if (kind === Ev.outageStart) {
      this.outageDepth[dev]++;
      this.down[dev] |= Down.outage;
    } else if (kind === Ev.outageEnd) {
      if (this.outageDepth[dev] > 0 && --this.outageDepth[dev] === 0) this.down[dev] &= ~Down.outage;
    }
    const after = this.down[dev] === 0;
    return before === after ? 0 : after ? 1 : -1;
  }

  unreachableCount(): number {
    let n = 0;
    for (let dev = 0; dev < this.count; dev++) if (this.down[dev] !== 0) n++;
    return n;
  }
}
