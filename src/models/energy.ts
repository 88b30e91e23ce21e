/**
 * Joule accounting for N devices as a struct of arrays.
 *
 * Between two events a device sits in one power state, so its battery drains linearly and the update
 * is closed form (never ticking):
 *
 *   E_left -= (P_state + P_board) * dt / eta + P_self * dt - P_harvest * dt     (capped at capacity)
 *   E_left -= E_event / eta                                                  (for each compound event)
 *
 * Board overhead is a load like any other, so it goes through the converter (divided by eta);
 * self-discharge is internal to the cell and does not. Harvest (solar.ts) is an average input power.
 *
 * Depletion latches: once a battery reaches zero the device is dead (brown-out) and stays dead even if
 * a harvester could later refill it; the question this answers is "when does it first die".
 *
 * Concurrency: an EnergyState belongs to one shard (one thread). Calls for one device must come in
 * nondecreasing time; an `advance` to an earlier time than the last update is ignored.
 */

/** Power states; every energy profile gives a constant draw (W) for each. */
export const PowerState = {
  /** deep sleep / PSM */
  sleep: 0,
  /** eDRX or light idle */
  idle: 1,
  /** CPU active, radio off */
  active: 2,
  rx: 3,
  tx: 4,
} as const;
export type PowerStateId = (typeof PowerState)[keyof typeof PowerState];
export const POWER_STATE_COUNT = 5;

/** The energy side of a hardware profile. */
export interface EnergyProfile {
  /** Chip/module draw in W for each power state, indexed by PowerState (length POWER_STATE_COUNT). */
  readonly statePowerW: readonly number[];
  /** Constant board overhead in W on top of every state (regulators, sensors, LEDs, leakage). */
  readonly boardOverheadW: number;
  /** Conversion efficiency from battery to load, in (0, 1]. */
  readonly eta: number;
  /** Mains powered: no battery, never depletes; the energy drawn is still counted. */
  readonly mains: boolean;
  /** Usable capacity in J (battery.ts usableCapacityJ); ignored when mains. */
  readonly usableCapacityJ: number;
  /** Self-discharge as a constant power in W (battery.ts selfDischargeW); ignored when mains. */
  readonly selfDischargeW: number;
}

export interface EnergyStateOptions {
  /** Profile index of each device (default: all 0). */
  readonly profileOf?: ArrayLike<number>;
  /** Virtual time of the initial state, ms (default 0). */
  readonly startMs?: number;
  /** Initial state of charge as a fraction of usable capacity (default 1). */
  readonly initialCharge?: number;
}

export class EnergyState {
  readonly count: number;
  /** Energy left in each battery, J (Infinity for mains devices). */
  readonly energyLeftJ: Float64Array;
  /** Energy drawn from the source by the load (after conversion losses), J; counted for mains too. */
  readonly consumedJ: Float64Array;
  /** Time up to which the device's energy is accounted, ms. */
  readonly lastUpdateMs: Float64Array;
  /** Time the battery ran dry, ms; NaN while alive. */
  readonly depletedAtMs: Float64Array;
  readonly powerState: Uint8Array;
  readonly profileOf: Uint16Array;
  /** Average harvested power per device, W (0 = none); set it from solar.ts. */
  readonly harvestW: Float64Array;

  /** (P_state + P_board) / eta per profile and state: [profile * POWER_STATE_COUNT + state]. */
  private readonly sourceW: Float64Array;
  private readonly invEta: Float64Array;
  private readonly selfW: Float64Array;
  private readonly capacityJ: Float64Array;
  private readonly mains: Uint8Array;

  constructor(count: number, profiles: readonly EnergyProfile[], options: EnergyStateOptions = {}) {
    if (profiles.length === 0 || profiles.length > 0xffff) throw new RangeError('EnergyState: 1..65535 profiles');
    this.count = count;
    const np = profiles.length;
    this.sourceW = new Float64Array(np * POWER_STATE_COUNT);
    this.invEta = new Float64Array(np);
    this.selfW = new Float64Array(np);
    this.capacityJ = new Float64Array(np);
    this.mains = new Uint8Array(np);
    for (let p = 0; p < np; p++) {
      const prof = profiles[p];
      if (prof.statePowerW.length !== POWER_STATE_COUNT) {
        throw new RangeError(`EnergyState: profile ${p} needs ${POWER_STATE_COUNT} state powers`);
      }
      if (!(prof.eta > 0 && prof.eta <= 1)) throw new RangeError(`EnergyState: profile ${p} eta must be in (0, 1]`);
      this.invEta[p] = 1 / prof.eta;
      for (let s = 0; s < POWER_STATE_COUNT; s++) {
        this.sourceW[p * POWER_STATE_COUNT + s] = (prof.statePowerW[s] + prof.boardOverheadW) / prof.eta;
      }
      this.mains[p] = prof.mains ? 1 : 0;
      this.selfW[p] = prof.mains ? 0 : prof.selfDischargeW;
      this.capacityJ[p] = prof.mains ? Infinity : prof.usableCapacityJ;
    }

    const startMs = options.startMs ?? 0;
    const charge = options.initialCharge ?? 1;
    this.energyLeftJ = new Float64Array(count);
    this.consumedJ = new Float64Array(count);
    this.lastUpdateMs = new Float64Array(count).fill(startMs);
    this.depletedAtMs = new Float64Array(count).fill(NaN);
    this.powerState = new Uint8Array(count); // PowerState.sleep
    this.profileOf = new Uint16Array(count);
    this.harvestW = new Float64Array(count);
    for (let d = 0; d < count; d++) {
      const p = options.profileOf ? options.profileOf[d] : 0;
      if (p >= np) throw new RangeError(`EnergyState: device ${d} has unknown profile ${p}`);
      this.profileOf[d] = p;
      this.energyLeftJ[d] = this.mains[p] ? Infinity : this.capacityJ[p] * charge;
    }
  }

  /** Brings `dev`'s account up to `nowMs` in closed form, detecting the exact depletion time. */
  advance(dev: number, nowMs: number): void {
    const last = this.lastUpdateMs[dev];
    if (!(nowMs > last)) return;
    this.lastUpdateMs[dev] = nowMs;
    if (this.depletedAtMs[dev] === this.depletedAtMs[dev]) return; // already dead (not NaN)
    const p = this.profileOf[dev];
    const loadW = this.sourceW[p * POWER_STATE_COUNT + this.powerState[dev]];
    const dtS = (nowMs - last) / 1000;
    if (this.mains[p]) {
      this.consumedJ[dev] += loadW * dtS;
      return;
    }
    const left = this.energyLeftJ[dev];
    const netW = this.harvestW[dev] - loadW - this.selfW[p];
    const e = left + netW * dtS;
    if (e > 0) {
      this.consumedJ[dev] += loadW * dtS;
      this.energyLeftJ[dev] = netW > 0 ? Math.min(e, this.capacityJ[p]) : e;
      return;
    }
    // Ran dry inside this interval: the drain is linear, so the crossing time is exact.
    const aliveS = left / -netW;
    this.consumedJ[dev] += loadW * aliveS;
    this.energyLeftJ[dev] = 0;
    this.depletedAtMs[dev] = last + aliveS * 1000;
  }

  /** Advances to `nowMs`, then switches `dev` to `state`. */
  setPowerState(dev: number, state: PowerStateId, nowMs: number): void {
    this.advance(dev, nowMs);
    this.powerState[dev] = state;
  }

  /**
   * Charges a compound event (attach, TAU, one uplink, an OTA download) of `joules` at the load, at
   * the device's current accounting time (call `advance` first). Returns false when the device is, or
   * has just become, depleted.
   */
  spend(dev: number, joules: number): boolean {
    if (this.depletedAtMs[dev] === this.depletedAtMs[dev]) return false;
    const p = this.profileOf[dev];
    const sourceJ = joules * this.invEta[p];
    if (this.mains[p]) {
      this.consumedJ[dev] += sourceJ;
      return true;
    }
    const left = this.energyLeftJ[dev];
    if (sourceJ < left) {
      this.consumedJ[dev] += sourceJ;
      this.energyLeftJ[dev] = left - sourceJ;
      return true;
    }
    this.consumedJ[dev] += left;
    this.energyLeftJ[dev] = 0;
    this.depletedAtMs[dev] = this.lastUpdateMs[dev];
    return false;
  }

  isDepleted(dev: number): boolean {
    return this.depletedAtMs[dev] === this.depletedAtMs[dev];
  }

  isMains(dev: number): boolean {
    return this.mains[this.profileOf[dev]] === 1;
  }

  /** State of charge in [0, 1] at the last accounting time (1 for mains devices). */
  stateOfCharge(dev: number): number {
    const p = this.profileOf[dev];
    return this.mains[p] ? 1 : this.energyLeftJ[dev] / this.capacityJ[p];
  }

  /** Net battery drain in W in the current state (negative when harvest exceeds the load). */
  drainW(dev: number): number {
    const p = this.profileOf[dev];
    if (this.mains[p]) return 0;
    return this.sourceW[p * POWER_STATE_COUNT + this.powerState[dev]] + this.selfW[p] - this.harvestW[dev];
  }

  /**
   * When the battery would run dry if the device stayed in its current state with no further events,
   * ms (Infinity if never). Lets a scheduler post one depletion event instead of ticking.
   */
  projectedDepletionMs(dev: number): number {
    if (this.isDepleted(dev)) return this.depletedAtMs[dev];
    const drain = this.drainW(dev);
    if (!(drain > 0)) return Infinity;
    return this.lastUpdateMs[dev] + (this.energyLeftJ[dev] / drain) * 1000;
  }
}
