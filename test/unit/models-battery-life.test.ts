import { describe, expect, it } from 'vitest';
import {
  averageLoadW,
  batteryLifeSeconds,
  batteryLifeYears,
  type DutyCycle,
} from '../../src/models/battery-life.js';
import { chargeToJoules, nominalEnergyJ, usableCapacityJ } from '../../src/models/battery.js';
import { type EnergyProfile, EnergyState, PowerState } from '../../src/models/energy.js';
import { jittered, uniform } from '../../src/models/rng.js';

// docs/models.md reference case: NB-IoT, one report every 15 min, 2.6 Ah Li-SOCl2 AA at 3.6 V, 80% derating.
const V = 3.6;
const usable = usableCapacityJ(nominalEnergyJ(2.6, V), { fTemp: 1, fRate: 1, fCutoff: 0.8 });

describe('battery life, docs/models.md reference case', () => {
  it('lasts ≈5.9 years with Røstad’s measured charges (28.76 mC per report, PSM 29.52 mC/h)', () => {
    const measured: DutyCycle = {
      sleepPowerW: chargeToJoules(29.52e-3, V) / 3600,
      events: [{ name: 'uplink 536 B', energyJ: chargeToJoules(28.76e-3, V), perDay: 96 }],
    };
    const years = batteryLifeYears({ usableCapacityJ: usable }, measured);
    expect(Math.abs(years - 5.9) / 5.9).toBeLessThan(0.03);
    expect(years).toBeCloseTo(5.909, 2);
  });

  it('lasts ≈1.4 years when every report costs the datasheet PSM TAU energy (550 mJ over 2.7 s)', () => {
    const datasheet: DutyCycle = {
      sleepPowerW: 0,
      events: [{ name: 'report as PSM TAU', energyJ: 0.55, perDay: 96, durationS: 2.7 }],
    };
    const years = batteryLifeYears({ usableCapacityJ: usable }, datasheet);
    expect(Math.abs(years - 1.4) / 1.4).toBeLessThan(0.03);
    // With the 2.7 µA PSM floor the answer moves to ≈1.38 years (still within 3% of the stated figure).
    const withFloor = batteryLifeYears({ usableCapacityJ: usable }, { ...datasheet, sleepPowerW: 2.7e-6 * V });
    expect(withFloor).toBeCloseTo(1.376, 2);
  });

  it('includes eta, self-discharge and harvest', () => {
    const duty: DutyCycle = { sleepPowerW: 1e-3, events: [] };
    expect(batteryLifeSeconds({ usableCapacityJ: 1000, eta: 0.5 }, duty)).toBeCloseTo(500_000, 6);
    expect(batteryLifeSeconds({ usableCapacityJ: 1000, selfDischargeW: 1e-3 }, duty)).toBeCloseTo(500_000, 6);
    expect(batteryLifeSeconds({ usableCapacityJ: 1000, harvestW: 2e-3 }, duty)).toBe(Infinity);
  });
});

describe('closed form vs event-by-event EnergyState', () => {
  // An LTE-M-like tracker: sleep floor, a 1.2 s TX burst per report, a TAU every 4th report.
  const sleepW = chargeToJoules(29.52e-3, V) / 3600;
  const boardW = 4.5e-6;
  const txW = 0.2;
  const txS = 1.2;
  const tauJ = 0.105;
  const eta = 0.9;
  const periodMs = 900_000;
  const profile = (capacityJ: number, selfW: number): EnergyProfile => ({
    statePowerW: [sleepW, sleepW, sleepW, sleepW, txW],
    boardOverheadW: boardW,
    eta,
    mains: false,
    usableCapacityJ: capacityJ,
    selfDischargeW: selfW,
  });
  const duty: DutyCycle = {
    sleepPowerW: sleepW + boardW,
    events: [
      { name: 'report', energyJ: (txW + boardW) * txS, perDay: 96, durationS: txS },
      { name: 'TAU', energyJ: tauJ, perDay: 24 },
    ],
  };
  const selfW = 2e-6;
  // Capacity sized so the battery runs dry after about 10,000 reports.
  const capacity = (averageLoadW(duty) / eta + selfW) * 10_000 * (periodMs / 1000);

  it('depletion time within 1% over ~10,000 jittered reports', () => {
    const devices = 8;
    const e = new EnergyState(devices, [profile(capacity, selfW)]);
    const closedMs = batteryLifeSeconds({ usableCapacityJ: capacity, eta, selfDischargeW: selfW }, duty) * 1000;
    for (let d = 0; d < devices; d++) {
      let t = 0;
      for (let n = 0; n < 20_000 && !e.isDepleted(d); n++) {
        t += jittered(periodMs, 0.1, uniform(7, d, 2, n)); // ±10% jitter, mean period kept
        e.setPowerState(d, PowerState.tx, t);
        e.setPowerState(d, PowerState.sleep, t + txS * 1000);
        if (n % 4 === 3) e.spend(d, tauJ);
      }
      e.advance(d, t + 2 * periodMs);
      expect(e.isDepleted(d)).toBe(true);
      const err = Math.abs(e.depletedAtMs[d] - closedMs) / closedMs;
      expect(err).toBeLessThan(0.01);
    }
  });

  it('consumed energy after 10,000 reports matches the average load within 1%', () => {
    const e = new EnergyState(1, [profile(1e9, 0)]);
    let t = 0;
    for (let n = 0; n < 10_000; n++) {
      e.setPowerState(0, PowerState.tx, t);
      e.setPowerState(0, PowerState.sleep, t + txS * 1000);
      if (n % 4 === 3) e.spend(0, tauJ);
      t += periodMs;
    }
    e.advance(0, t);
    const expected = (averageLoadW(duty) / eta) * (t / 1000);
    expect(Math.abs(e.consumedJ[0] - expected) / expected).toBeLessThan(0.01);
  });
});
