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
  private readonly activityJ: Float64Array;
  private readonly stepJ: Float64Array;
  private readonly invEta: Float64Array;

  constructor(
    count: number,
    private readonly profiles: readonly EnergyProfileEntry[],
    readonly profileOf: Uint16Array,
  ) {
    this.state = new EnergyState(count, profiles.map((p) => p.energy), { profileOf });
    this.activityJ = new Float64Array(profiles.length * 3);
    // Steps per profile, in the order boot, attach, uplink, poll, for indexed access on the hot path.
    this.stepJ = new Float64Array(profiles.length * 4);
    profiles.forEach((p, i) => this.stepJ.set([p.steps.boot, p.steps.attach, p.steps.uplink, p.steps.poll], i * 4));
    this.invEta = Float64Array.from(profiles, (p) => 1 / p.energy.eta);
    for (let dev = 0; dev < count; dev++) this.state.powerState[dev] = PowerState.sleep;
  }

  /**
   * Charges step `step` (0 boot, 1 attach, 2 uplink, 3 poll) at time `t`. Returns false when the
   * device's battery is (now) empty: the caller takes it dark.
   */
  charge(dev: number, step: number, t: number): boolean {
    const s = this.state;
    s.advance(dev, t);
    const p = this.profileOf[dev];
    const j = this.stepJ[p * 4 + step];
    // Counted at the battery (through the converter), as consumedJ is.
    this.activityJ[p * 3 + (step === 0 ? Activity.cpu : Activity.radio)] += j * this.invEta[p];
    return s.spend(dev, j);
  }

  /** Charges an arbitrary energy (an OTA download, a diagnostics run) at `t`; false when the battery is empty. */
  chargeJoules(dev: number, joules: number, t: number, activity: number = Activity.ota): boolean {
    const s = this.state;
    s.advance(dev, t);
    const p = this.profileOf[dev];
    this.activityJ[p * 3 + activity] += joules * this.invEta[p];
    return s.spend(dev, joules);
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
    const out: EnergyProjection[] = this.profiles.map((p) => ({
      profile: p.name,
      devices: 0,
      batteryDevices: 0,
      depleted: 0,
      lifetimesYears: [],
      energyJ: { sleep: 0, cpu: 0, radio: 0, ota: 0 },
    }));
    for (let dev = 0; dev < s.count; dev++) {
      s.advance(dev, endMs);
      const p = this.profileOf[dev];
      const o = out[p];
      o.devices++;
      o.energyJ.sleep += s.consumedJ[dev];
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
      o.energyJ.cpu = this.activityJ[p * 3 + Activity.cpu];
      o.energyJ.radio = this.activityJ[p * 3 + Activity.radio];
      o.energyJ.ota = this.activityJ[p * 3 + Activity.ota];
      // consumedJ counts state power and events together; the sleep share is what remains.
      o.energyJ.sleep = Math.max(0, o.energyJ.sleep - o.energyJ.cpu - o.energyJ.radio - o.energyJ.ota);
      o.lifetimesYears.sort((a, b) => a - b);
    });
    return out;
  }
}
