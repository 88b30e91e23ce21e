import { describe, expect, test } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { largestRemainder, scaleScenario } from '../../src/scenario/scale.js';
import { FleetsimError } from '../../src/errors/fleetsim-error.js';

const scenario = (fleet: string, arrival = '{ rate: 100/s }') =>
  parseScenarioText(`
name: scale-me
seed: 3
duration: 30s
clock: virtual
fleet:
${fleet}
arrival: ${arrival}
behaviour:
  telemetry: { every: 10s }
thresholds:
  telemetry.ack.latency: ["p(99) < 250ms"]
`);

const MIX = scenario(`  - { profile: rpi4-gateway, count: 400 }
  - { profile: esp32-wifi-sensor, count: 550 }
  - { profile: rpi4-gateway, count: 50, link: wifi }`);

describe('largestRemainder', () => {
  test('splits exactly, floors first, leftovers to the largest remainders (ties to the earlier entry)', () => {
    expect(largestRemainder(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(largestRemainder(7, [40, 55, 5])).toEqual([3, 3, 1]);
    expect(largestRemainder(100, [40, 55, 5])).toEqual([40, 55, 5]);
    expect(largestRemainder(0, [1, 2])).toEqual([0, 0]);
  });

  test('gives every positive weight at least one unit when the total allows, taking from the largest part', () => {
    expect(largestRemainder(5, [400, 550, 50])).toEqual([2, 2, 1]);
    expect(largestRemainder(3, [1000, 1, 1])).toEqual([1, 1, 1]);
    expect(largestRemainder(2, [1000, 1, 1])).toEqual([2, 0, 0]);
  });

  test('totals are exact and parts are never negative, for many sizes and mixes', () => {
    const mixes = [[1], [3, 7], [400, 550, 50], [1, 1, 1, 1, 1, 1, 1], [999_999, 1], [5, 0, 5]];
    for (const w of mixes) {
      for (const total of [1, 2, 5, 7, 10, 99, 500, 4_999, 50_000, 500_000, 1_000_003]) {
        const parts = largestRemainder(total, w);
        expect(parts.reduce((a, b) => a + b, 0), `${total} over ${w}`).toBe(total);
        expect(parts.every((p) => Number.isInteger(p) && p >= 0)).toBe(true);
        expect(parts.every((p, i) => w[i] > 0 || p === 0), 'a zero weight gets nothing').toBe(true);
        const positive = w.filter((x) => x > 0).length;
        if (total >= positive) expect(parts.every((p, i) => w[i] === 0 || p >= 1)).toBe(true);
      }
    }
  });
});

describe('scaleScenario', () => {
  test('keeps the mix: each group within one device of its exact share, totals exact', () => {
    for (const size of [50, 500, 5_000, 50_000, 500_000, 12_345]) {
      const s = scaleScenario(MIX, size);
      expect(s.devices).toBe(size);
      expect(s.fleet.reduce((a, g) => a + g.count, 0)).toBe(size);
      s.fleet.forEach((g, k) => {
        const share = (size * MIX.fleet[k].count) / MIX.devices;
        expect(Math.abs(g.count - share), `group ${k} at ${size}`).toBeLessThan(1);
      });
    }
    expect(scaleScenario(MIX, 500_000).fleet.map((g) => g.count)).toEqual([200_000, 275_000, 25_000]);
    expect(scaleScenario(MIX, 5).fleet.map((g) => g.count)).toEqual([2, 2, 1]);
  });

  test('recomputes firstDevice contiguously and keeps profile, link and index', () => {
    const s = scaleScenario(MIX, 777);
    let next = 0;
    s.fleet.forEach((g, k) => {
      expect(g.firstDevice).toBe(next);
      expect([g.index, g.profile, g.link]).toEqual([MIX.fleet[k].index, MIX.fleet[k].profile, MIX.fleet[k].link]);
      next += g.count;
    });
  });

  test('scales the arrival rate (and a ramp) with the fleet, so the ramp-up takes the same time', () => {
    const s = scaleScenario(MIX, 10_000);
    expect(s.arrival.ratePerSec).toBeCloseTo(1000, 9);
    expect(s.devices / s.arrival.ratePerSec).toBeCloseTo(MIX.devices / MIX.arrival.ratePerSec, 9);
    const ramp = scenario('  - { profile: rpi4-gateway, count: 100 }', '{ rate: 10/s, rampTo: 50/s, over: 20s }');
    const r = scaleScenario(ramp, 1_000);
    expect(r.arrival).toEqual({ ratePerSec: 100, toRatePerSec: 500, overMs: 20_000 });
  });

  test('leaves out a group whose share rounds to zero only when the fleet is smaller than the number of groups', () => {
    const s = scaleScenario(MIX, 2);
    expect(s.fleet.map((g) => [g.index, g.count])).toEqual([[0, 1], [1, 1]]);
    expect(s.devices).toBe(2);
  });

  test('is pure: the input is unchanged, the output deep-frozen, everything else identical', () => {
    const before = JSON.stringify(MIX);
    const s = scaleScenario(MIX, 50_000);
    expect(JSON.stringify(MIX)).toBe(before);
    expect(Object.isFrozen(s) && Object.isFrozen(s.fleet) && Object.isFrozen(s.fleet[0]) && Object.isFrozen(s.arrival)).toBe(true);
    expect(s.thresholds).toEqual(MIX.thresholds);
    expect(s.behaviour).toEqual(MIX.behaviour);
    expect([s.name, s.seed, s.durationMs, s.clock]).toEqual([MIX.name, MIX.seed, MIX.durationMs, MIX.clock]);
    expect(scaleScenario(MIX, 50_000)).toEqual(s);
    expect(scaleScenario(MIX, MIX.devices)).toEqual(MIX);
  });

  test('refuses a size that is not a whole number of at least one', () => {
    for (const bad of [0, -5, 2.5, Number.NaN]) {
      expect(() => scaleScenario(MIX, bad)).toThrow(FleetsimError);
    }
  });
});
