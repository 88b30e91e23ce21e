import { describe, expect, it } from 'vitest';
import {
  chargeToJoules,
  interpolate,
  LI_SOCL2_BOBBIN_D_RATE_DERATING,
  nominalEnergyJ,
  SECONDS_PER_YEAR,
  SELF_DISCHARGE_PER_YEAR,
  selfDischargeW,
  usableCapacityJ,
} from '../../src/models/battery.js';
import { nightReserveOk, solarAverageHarvestW, solarDailyEnergyJ } from '../../src/models/solar.js';

describe('battery capacity and derating', () => {
  it('interpolates linearly and clamps outside the table', () => {
    const t = { x: [0, 10, 20], y: [1, 0.5, 0.25], source: 'test' };
    expect(interpolate(t, -5)).toBe(1);
    expect(interpolate(t, 5)).toBeCloseTo(0.75, 12);
    expect(interpolate(t, 10)).toBe(0.5);
    expect(interpolate(t, 15)).toBeCloseTo(0.375, 12);
    expect(interpolate(t, 99)).toBe(0.25);
  });

  it('reproduces Linden: a D cell gives ~19 Ah at 4 mA and ~7 Ah at 35 mA', () => {
    expect(19 * interpolate(LI_SOCL2_BOBBIN_D_RATE_DERATING, 4)).toBeCloseTo(19, 9);
    expect(19 * interpolate(LI_SOCL2_BOBBIN_D_RATE_DERATING, 35)).toBeCloseTo(7, 9);
    expect(interpolate(LI_SOCL2_BOBBIN_D_RATE_DERATING, 1)).toBe(1); // µA-level drain: no rate loss
  });

  it('computes usable capacity C_nom * f_temp * f_rate * f_cutoff in joules', () => {
    const nominal = nominalEnergyJ(2.6, 3.6);
    expect(nominal).toBeCloseTo(33_696, 9);
    expect(usableCapacityJ(nominal, { fTemp: 0.9, fRate: 0.8, fCutoff: 0.95 })).toBeCloseTo(33_696 * 0.684, 6);
    expect(chargeToJoules(28.76e-3, 3.6)).toBeCloseTo(0.103536, 12);
  });

  it('turns a yearly self-discharge fraction into a constant power', () => {
    const nominal = nominalEnergyJ(2.6, 3.6);
    const w = selfDischargeW(nominal, SELF_DISCHARGE_PER_YEAR['li-socl2'].typical);
    expect(w * SECONDS_PER_YEAR).toBeCloseTo(336.96, 6); // 1% of 33 696 J per year
    for (const c of Object.values(SELF_DISCHARGE_PER_YEAR)) {
      expect(c.min).toBeLessThanOrEqual(c.typical);
      expect(c.typical).toBeLessThanOrEqual(c.max);
      expect(c.source.length).toBeGreaterThan(0);
    }
  });
});

describe('solar harvest', () => {
  it('E_day = P_peak * PSH * k, averaged over 24 h', () => {
    const panel = { peakW: 1, peakSunHours: 4, k: 0.6 };
    expect(solarDailyEnergyJ(panel)).toBeCloseTo(8640, 9);
    expect(solarAverageHarvestW(panel)).toBeCloseTo(0.1, 12);
    // 20 h without sun at 10 mW needs 720 J in the battery
    expect(nightReserveOk(panel, 0.01, 720)).toBe(true);
    expect(nightReserveOk(panel, 0.01, 719)).toBe(false);
  });
});
