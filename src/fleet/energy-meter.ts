import { PowerState, POWER_STATE_COUNT, type EnergyProfile } from '../models/energy.js';
import { Flag, RecF64, RECORD_BYTES, type DeviceTable } from './device-table.js';

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

/**
 * One number per device. A shard sends Float64Arrays: structured clone copies their bytes in one
 * go, where a plain array of 250,000 fractions became 250,000 heap numbers on the coordinator,
 * and most of its garbage collection at the end of a large run (bench/RESULTS.md, "Deferred
 * acks"). merge-parts.json gives plain arrays back.
 */
export type PerDevice = ArrayLike<number>;

const EMPTY: PerDevice = new Float64Array(0);

/**
 * Per-profile energy of one shard (merged across shards by the coordinator, which projects the
 * lifetimes: results/battery-projection.ts). Per battery device that ran and still has energy, the
 * one-off energy (counted once) and the recurring energy over its steady-state window, so that
 * the projection does not extrapolate boot, attach, provisioning or an OTA as if they recurred.
 */
export interface EnergyProjection {
  profile: string;
  devices: number;
  batteryDevices: number;
  depleted: number;
  /** Usable battery capacity, J, and self-discharge, W, of the profile. */
  capacityJ: number;
  selfDischargeW: number;
  /**
   * Per running battery device (aligned arrays): one-off energy drawn (J, at the battery: shelf
   * time before power-on, boot, the attach after a boot, provisioning, OTA), recurring energy
   * drawn since power-on (J: sleep, reports, polls, re-attaches; without self-discharge) and the
   * window it was drawn over (s, power-on to the end of the simulated part).
   */
  running: { oneOffJ: PerDevice; recurringJ: PerDevice; windowS: PerDevice };
  /** Devices whose battery ran dry: seconds from power-on to empty. */
  depletedAfterS: PerDevice;
  /** Battery devices that had not powered on by the end. */
  notStarted: number;
  /** When the profile's last battery device powered on, ms (-1: none did). */
  lastPowerOnMs: number;
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

const F = RECORD_BYTES / 8;

/**
 * Battery and energy of every device of a shard: the closed-form update of models/energy.ts
 * (EnergyState) plus the energy of each lifecycle step, charged when the step happens. Devices
 * sleep between steps (the lifecycle never changes a device's power state). Each device's energy
 * is kept in two parts: one-off (boot, the attach that follows it, provisioning, OTA) and the rest,
 * recurring from its power-on on (sleep, reports, polls, re-attaches after link loss, retries), so
 * a projection can count the one-offs once and extrapolate only the steady rate.
 *
 * The per-device state (energy left, energy consumed, accounting time, depletion) lives in the
 * device records (device-table.ts), on the cache line every report touches anyway; the update is
 * EnergyState's, operation for operation, so results are bit-identical to it (no harvest here).
 * The profile of a device is its fleet group. Single-threaded, like the records.
 */
export class EnergyMeter {
  private readonly f64: Float64Array;
  /** Energy per (profile, activity) in whole nJ: a float part (exact below 2^53) and a BigInt spill. */
  private readonly activityNJ: Float64Array;
  private readonly activitySpill: bigint[];
  private readonly stepJ: Float64Array;
  /** Step energy at the battery (through the converter) per (profile, step), whole nJ. */
  private readonly stepNJ: Float64Array;
  private readonly invEta: Float64Array;
  /** Per profile: sleep draw at the source ((P_sleep + P_board) / eta), W. */
  private readonly sleepW: Float64Array;
  /** Per profile: net battery power asleep (−sleep draw − self-discharge), W. */
  private readonly netSleepW: Float64Array;
  private readonly capacityJ: Float64Array;
  private readonly mains: Uint8Array;

  constructor(
    private readonly devices: DeviceTable,
    private readonly profiles: readonly EnergyProfileEntry[],
  ) {
    this.f64 = devices.f64;
    const np = profiles.length;
    this.activityNJ = new Float64Array(np * 3);
    this.activitySpill = new Array<bigint>(np * 3).fill(0n);
    // Steps per profile, in the order boot, attach, uplink, poll, for indexed access on the hot path.
    this.stepJ = new Float64Array(np * 4);
    profiles.forEach((p, i) => this.stepJ.set([p.steps.boot, p.steps.attach, p.steps.uplink, p.steps.poll], i * 4));
    this.invEta = Float64Array.from(profiles, (p) => 1 / p.energy.eta);
    this.stepNJ = this.stepJ.map((j, k) => Math.round(j * this.invEta[k >> 2] * 1e9));
    this.mains = Uint8Array.from(profiles, (p) => (p.energy.mains ? 1 : 0));
    this.capacityJ = Float64Array.from(profiles, (p) => (p.energy.mains ? Infinity : p.energy.usableCapacityJ));
    this.sleepW = Float64Array.from(profiles, (p) => (p.energy.statePowerW[PowerState.sleep] + p.energy.boardOverheadW) / p.energy.eta);
    // As EnergyState computes it: harvest (0) − load − self-discharge.
    this.netSleepW = Float64Array.from(profiles, (p, i) => 0 - this.sleepW[i] - (p.energy.mains ? 0 : p.energy.selfDischargeW));
    for (const p of profiles) {
      if (p.energy.statePowerW.length !== POWER_STATE_COUNT) throw new RangeError(`EnergyMeter: profile ${p.name} needs ${POWER_STATE_COUNT} state powers`);
      if (!(p.energy.eta > 0 && p.energy.eta <= 1)) throw new RangeError(`EnergyMeter: profile ${p.name} eta must be in (0, 1]`);
    }
    for (let dev = 0; dev < devices.count; dev++) {
      this.f64[dev * F + RecF64.energyLeftJ] = this.capacityJ[devices.group(dev)];
      this.f64[dev * F + RecF64.poweredOnAtMs] = -1;
    }
  }

  /**
   * The device powers on at `t`: the start of its steady-state window. What it drew on the shelf
   * before (sleep power since the run started) is one-off energy.
   */
  powerOn(dev: number, t: number): void {
    this.advance(dev, t);
    const o = dev * F;
    if (this.f64[o + RecF64.poweredOnAtMs] >= 0) return;
    this.f64[o + RecF64.poweredOnAtMs] = t;
    this.f64[o + RecF64.oneOffJ] = this.f64[o + RecF64.consumedJ];
  }

  /** Share of the usable battery left, 0..1, as of the last accounting (1 on mains: never depletes). */
  stateOfCharge(dev: number): number {
    const cap = this.capacityJ[this.devices.group(dev)];
    if (cap === Infinity) return 1;
    const left = this.f64[dev * F + RecF64.energyLeftJ];
    return left <= 0 ? 0 : left >= cap ? 1 : left / cap;
  }

  /** Brings `dev`'s account up to `nowMs` in closed form, detecting the exact depletion time. */
  private advance(dev: number, nowMs: number): void {
    const f = this.f64;
    const o = dev * F;
    const last = f[o + RecF64.energyAtMs];
    if (!(nowMs > last)) return;
    f[o + RecF64.energyAtMs] = nowMs;
    if (this.devices.has(dev, Flag.depleted)) return;
    const p = this.devices.group(dev);
    const loadW = this.sleepW[p];
    const dtS = (nowMs - last) / 1000;
    if (this.mains[p]) {
      f[o + RecF64.consumedJ] += loadW * dtS;
      return;
    }
    const left = f[o + RecF64.energyLeftJ];
    const netW = this.netSleepW[p];
    const e = left + netW * dtS;
    if (e > 0) {
      f[o + RecF64.consumedJ] += loadW * dtS;
      f[o + RecF64.energyLeftJ] = netW > 0 ? Math.min(e, this.capacityJ[p]) : e;
      return;
    }
    // Ran dry inside this interval: the drain is linear, so the crossing time is exact.
    const aliveS = left / -netW;
    f[o + RecF64.consumedJ] += loadW * aliveS;
    f[o + RecF64.energyLeftJ] = 0;
    this.deplete(dev, last + aliveS * 1000);
  }

  private deplete(dev: number, atMs: number): void {
    this.f64[dev * F + RecF64.depletedAtMs] = atMs;
    this.devices.set(dev, Flag.depleted);
  }

  /** Spends `joules` at the load at the device's accounting time; false when it is (now) depleted. */
  private spend(dev: number, p: number, joules: number, oneOff: boolean): boolean {
    if (this.devices.has(dev, Flag.depleted)) return false;
    const f = this.f64;
    const o = dev * F;
    const sourceJ = joules * this.invEta[p];
    if (oneOff) f[o + RecF64.oneOffJ] += sourceJ;
    if (this.mains[p]) {
      f[o + RecF64.consumedJ] += sourceJ;
      return true;
    }
    const left = f[o + RecF64.energyLeftJ];
    if (sourceJ < left) {
      f[o + RecF64.consumedJ] += sourceJ;
      f[o + RecF64.energyLeftJ] = left - sourceJ;
      return true;
    }
    f[o + RecF64.consumedJ] += left;
    f[o + RecF64.energyLeftJ] = 0;
    this.deplete(dev, f[o + RecF64.energyAtMs]);
    return false;
  }

  /**
   * Charges step `step` (0 boot, 1 attach, 2 uplink, 3 poll) at the clock's now; `oneOff` when it
   * is part of starting up (boot, the attach after it, provisioning) rather than of the duty cycle.
   * Returns false when the device's battery is (now) empty: the caller takes it dark. It takes the
   * clock rather than the time: a time passed to a call V8 does not inline is a new HeapNumber,
   * one per report on the virtual clock.
   */
  charge(dev: number, step: number, clock: { now(): number }, oneOff = false): boolean {
    this.advance(dev, clock.now());
    const p = this.devices.group(dev);
    // Counted at the battery (through the converter), as consumedJ is.
    this.addNJ(p * 3 + (step === 0 ? Activity.cpu : Activity.radio), this.stepNJ[p * 4 + step]);
    return this.spend(dev, p, this.stepJ[p * 4 + step], oneOff);
  }

  /**
   * Charges an arbitrary energy at `t`; false when the battery is empty. An OTA download is a
   * one-off (the projection counts it once, or at the rate the scenario states).
   */
  chargeJoules(dev: number, joules: number, t: number, activity: number = Activity.ota): boolean {
    this.advance(dev, t);
    const p = this.devices.group(dev);
    this.addNJ(p * 3 + activity, Math.round(joules * this.invEta[p] * 1e9));
    return this.spend(dev, p, joules, activity === Activity.ota);
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

  /** Brings every device to `endMs` and hands over, per profile, what a projection needs. */
  project(endMs: number): EnergyProjection[] {
    const f = this.f64;
    const np = this.profiles.length;
    const out: EnergyProjection[] = this.profiles.map((p) => ({
      profile: p.name,
      devices: 0,
      batteryDevices: 0,
      depleted: 0,
      capacityJ: p.energy.mains ? Infinity : p.energy.usableCapacityJ,
      selfDischargeW: p.energy.mains ? 0 : p.energy.selfDischargeW,
      running: { oneOffJ: EMPTY, recurringJ: EMPTY, windowS: EMPTY },
      depletedAfterS: EMPTY,
      notStarted: 0,
      lastPowerOnMs: -1,
      energyJ: { sleep: 0, cpu: 0, radio: 0, ota: 0 },
      energyNJ: { sleep: 0n, cpu: 0n, radio: 0n, ota: 0n },
    }));
    // The per-device numbers, gathered here and handed over as Float64Arrays (PerDevice).
    const lists = this.profiles.map(() => ({ oneOffJ: [] as number[], recurringJ: [] as number[], windowS: [] as number[], depletedAfterS: [] as number[] }));
    // Everything each device drew, summed exactly in whole nJ (float part + BigInt spill).
    const consumedNJ = new Float64Array(np);
    const consumedSpill = new Array<bigint>(np).fill(0n);
    for (let dev = 0; dev < this.devices.count; dev++) {
      this.advance(dev, endMs);
      const o = dev * F;
      const p = this.devices.group(dev);
      const po = out[p];
      po.devices++;
      const v = consumedNJ[p] + Math.round(f[o + RecF64.consumedJ] * 1e9);
      if (v < SPILL_NJ) consumedNJ[p] = v;
      else {
        consumedSpill[p] += BigInt(v);
        consumedNJ[p] = 0;
      }
      if (this.mains[p]) continue;
      po.batteryDevices++;
      const on = f[o + RecF64.poweredOnAtMs];
      if (this.devices.has(dev, Flag.depleted)) {
        po.depleted++;
        lists[p].depletedAfterS.push((f[o + RecF64.depletedAtMs] - Math.max(0, on)) / 1000);
        continue;
      }
      if (on < 0 || !(endMs > on)) {
        po.notStarted++;
        continue;
      }
      po.lastPowerOnMs = Math.max(po.lastPowerOnMs, on);
      const l = lists[p];
      l.oneOffJ.push(f[o + RecF64.oneOffJ]);
      l.recurringJ.push(Math.max(0, f[o + RecF64.consumedJ] - f[o + RecF64.oneOffJ]));
      l.windowS.push((endMs - on) / 1000);
    }
    out.forEach((o, p) => {
      const l = lists[p];
      o.running = { oneOffJ: Float64Array.from(l.oneOffJ), recurringJ: Float64Array.from(l.recurringJ), windowS: Float64Array.from(l.windowS) };
      o.depletedAfterS = Float64Array.from(l.depletedAfterS);
      const nj = o.energyNJ;
      nj.cpu = this.totalNJ(p * 3 + Activity.cpu);
      nj.radio = this.totalNJ(p * 3 + Activity.radio);
      nj.ota = this.totalNJ(p * 3 + Activity.ota);
      // consumedJ counts state power and events together; the sleep share is what remains.
      const sleep = consumedSpill[p] + BigInt(consumedNJ[p]) - nj.cpu - nj.radio - nj.ota;
      nj.sleep = sleep > 0n ? sleep : 0n;
      o.energyJ = energyJOf(nj);
    });
    return out;
  }
}
