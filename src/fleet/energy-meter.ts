import { SECONDS_PER_YEAR } from '../models/battery.js';
import { EnergyState, PowerState, type EnergyProfile } from '../models/energy.js';

/** Energies of the lifecycle steps, J (from the hardware profile's `events`). */
export interface StepEnergies {
  boot: number;
  attach: number;
  uplink: number;
  poll: number;
}

export interface EnergyProfileEntry {
  name: string;
  energy: EnergyProfile;
  steps: StepEnergies;
}

export const Activity = { cpu: 0, radio: 1, ota: 2 } as const;

/** Per-profile projection of one shard (merged across shards by the coordinator). */
export interface EnergyProjection {
  profile: string;
  devices: number;
  batteryDevices: number;
  depleted: number;
  /** Projected lifetime of each battery device, years (sorted ascending). */
  lifetimesYears: number[];
  /** Energy drawn by activity, J: sleep (state power over time), cpu (boot), radio (attach, uplink, poll), ota. */
  energyJ: { sleep: number; cpu: number; radio: number; ota: number };
  /**
   * The same in whole nanojoules, exactly: shards add these (BigInt, exact in any order) and
   * energyJ is derived from the sum, so the totals do not depend on how devices were split over
   * shards (float sums would: 1 and 2 workers must give identical summaries).
   */
  energyNJ: EnergyNJ;
}

export interface EnergyNJ {
  sleep: bigint;
  cpu: bigint;
  radio: bigint;
  ota: bigint;
}

/** An integer-valued float sum stays exact below 2^53; it moves into a BigInt well before that. */
const SPILL_NJ = 2 ** 52;

/** Energy totals in J from exact nanojoule totals. */
export function energyJOf(nj: EnergyNJ): EnergyProjection['energyJ'] {
  return { sleep: Number(nj.sleep) / 1e9, cpu: Number(nj.cpu) / 1e9, radio: Number(nj.radio) / 1e9, ota: Number(nj.ota) / 1e9 };
}

/**
 * Battery and energy of every device of a shard: the closed-form EnergyState of models/ plus the
 * energy of each lifecycle step, charged when the step happens. Devices sleep between steps.
 * Lifetime is projected from the energy each device actually used over the run:
 * lifetime = usable capacity / average drain, which includes its retries, offline periods and
 * self-discharge (a device that ran dry has its real depletion time instead).
 */
export class EnergyMeter {
  readonly state: EnergyState;
  /** Energy per (profile, activity) in whole nJ: a float part (exact below 2^53) and a BigInt spill. */
  private readonly activityNJ: Float64Array;
  private readonly activitySpill: bigint[];
  private readonly stepJ: Float64Array;
  /** Step energy at the battery (through the converter) per (profile, step), whole nJ. */
  private readonly stepNJ: Float64Array;
  private readonly invEta: Float64Array;

  constructor(
    count: number,
    private readonly profiles: readonly EnergyProfileEntry[],
    readonly profileOf: Uint16Array,
  ) {
    this.state = new EnergyState(count, profiles.map((p) => p.energy), { profileOf });
    this.activityNJ = new Float64Array(profiles.length * 3);
    this.activitySpill = new Array<bigint>(profiles.length * 3).fill(0n);
    // Steps per profile, in the order boot, attach, uplink, poll, for indexed access on the hot path.
    this.stepJ = new Float64Array(profiles.length * 4);
    profiles.forEach((p, i) => this.stepJ.set([p.steps.boot, p.steps.attach, p.steps.uplink, p.steps.poll], i * 4));
    this.invEta = Float64Array.from(profiles, (p) => 1 / p.energy.eta);
    this.stepNJ = this.stepJ.map((j, k) => Math.round(j * this.invEta[k >> 2] * 1e9));
    for (let dev = 0; dev < count; dev++) this.state.powerState[dev] = PowerState.sleep;
  }

  /**
   * Charges step `step` (0 boot, 1 attach, 2 uplink, 3 poll) at time `t`. Returns false when the
   * device's battery is (now) empty: the caller takes it dark.
   */
  charge(dev: number, step: number, t: number): boolean {
    const s = this.state;
    s.advance(dev, t);
    // The state's own copy of profileOf: advance just read that line (this.profileOf would be one
    // more cache miss per step on a large shard).
    const p = s.profileOf[dev];
    const j = this.stepJ[p * 4 + step];
    // Counted at the battery (through the converter), as consumedJ is.
    this.addNJ(p * 3 + (step === 0 ? Activity.cpu : Activity.radio), this.stepNJ[p * 4 + step]);
    return s.spend(dev, j);
  }

  /** Charges an arbitrary energy (an OTA download, a diagnostics run) at `t`; false when the battery is empty. */
  chargeJoules(dev: number, joules: number, t: number, activity: number = Activity.ota): boolean {
    const s = this.state;
    s.advance(dev, t);
    const p = s.profileOf[dev];
    this.addNJ(p * 3 + activity, Math.round(joules * this.invEta[p] * 1e9));
    return s.spend(dev, joules);
  }

  private addNJ(k: number, nj: number): void {
    const v = this.activityNJ[k] + nj;
    if (v < SPILL_NJ) this.activityNJ[k] = v;
    else {
      this.activitySpill[k] += BigInt(v);
      this.activityNJ[k] = 0;
    }
  }

  private totalNJ(k: number): bigint {
    return this.activitySpill[k] + BigInt(this.activityNJ[k]);
  }

  isDepleted(dev: number, t: number): boolean {
    this.state.advance(dev, t);
    return this.state.isDepleted(dev);
  }

  depletedCount(t: number): number {
    let n = 0;
    for (let dev = 0; dev < this.state.count; dev++) if (this.isDepleted(dev, t)) n++;
    return n;
  }

  /** Brings every device to `endMs` and projects lifetimes per profile. */
  project(endMs: number): EnergyProjection[] {
    const s = this.state;
    const np = this.profiles.length;
    const out: EnergyProjection[] = this.profiles.map((p) => ({
      profile: p.name,
      devices: 0,
      batteryDevices: 0,
      depleted: 0,
      lifetimesYears: [],
      energyJ: { sleep: 0, cpu: 0, radio: 0, ota: 0 },
      energyNJ: { sleep: 0n, cpu: 0n, radio: 0n, ota: 0n },
    }));
    // Everything each device drew, summed exactly in whole nJ (float part + BigInt spill).
    const consumedNJ = new Float64Array(np);
    const consumedSpill = new Array<bigint>(np).fill(0n);
    for (let dev = 0; dev < s.count; dev++) {
      s.advance(dev, endMs);
      const p = this.profileOf[dev];
      const o = out[p];
      o.devices++;
      const v = consumedNJ[p] + Math.round(s.consumedJ[dev] * 1e9);
      if (v < SPILL_NJ) consumedNJ[p] = v;
      else {
        consumedSpill[p] += BigInt(v);
        consumedNJ[p] = 0;
      }
      if (s.isMains(dev)) continue;
      o.batteryDevices++;
      const capacity = this.profiles[p].energy.usableCapacityJ;
      let lifetimeS: number;
      if (s.isDepleted(dev)) {
        o.depleted++;
        lifetimeS = s.depletedAtMs[dev] / 1000;
      } else {
        const used = capacity - s.energyLeftJ[dev];
        lifetimeS = used > 0 ? ((endMs / 1000) * capacity) / used : Infinity;
      }
      o.lifetimesYears.push(lifetimeS / SECONDS_PER_YEAR);
    }
    out.forEach((o, p) => {
      const nj = o.energyNJ;
      nj.cpu = this.totalNJ(p * 3 + Activity.cpu);
      nj.radio = this.totalNJ(p * 3 + Activity.radio);
      nj.ota = this.totalNJ(p * 3 + Activity.ota);
      // consumedJ counts state power and events together; the sleep share is what remains.
      const sleep = consumedSpill[p] + BigInt(consumedNJ[p]) - nj.cpu - nj.radio - nj.ota;
      nj.sleep = sleep > 0n ? sleep : 0n;
      o.energyJ = energyJOf(nj);
      o.lifetimesYears.sort((a, b) => a - b);
    });
    return out;
  }
}
