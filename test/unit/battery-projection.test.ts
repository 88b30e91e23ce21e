import { describe, expect, it } from 'vitest';
import { PROJECTION_MIN_CYCLES, projectProfile, recurringCycles } from '../../src/engine/results/battery-projection.js';
import type { EnergyProjection } from '../../src/fleet/energy-meter.js';
import { formatSpan } from '../../src/models/units.js';
import { parseScenarioText } from '../../src/scenario/load.js';

const scenario = (extra = '') =>
  parseScenarioText(`name: p
duration: 1h
clock: virtual
fleet: [{ profile: esp32-wifi-sensor, count: 10 }]
arrival: { rate: 10/s }
behaviour:
  telemetry: { every: 10s }
  poll: { every: 60s }
${extra}`);

/** `n` identical devices that each ran `windowS` drawing `recurringW` after `oneOffJ` of start-up. */
function profile(n: number, windowS: number, recurringW: number, oneOffJ: number, extra: Partial<EnergyProjection> = {}): EnergyProjection {
  return {
    profile: 'esp32-wifi-sensor',
    devices: n,
    batteryDevices: n,
    depleted: 0,
    capacityJ: 10_000,
    selfDischargeW: 0.001,
    running: { oneOffJ: Array(n).fill(oneOffJ), recurringJ: Array.from({ length: n }, (_, i) => recurringW * windowS * (1 + i / 100)), windowS: Array(n).fill(windowS) },
    depletedAfterS: [],
    notStarted: 0,
    lastPowerOnMs: 900,
    energyJ: { sleep: 0, cpu: 0, radio: 0, ota: 0 },
    energyNJ: { sleep: 0n, cpu: 0n, radio: 0n, ota: 0n },
    ...extra,
  };
}

describe('battery projection (closed form over the steady rate)', () => {
  it('the slowest recurring cycle decides: polls every 60 s over reports every 10 s', () => {
    expect(recurringCycles(scenario()).map((c) => [c.name, c.ms])).toEqual([
      ['reports', 10_000],
      ['polls', 60_000],
    ]);
  });

  it('per device when each window covers enough cycles: capacity less one-offs over rate plus self-discharge', () => {
    const r = projectProfile(profile(10, PROJECTION_MIN_CYCLES * 60, 0.01, 100), scenario(), 1_200_000);
    expect(r.basis.method).toBe('per-device');
    expect(r.lifetimesS[0]).toBeCloseTo((10_000 - 100) / (0.01 * 1.09 + 0.001), 6);
    expect(r.lifetimesS[9]).toBeCloseTo((10_000 - 100) / (0.01 + 0.001), 6);
    expect(r.basis.text).toMatch(/^from 20m simulated, steady state after 900ms \(the last power-on\); each device's own rate \(polls every 1m: at least 20 per device\)/);
  });

  it('pooled when only the devices together cover enough cycles; refused below that', () => {
    const pooled = projectProfile(profile(10, 2 * 60, 0.01, 100), scenario(), 120_000);
    expect(pooled.basis.method).toBe('pooled');
    expect(new Set(pooled.lifetimesS).size).toBe(1);
    expect(pooled.basis.cyclesPooled).toBeCloseTo(20, 9);
    const refused = projectProfile(profile(10, 1.9 * 60, 0.01, 100), scenario(), 114_000);
    expect(refused.basis.method).toBe('refused');
    expect(refused.lifetimesS.length).toBe(0);
    expect(refused.basis.text).toMatch(/^not projected: the run is too short to know/);
  });

  it('does not depend on the order of devices (shards merged in any split)', () => {
    const p = profile(10, 2 * 60, 0.01, 100);
    const q = { ...p, running: { oneOffJ: [...p.running.oneOffJ].reverse(), recurringJ: [...p.running.recurringJ].reverse(), windowS: [...p.running.windowS].reverse() } };
    expect(projectProfile(q, scenario(), 120_000)).toEqual(projectProfile(p, scenario(), 120_000));
  });

  it('adds OTA energy at the rate an update states (`recurs`)', () => {
    const s = scenario(`phases:\n  - at: 1m\n    update: { release: r2, size: 1MB, recurs: 10d }`);
    const otaJ = 10 * 50;
    const r = projectProfile(profile(10, PROJECTION_MIN_CYCLES * 60, 0.01, 100, { energyJ: { sleep: 0, cpu: 0, radio: 0, ota: otaJ } }), s, 1_200_000);
    expect(r.lifetimesS[9]).toBeCloseTo((10_000 - 100) / (0.01 + 0.001 + 50 / 864_000), 6);
    expect(r.basis.otaRecursEveryMs).toBe(864_000_000);
  });

  it('formats spans in one unit', () => {
    expect([850, 20_000, 90_000, 7_200_000, 86_400_000, 7 * 86_400_000, 3 * 365.25 * 86_400_000].map(formatSpan)).toEqual(['850ms', '20s', '1.5m', '2h', '24h', '7d', '3y']);
  });
});
